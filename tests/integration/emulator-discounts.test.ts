import Stripe from 'stripe'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { startStripeServer, type StripeServer } from '../support/stripe-server'

// Coupons, promotion codes, discounts and automatic tax in the payments emulator, driven
// through the official SDK, the hosted page's form posts and the test controls. Nothing is
// mocked. Amounts are worked out by hand in the comments next to them.

let server: StripeServer
let stripe: Stripe

beforeEach(async () => {
  server = await startStripeServer({ taxRates: { GB: 20, DE: 19, US: 0 } })
  stripe = new Stripe(server.secretKey, { host: server.host, port: server.port, protocol: 'http', telemetry: false, maxNetworkRetries: 0 })
})

afterEach(async () => {
  await server.close()
})

async function control<T = Record<string, unknown>>(name: string, body: unknown = {}): Promise<{ status: number; body: T }> {
  const res = await fetch(`${server.url}/emulator/test/${name}`, {
    method: 'POST',
    headers: { Authorization: `Bearer ${server.secretKey}`, 'Content-Type': 'application/json' },
    body: JSON.stringify(body),
  })
  return { status: res.status, body: (await res.json()) as T }
}

type TaxBehavior = 'inclusive' | 'exclusive'

/** Two lines, 2 × 12.50 and 1 × 30.00 (subtotal 55.00), shipping 5.00 or 15.00. */
function sessionParams(overrides: Partial<Stripe.Checkout.SessionCreateParams> = {}, behavior: TaxBehavior = 'exclusive'): Stripe.Checkout.SessionCreateParams {
  return {
    mode: 'payment',
    line_items: [
      { quantity: 2, price_data: { currency: 'usd', unit_amount: 1250, tax_behavior: behavior, product_data: { name: 'Mug', tax_code: 'txcd_99999999' } } },
      { quantity: 1, price_data: { currency: 'usd', unit_amount: 3000, tax_behavior: behavior, product_data: { name: 'Teapot' } } },
    ],
    shipping_address_collection: { allowed_countries: ['GB', 'DE', 'US', 'JP'] },
    shipping_options: [
      { shipping_rate_data: { display_name: 'Standard', type: 'fixed_amount', fixed_amount: { amount: 500, currency: 'usd' }, tax_behavior: behavior } },
      { shipping_rate_data: { display_name: 'Express', type: 'fixed_amount', fixed_amount: { amount: 1500, currency: 'usd' }, tax_behavior: behavior } },
    ],
    success_url: 'http://shop.test/checkout/success?session_id={CHECKOUT_SESSION_ID}',
    cancel_url: 'http://shop.test/cart',
    ...overrides,
  }
}

function address(country: string) {
  return { line1: '1 High Street', city: 'Town', postal_code: '12345', country }
}

async function postPage(sessionId: string, fields: Record<string, string>): Promise<Response> {
  return fetch(`${server.url}/emulator/checkout/${sessionId}`, {
    method: 'POST',
    body: new URLSearchParams(fields),
    headers: { 'Content-Type': 'application/x-www-form-urlencoded' },
    redirect: 'manual',
  })
}

const SHOPPER = { email: 'ada@example.com', name: 'Ada Lovelace', line1: '1 High Street', city: 'London', postal_code: 'N1 1AA', country: 'GB', shipping_rate: '0' }

function applyCode(sessionId: string, code: string, fields: Record<string, string> = {}): Promise<Response> {
  return postPage(sessionId, { ...SHOPPER, ...fields, action: 'apply_code', promotion_code: code })
}

function payOnPage(sessionId: string, fields: Record<string, string> = {}): Promise<Response> {
  return postPage(sessionId, { ...SHOPPER, card: '4242 4242 4242 4242', ...fields })
}

async function promoFor(coupon: Partial<Stripe.CouponCreateParams>, promo: Partial<Stripe.PromotionCodeCreateParams> = {}) {
  const created = await stripe.coupons.create({ percent_off: 20, ...coupon })
  const code = await stripe.promotionCodes.create({ promotion: { type: 'coupon', coupon: created.id }, ...promo })
  return { coupon: created, code }
}

describe('coupons', () => {
  it('creates, retrieves, updates, lists and deletes coupons, with Stripe-style errors', async () => {
    const now = Math.floor(Date.now() / 1000)
    const percent = await stripe.coupons.create({ percent_off: 12.5, duration: 'once', name: 'Spring', redeem_by: now + 3600, max_redemptions: 3, metadata: { campaign: 'spring' } })
    expect(percent).toMatchObject({ object: 'coupon', percent_off: 12.5, amount_off: null, currency: null, duration: 'once', name: 'Spring', redeem_by: now + 3600, max_redemptions: 3, times_redeemed: 0, valid: true, livemode: false })
    expect(percent.id).toMatch(/^[A-Z0-9]{8}$/)
    const amount = await stripe.coupons.create({ id: 'FIVE-OFF', amount_off: 500, currency: 'USD', applies_to: { products: ['prod_x'] } })
    expect(amount).toMatchObject({ id: 'FIVE-OFF', amount_off: 500, currency: 'usd', percent_off: null })
    // applies_to is sent only when expanded, as on Stripe.
    expect(amount).not.toHaveProperty('applies_to')
    expect((await stripe.coupons.retrieve('FIVE-OFF', { expand: ['applies_to'] })).applies_to).toEqual({ products: ['prod_x'] })
    expect((await stripe.coupons.retrieve(percent.id, { expand: ['applies_to'] })).applies_to).toEqual({ products: [] })

    expect(await stripe.coupons.retrieve('FIVE-OFF')).toMatchObject({ id: 'FIVE-OFF', amount_off: 500, currency: 'usd', valid: true })
    const renamed = await stripe.coupons.update(percent.id, { name: 'Spring sale', metadata: { campaign: '', owner: 'sam' } })
    expect(renamed).toMatchObject({ name: 'Spring sale', metadata: { owner: 'sam' }, percent_off: 12.5 })

    for (let i = 0; i < 3; i++) await stripe.coupons.create({ percent_off: 5 + i })
    const all = await stripe.coupons.list({ limit: 2 }).autoPagingToArray({ limit: 100 })
    expect(all).toHaveLength(5)
    expect(all.slice(-2).map((c) => c.id)).toEqual(['FIVE-OFF', percent.id])
    const firstPage = await stripe.coupons.list({ limit: 2 })
    expect(firstPage.has_more).toBe(true)

    expect(await stripe.coupons.del('FIVE-OFF')).toEqual({ id: 'FIVE-OFF', object: 'coupon', deleted: true })
    await expect(stripe.coupons.retrieve('FIVE-OFF')).rejects.toMatchObject({ statusCode: 404, code: 'resource_missing' })

    await expect(stripe.coupons.create({ amount_off: 500 })).rejects.toMatchObject({ statusCode: 400, param: 'currency' })
    await expect(stripe.coupons.create({ amount_off: 500, currency: 'usd', percent_off: 10 })).rejects.toMatchObject({ statusCode: 400, param: 'amount_off' })
    await expect(stripe.coupons.create({ name: 'Nothing off' })).rejects.toMatchObject({ statusCode: 400, param: 'percent_off' })
    await expect(stripe.coupons.create({ percent_off: 101 })).rejects.toMatchObject({ statusCode: 400, param: 'percent_off' })
    await expect(stripe.coupons.create({ percent_off: 10, redeem_by: now - 10 })).rejects.toMatchObject({ statusCode: 400, param: 'redeem_by' })
    await expect(stripe.coupons.create({ id: percent.id, percent_off: 10 })).rejects.toMatchObject({ statusCode: 400, code: 'resource_already_exists' })
  })

  it('replays a create with the same idempotency key and refuses the key with other params', async () => {
    const first = await stripe.coupons.create({ percent_off: 10 }, { idempotencyKey: 'coupon-once' })
    const again = await stripe.coupons.create({ percent_off: 10 }, { idempotencyKey: 'coupon-once' })
    expect(again.id).toBe(first.id)
    expect((await stripe.coupons.list()).data).toHaveLength(1)
    await expect(stripe.coupons.create({ percent_off: 15 }, { idempotencyKey: 'coupon-once' })).rejects.toMatchObject({ statusCode: 400, type: 'StripeIdempotencyError' })

    const promo = await stripe.promotionCodes.create({ promotion: { type: 'coupon', coupon: first.id }, code: 'ONCE' }, { idempotencyKey: 'promo-once' })
    const replay = await stripe.promotionCodes.create({ promotion: { type: 'coupon', coupon: first.id }, code: 'ONCE' }, { idempotencyKey: 'promo-once' })
    expect(replay.id).toBe(promo.id)
    await expect(stripe.promotionCodes.create({ promotion: { type: 'coupon', coupon: first.id }, code: 'TWICE' }, { idempotencyKey: 'promo-once' })).rejects.toMatchObject({
      statusCode: 400,
      type: 'StripeIdempotencyError',
    })
  })
})

describe('promotion codes', () => {
  it('creates codes under promotion.coupon with restrictions, filters lists, and keeps active codes unique regardless of case', async () => {
    const coupon = await stripe.coupons.create({ percent_off: 20 })
    const expiresAt = Math.floor(Date.now() / 1000) + 7200
    const code = await stripe.promotionCodes.create({
      promotion: { type: 'coupon', coupon: coupon.id },
      code: 'Summer20',
      expires_at: expiresAt,
      max_redemptions: 5,
      restrictions: { first_time_transaction: true, minimum_amount: 2000, minimum_amount_currency: 'usd' },
      metadata: { source: 'admin' },
    })
    expect(code).toMatchObject({
      object: 'promotion_code',
      code: 'Summer20',
      active: true,
      promotion: { type: 'coupon', coupon: coupon.id },
      expires_at: expiresAt,
      max_redemptions: 5,
      times_redeemed: 0,
      customer: null,
      restrictions: { first_time_transaction: true, minimum_amount: 2000, minimum_amount_currency: 'usd' },
      metadata: { source: 'admin' },
    })
    expect(code.id).toMatch(/^promo_/)
    const expanded = await stripe.promotionCodes.retrieve(code.id, { expand: ['promotion.coupon'] })
    expect((expanded.promotion.coupon as Stripe.Coupon).percent_off).toBe(20)

    await expect(stripe.promotionCodes.create({ promotion: { type: 'coupon', coupon: coupon.id }, code: 'SUMMER20' })).rejects.toMatchObject({ statusCode: 400, param: 'code' })
    const generated = await stripe.promotionCodes.create({ promotion: { type: 'coupon', coupon: coupon.id } })
    expect(generated.code).toMatch(/^[A-Z0-9]{8}$/)

    const off = await stripe.promotionCodes.update(code.id, { active: false, metadata: { note: 'paused' } })
    expect(off).toMatchObject({ active: false, metadata: { source: 'admin', note: 'paused' } })
    const replacement = await stripe.promotionCodes.create({ promotion: { type: 'coupon', coupon: coupon.id }, code: 'SUMMER20' })
    await expect(stripe.promotionCodes.update(code.id, { active: true })).rejects.toMatchObject({ statusCode: 400, param: 'active' })

    expect((await stripe.promotionCodes.list({ code: 'summer20' })).data.map((p) => p.id)).toEqual([replacement.id, code.id])
    expect((await stripe.promotionCodes.list({ active: false })).data.map((p) => p.id)).toEqual([code.id])
    const other = await stripe.coupons.create({ amount_off: 300, currency: 'usd' })
    const otherCode = await stripe.promotionCodes.create({ promotion: { type: 'coupon', coupon: other.id }, code: 'THREE' })
    expect((await stripe.promotionCodes.list({ coupon: other.id })).data.map((p) => p.id)).toEqual([otherCode.id])
    expect(await stripe.promotionCodes.list({ limit: 1 }).autoPagingToArray({ limit: 10 })).toHaveLength(4)

    await expect(stripe.promotionCodes.create({ promotion: { type: 'coupon', coupon: 'NOPE' } })).rejects.toMatchObject({ statusCode: 400, param: 'promotion[coupon]' })
    await expect(stripe.promotionCodes.create({ promotion: { type: 'coupon', coupon: coupon.id }, restrictions: { minimum_amount: 100 } })).rejects.toMatchObject({
      statusCode: 400,
      param: 'restrictions[minimum_amount_currency]',
    })
    await expect(stripe.promotionCodes.retrieve('promo_missing')).rejects.toMatchObject({ statusCode: 404 })
  })
})

describe('discounts on sessions', () => {
  it('splits a percent coupon across the lines in proportion and reports it in total_details, line items and the breakdown', async () => {
    const coupon = await stripe.coupons.create({ percent_off: 20, name: 'Twenty' })
    const session = await stripe.checkout.sessions.create(sessionParams({ discounts: [{ coupon: coupon.id }] }))
    // 20% of 55.00 = 11.00, split 25.00 : 30.00 -> 5.00 and 6.00; total 55.00 - 11.00 + 5.00 shipping.
    expect(session.discounts).toEqual([{ coupon: coupon.id, promotion_code: null }])
    expect(session.amount_subtotal).toBe(5500)
    expect(session.amount_total).toBe(4900)
    expect(session.total_details).toEqual({ amount_discount: 1100, amount_shipping: 500, amount_tax: 0 })

    const plain = await stripe.checkout.sessions.listLineItems(session.id)
    expect(plain.data.map((l) => [l.amount_subtotal, l.amount_discount, l.amount_total])).toEqual([
      [2500, 500, 2000],
      [3000, 600, 2400],
    ])
    expect(plain.data[0]).not.toHaveProperty('discounts')
    const items = await stripe.checkout.sessions.listLineItems(session.id, { expand: ['data.discounts'] })
    expect(items.data.map((l) => l.discounts!.map((d) => d.amount))).toEqual([[500], [600]])
    const discountObject = items.data[0]!.discounts![0]!.discount
    expect(discountObject).toMatchObject({ object: 'discount', checkout_session: session.id, promotion_code: null, source: { type: 'coupon', coupon: coupon.id } })

    const withBreakdown = await stripe.checkout.sessions.retrieve(session.id, { expand: ['total_details.breakdown', 'line_items.data.discounts'] })
    expect(withBreakdown.total_details?.breakdown).toEqual({ discounts: [{ amount: 1100, discount: discountObject }], taxes: [] })
    expect(withBreakdown.line_items!.data.map((l) => l.discounts![0]!.amount)).toEqual([500, 600])
    expect((await stripe.checkout.sessions.retrieve(session.id)).total_details).not.toHaveProperty('breakdown')

    const paid = await control<Stripe.Checkout.Session>('pay', { session: session.id, address: address('JP') })
    expect(paid.status).toBe(200)
    expect(paid.body.amount_total).toBe(4900)
    expect((await stripe.paymentIntents.retrieve(paid.body.payment_intent as string)).amount).toBe(4900)
    expect((await stripe.coupons.retrieve(coupon.id)).times_redeemed).toBe(1)
  })

  it('rounds a discount so the lines add up exactly: 12.5% and a fixed amount over uneven lines', async () => {
    const eighth = await stripe.coupons.create({ percent_off: 12.5 })
    const a = await stripe.checkout.sessions.create(sessionParams({ discounts: [{ coupon: eighth.id }] }))
    // 12.5% of 55.00 = 6.875 -> 6.88; 688 × 25/55 = 312.73 and 688 × 30/55 = 375.27: the spare cent goes to the larger remainder.
    const aLines = await stripe.checkout.sessions.listLineItems(a.id)
    expect(aLines.data.map((l) => l.amount_discount)).toEqual([313, 375])
    expect(a.total_details?.amount_discount).toBe(688)

    const dollar = await stripe.coupons.create({ amount_off: 100, currency: 'usd' })
    const thirds = await stripe.checkout.sessions.create(
      sessionParams({
        discounts: [{ coupon: dollar.id }],
        line_items: [333, 333, 334].map((unit, i) => ({ quantity: 1, price_data: { currency: 'usd', unit_amount: unit, product_data: { name: `Part ${i}` } } })),
      }),
    )
    // 1.00 over 3.33 / 3.33 / 3.34: 33.3, 33.3, 33.4 -> 33, 33, 34.
    const thirdLines = await stripe.checkout.sessions.listLineItems(thirds.id)
    expect(thirdLines.data.map((l) => l.amount_discount)).toEqual([33, 33, 34])
    expect(thirds.amount_total).toBe(1000 - 100 + 500)

    // An amount larger than the order takes the order to zero, never below.
    const big = await stripe.coupons.create({ amount_off: 100_000, currency: 'usd' })
    const free = await stripe.checkout.sessions.create(sessionParams({ discounts: [{ coupon: big.id }] }))
    expect(free.total_details?.amount_discount).toBe(5500)
    expect(free.amount_total).toBe(500)
  })

  it('refuses discounts together with allow_promotion_codes, and codes that cannot be redeemed', async () => {
    const { coupon, code } = await promoFor({}, { code: 'LATER', expires_at: Math.floor(Date.now() / 1000) + 3600 })
    await expect(stripe.checkout.sessions.create(sessionParams({ allow_promotion_codes: true, discounts: [{ coupon: coupon.id }] }))).rejects.toMatchObject({ statusCode: 400, param: 'discounts' })
    await expect(stripe.checkout.sessions.create(sessionParams({ discounts: [{ coupon: 'NOPE' }] }))).rejects.toMatchObject({ statusCode: 400, param: 'discounts[0][coupon]' })
    await control('advance-clock', { seconds: 3601 })
    await expect(stripe.checkout.sessions.create(sessionParams({ discounts: [{ promotion_code: code.id }] }))).rejects.toMatchObject({
      statusCode: 400,
      param: 'discounts[0][promotion_code]',
      message: expect.stringContaining('This code has expired.'),
    })
  })
})

describe('promotion codes on the payment page', () => {
  it('shows the code field only when allowed, applies a code, shows the discount and lets the shopper remove it', async () => {
    const closed = await stripe.checkout.sessions.create(sessionParams())
    expect(await (await fetch(closed.url!)).text()).not.toContain('Promotion code')

    const { code } = await promoFor({ percent_off: 20 }, { code: 'SUMMER20' })
    const session = await stripe.checkout.sessions.create(sessionParams({ allow_promotion_codes: true }))
    expect(session.allow_promotion_codes).toBe(true)
    const page = await (await fetch(session.url!)).text()
    expect(page).toContain('<label for="promotion_code">Promotion code</label>')
    expect(page).toContain('value="apply_code">Apply</button>')

    const applied = await applyCode(session.id, 'summer20')
    expect(applied.status).toBe(200)
    const html = await applied.text()
    expect(html).toContain('<strong>SUMMER20</strong> applied — 20% off')
    expect(html).toMatch(/id="discount-amount">−\$11\.00</)
    expect(html).toMatch(/id="total-amount">\$49\.00</)
    // What the shopper typed is kept (the card number never is).
    expect(html).toContain('value="Ada Lovelace"')

    const open = await stripe.checkout.sessions.retrieve(session.id)
    expect(open.discounts).toEqual([{ coupon: (code.promotion.coupon as string), promotion_code: code.id }])
    expect(open.total_details?.amount_discount).toBe(1100)

    const removed = await postPage(session.id, { ...SHOPPER, action: 'remove_code' })
    expect(removed.status).toBe(200)
    expect(await removed.text()).not.toContain('id="discount-amount"')
    const after = await stripe.checkout.sessions.retrieve(session.id)
    expect(after.discounts).toEqual([])
    expect(after.amount_total).toBe(6000)

    expect((await applyCode(session.id, 'SUMMER20')).status).toBe(200)
    const paid = await payOnPage(session.id)
    expect(paid.status).toBe(303)
    const done = await stripe.checkout.sessions.retrieve(session.id, { expand: ['total_details.breakdown'] })
    expect(done.total_details).toMatchObject({ amount_discount: 1100, breakdown: { discounts: [{ amount: 1100, discount: { promotion_code: code.id } }] } })
    expect((await stripe.promotionCodes.retrieve(code.id)).times_redeemed).toBe(1)
  })

  it('refuses each kind of unusable code with its own message and keeps the session open', async () => {
    const session = await stripe.checkout.sessions.create(sessionParams({ allow_promotion_codes: true }))
    const refusal = async (code: string, fields: Record<string, string> = {}) => {
      const res = await applyCode(session.id, code, fields)
      const html = await res.text()
      return { status: res.status, message: /<p class="field-error" id="promotion_code-error" role="alert">([^<]*)<\/p>/.exec(html)?.[1] ?? null }
    }
    const soon = Math.floor(Date.now() / 1000) + 3600

    expect(await refusal('NOSUCHCODE')).toEqual({ status: 422, message: 'This code is invalid.' })
    expect(await refusal('')).toEqual({ status: 422, message: 'Enter a promotion code.' })

    const paused = await promoFor({}, { code: 'PAUSED' })
    await stripe.promotionCodes.update(paused.code.id, { active: false })
    expect(await refusal('PAUSED')).toEqual({ status: 422, message: 'This code is invalid.' })

    await promoFor({}, { code: 'SHORTLIVED', expires_at: soon })
    await promoFor({ redeem_by: soon }, { code: 'OLDCOUPON' })

    await promoFor({}, { code: 'BIGSPEND', restrictions: { minimum_amount: 10_000, minimum_amount_currency: 'usd' } })
    expect(await refusal('BIGSPEND')).toEqual({ status: 422, message: 'This code needs an order of at least $100.00.' })

    await promoFor({ amount_off: 500, currency: 'eur', percent_off: undefined }, { code: 'EUROS' })
    expect(await refusal('EUROS')).toEqual({ status: 422, message: 'This code cannot be used with this currency.' })

    await promoFor({ applies_to: { products: ['prod_elsewhere'] } }, { code: 'OTHERSHOP' })
    expect(await refusal('OTHERSHOP')).toEqual({ status: 422, message: 'This code does not apply to any item in your order.' })

    // Used up: the code's own limit, then the coupon's limit shared by two codes.
    const single = await promoFor({}, { code: 'ONEUSE', max_redemptions: 1 })
    const first = await stripe.checkout.sessions.create(sessionParams({ allow_promotion_codes: true }))
    expect((await control('pay', { session: first.id, promotion_code: 'ONEUSE', address: address('US') })).status).toBe(200)
    expect((await stripe.promotionCodes.retrieve(single.code.id)).times_redeemed).toBe(1)
    expect(await refusal('ONEUSE')).toEqual({ status: 422, message: 'This code has reached its usage limit.' })
    const shared = await promoFor({ max_redemptions: 1 }, { code: 'SHARED-A' })
    await stripe.promotionCodes.create({ promotion: { type: 'coupon', coupon: shared.coupon.id }, code: 'SHARED-B' })
    const second = await stripe.checkout.sessions.create(sessionParams({ allow_promotion_codes: true }))
    expect((await control('pay', { session: second.id, promotion_code: 'SHARED-A', address: address('US') })).status).toBe(200)
    expect((await stripe.coupons.retrieve(shared.coupon.id)).valid).toBe(false)
    expect(await refusal('SHARED-B')).toEqual({ status: 422, message: 'This code has reached its usage limit.' })

    // First-time only: returning@example.com has a completed purchase.
    await promoFor({}, { code: 'WELCOME', restrictions: { first_time_transaction: true } })
    const returning = await stripe.checkout.sessions.create(sessionParams({ customer_email: 'returning@example.com' }))
    expect((await control('pay', { session: returning.id, address: address('US') })).status).toBe(200)
    expect(await refusal('WELCOME', { email: 'returning@example.com' })).toEqual({ status: 422, message: 'This code is only for first-time customers.' })

    await control('advance-clock', { seconds: 3601 })
    expect(await refusal('SHORTLIVED')).toEqual({ status: 422, message: 'This code has expired.' })
    expect(await refusal('OLDCOUPON')).toEqual({ status: 422, message: 'This code has expired.' })

    const still = await stripe.checkout.sessions.retrieve(session.id)
    expect(still).toMatchObject({ status: 'open', discounts: [], amount_total: 6000 })
    // A new shopper may use the welcome code; the control endpoint refuses like the page does.
    expect((await applyCode(session.id, 'WELCOME', { email: 'new@example.com' })).status).toBe(200)
    const viaControl = await control<{ error: { message: string } }>('pay', { session: session.id, promotion_code: 'WELCOME', email: 'returning@example.com', address: address('US') })
    expect(viaControl).toMatchObject({ status: 400, body: { error: { message: 'This code is only for first-time customers.' } } })
  })

  it('takes a code that ran out after it was applied off before paying, shows the new total, then pays', async () => {
    await promoFor({}, { code: 'LASTONE', max_redemptions: 1 })
    const a = await stripe.checkout.sessions.create(sessionParams({ allow_promotion_codes: true }))
    const b = await stripe.checkout.sessions.create(sessionParams({ allow_promotion_codes: true }))
    expect((await applyCode(a.id, 'LASTONE')).status).toBe(200)
    expect((await applyCode(b.id, 'LASTONE')).status).toBe(200)
    expect((await payOnPage(a.id)).status).toBe(303)

    const refused = await payOnPage(b.id)
    expect(refused.status).toBe(422)
    const html = await refused.text()
    expect(html).toContain('Your promotion code was removed: This code has reached its usage limit. Check the new total before paying.')
    // 55.00 + 5.00 shipping, no discount (these sessions have no automatic tax).
    expect(html).toMatch(/id="total-amount">\$60\.00</)
    const open = await stripe.checkout.sessions.retrieve(b.id)
    expect(open).toMatchObject({ status: 'open', discounts: [], total_details: { amount_discount: 0 } })
    expect((await payOnPage(b.id)).status).toBe(303)
    expect((await stripe.checkout.sessions.retrieve(b.id)).amount_total).toBe(6000)
  })

  it('counts a redemption once per completed session, including pay later and duplicate attempts', async () => {
    const { coupon, code } = await promoFor({}, { code: 'COUNTME' })
    const session = await stripe.checkout.sessions.create(sessionParams({ allow_promotion_codes: true }))
    expect((await applyCode(session.id, 'COUNTME')).status).toBe(200)
    const attempts = await Promise.all([control('pay', { session: session.id, address: address('US') }), control('pay', { session: session.id, address: address('US') })])
    expect(attempts.map((a) => a.status).sort()).toEqual([200, 400])
    expect((await control('pay', { session: session.id, address: address('US') })).status).toBe(400)

    const later = await stripe.checkout.sessions.create(sessionParams({ allow_promotion_codes: true }))
    expect((await applyCode(later.id, 'COUNTME')).status).toBe(200)
    expect((await payOnPage(later.id, { card: '', pay_later: '1' })).status).toBe(303)
    await control('advance-clock', { seconds: 10 })
    expect((await stripe.checkout.sessions.retrieve(later.id)).payment_status).toBe('paid')

    expect((await stripe.promotionCodes.retrieve(code.id)).times_redeemed).toBe(2)
    expect((await stripe.coupons.retrieve(coupon.id)).times_redeemed).toBe(2)
  })
})

describe('automatic tax', () => {
  it('adds exclusive tax at the shipping country rate on the discounted lines and shipping', async () => {
    const coupon = await stripe.coupons.create({ percent_off: 20 })
    const session = await stripe.checkout.sessions.create(sessionParams({ automatic_tax: { enabled: true }, discounts: [{ coupon: coupon.id }] }))
    expect(session.automatic_tax).toEqual({ enabled: true, liability: { type: 'self' }, provider: 'stripe', status: 'requires_location_inputs' })
    expect(session.total_details?.amount_tax).toBe(0)

    const paid = await control<Stripe.Checkout.Session>('pay', { session: session.id, address: address('GB') })
    // Lines after discount 20.00 and 24.00, shipping 5.00; 20% of each: 4.00 + 4.80 + 1.00.
    expect(paid.body.automatic_tax.status).toBe('complete')
    expect(paid.body.total_details).toEqual({ amount_discount: 1100, amount_shipping: 500, amount_tax: 980 })
    expect(paid.body.amount_total).toBe(5500 - 1100 + 500 + 980)
    expect(paid.body.shipping_cost).toMatchObject({ amount_subtotal: 500, amount_tax: 100, amount_total: 600 })

    const items = await stripe.checkout.sessions.listLineItems(session.id, { expand: ['data.taxes', 'data.discounts'] })
    expect(items.data.map((l) => [l.amount_subtotal, l.amount_discount, l.amount_tax, l.amount_total])).toEqual([
      [2500, 500, 400, 2400],
      [3000, 600, 480, 2880],
    ])
    const tax = items.data[0]!.taxes![0]!
    expect(tax).toMatchObject({ amount: 400, taxability_reason: 'standard_rated', taxable_amount: 2000, rate: { object: 'tax_rate', country: 'GB', percentage: 20, inclusive: false, display_name: 'VAT', tax_type: 'vat' } })
    expect(await stripe.taxRates.retrieve(tax.rate.id)).toMatchObject({ id: tax.rate.id, percentage: 20 })

    const full = await stripe.checkout.sessions.retrieve(session.id, { expand: ['total_details.breakdown'] })
    expect(full.total_details!.breakdown!.taxes).toEqual([{ amount: 980, rate: tax.rate, taxability_reason: 'standard_rated', taxable_amount: 4900 }])
    expect((await stripe.paymentIntents.retrieve(full.payment_intent as string)).amount).toBe(5880)

    // The webhook payload (the event's object) carries the totals, never the breakdown.
    const [event] = (await stripe.events.list({ type: 'checkout.session.completed' })).data
    const sent = event!.data.object as Stripe.Checkout.Session
    expect(sent.total_details).toEqual({ amount_discount: 1100, amount_shipping: 500, amount_tax: 980 })
    expect(sent.discounts).toEqual([{ coupon: coupon.id, promotion_code: null }])
    expect(sent.amount_total).toBe(5880)
    const listed = await stripe.checkout.sessions.list({ limit: 1 })
    expect(listed.data[0]).toMatchObject({ id: session.id, amount_total: 5880, total_details: { amount_tax: 980 } })
  })

  it('keeps inclusive tax inside the prices, and charges none where the rate is zero or not collected', async () => {
    const de = await stripe.checkout.sessions.create(sessionParams({ automatic_tax: { enabled: true } }, 'inclusive'))
    const paid = await control<Stripe.Checkout.Session>('pay', { session: de.id, address: address('DE') })
    // 19% inside 25.00, 30.00 and 5.00: 25.00 - 21.01 = 3.99, 30.00 - 25.21 = 4.79, 5.00 - 4.20 = 0.80.
    expect(paid.body.amount_total).toBe(6000)
    expect(paid.body.total_details).toEqual({ amount_discount: 0, amount_shipping: 500, amount_tax: 399 + 479 + 80 })
    const lines = await stripe.checkout.sessions.listLineItems(de.id, { expand: ['data.taxes'] })
    expect(lines.data.map((l) => [l.amount_tax, l.amount_total, l.taxes![0]!.taxable_amount])).toEqual([
      [399, 2500, 2101],
      [479, 3000, 2521],
    ])
    expect(lines.data[0]!.taxes![0]!.rate).toMatchObject({ country: 'DE', percentage: 19, inclusive: true })

    for (const [country, reason] of [
      ['US', 'zero_rated'],
      ['JP', 'not_collecting'],
    ] as const) {
      const session = await stripe.checkout.sessions.create(sessionParams({ automatic_tax: { enabled: true } }))
      const done = await control<Stripe.Checkout.Session>('pay', { session: session.id, address: address(country) })
      expect(done.body).toMatchObject({ amount_total: 6000, total_details: { amount_tax: 0 }, automatic_tax: { status: 'complete' } })
      const breakdown = (await stripe.checkout.sessions.retrieve(session.id, { expand: ['total_details.breakdown'] })).total_details!.breakdown!
      expect(breakdown.taxes.map((t) => [t.amount, t.taxability_reason, t.rate.country])).toEqual([[0, reason, country]])
    }
  })

  it('asks for the billing country when no shipping address is collected, and taxes from it', async () => {
    const session = await stripe.checkout.sessions.create(sessionParams({ automatic_tax: { enabled: true }, shipping_address_collection: undefined, shipping_options: undefined }))
    const html = await (await fetch(session.url!)).text()
    expect(html).toContain('<label for="country">Country</label>')
    expect(html).not.toContain('Address line 1')
    const paid = await postPage(session.id, { email: 'ada@example.com', name: 'Ada Lovelace', country: 'DE', card: '4242 4242 4242 4242' })
    expect(paid.status).toBe(303)
    // 19% of 25.00 and 30.00 = 4.75 + 5.70.
    const done = await stripe.checkout.sessions.retrieve(session.id)
    expect(done).toMatchObject({ amount_total: 5500 + 1045, total_details: { amount_tax: 1045, amount_shipping: 0 }, customer_details: { address: { country: 'DE' } } })
  })

  it('shows subtotal, discount, shipping, tax and total on the page, and quotes them again for another country', async () => {
    const { coupon } = await promoFor({ percent_off: 20 }, { code: 'TAXED' })
    const session = await stripe.checkout.sessions.create(sessionParams({ automatic_tax: { enabled: true }, allow_promotion_codes: true }))
    const first = await (await fetch(session.url!)).text()
    // The first allowed country (GB) is preselected: 55.00 + 5.00 + 20% = 72.00.
    expect(first).toMatch(/id="tax-label">Tax \(VAT 20%\)</)
    expect(first).toMatch(/id="tax-amount">\$12\.00</)
    expect(first).toMatch(/id="total-amount">\$72\.00</)

    const applied = await (await applyCode(session.id, 'TAXED', { shipping_rate: '1' })).text()
    // 44.00 + 15.00 express = 59.00, plus 20% = 70.80.
    expect(applied).toMatch(/id="subtotal-amount">\$55\.00</)
    expect(applied).toMatch(/id="discount-amount">−\$11\.00</)
    expect(applied).toMatch(/id="shipping-amount">\$15\.00</)
    expect(applied).toMatch(/id="tax-amount">\$11\.80</)
    expect(applied).toMatch(/id="total-amount">\$70\.80</)

    const quote = await fetch(`${server.url}/emulator/checkout/${session.id}/quote?country=DE&shipping_rate=1`)
    expect(quote.status).toBe(200)
    // 59.00 at 19% = 11.21.
    expect(await quote.json()).toEqual({ subtotal: '$55.00', discount: '−$11.00', shipping: '$15.00', tax: '$11.21', taxLabel: 'Tax (VAT 19%)', total: '$70.21' })

    expect((await payOnPage(session.id, { country: 'DE', shipping_rate: '1' })).status).toBe(303)
    const paid = await stripe.checkout.sessions.retrieve(session.id)
    expect(paid).toMatchObject({ amount_total: 7021, total_details: { amount_discount: 1100, amount_shipping: 1500, amount_tax: 1121 } })
    expect(paid.discounts).toEqual([{ coupon: coupon.id, promotion_code: expect.stringMatching(/^promo_/) }])
  })

  it('pays a foreign session (a payment link) with a coupon and tax, as the reconciliation tests need', async () => {
    const coupon = await stripe.coupons.create({ amount_off: 1000, currency: 'usd' })
    const foreign = await control<Stripe.Checkout.Session>('foreign-session', {
      line_items: [{ name: 'Blanket', unit_amount: 6000, quantity: 1 }],
      shipping: { amount: 500 },
      address: { country: 'GB' },
      coupon: coupon.id,
      automatic_tax: true,
    })
    expect(foreign.status).toBe(200)
    // 60.00 - 10.00 = 50.00 and 5.00 shipping, 20% on both: 11.00.
    expect(foreign.body).toMatchObject({ status: 'complete', amount_total: 6600, total_details: { amount_discount: 1000, amount_shipping: 500, amount_tax: 1100 } })
    expect((await stripe.coupons.retrieve(coupon.id)).times_redeemed).toBe(1)
  })
})
