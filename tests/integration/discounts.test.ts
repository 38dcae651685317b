import { eq, sql } from 'drizzle-orm'
import type Stripe from 'stripe'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { write } from '@/db'
import { orderLines, orders as ordersTable, products } from '@/db/schema'
import * as checkout from '@/lib/checkout'
import * as discounts from '@/lib/discounts'
import { resetEnv } from '@/lib/env'
import { InvalidInput } from '@/lib/errors'
import * as orders from '@/lib/orders'
import * as payments from '@/lib/payments'
import { insertCart, insertVariant } from '../support/catalog-rows'
import { ENGINES, useEngine } from '../support/engines'
import { startPaymentsEnv, type PaymentsEnv } from '../support/payments-env'
import { promotionForm } from '../support/promotion-form'

// Discount codes and Stripe Tax through the real SDK and the local Stripe-compatible server:
// the owner's code is created at Stripe, the shopper enters it on Stripe's page, and the order
// keeps what Stripe charged, never a figure of its own. The store's own count of paid orders
// per code runs on both engines (the rest needs order intake, on SQLite).

let env: PaymentsEnv
beforeEach(async () => {
  env = await startPaymentsEnv()
})
afterEach(async () => {
  delete process.env.STRIPE_TAX
  delete process.env.STRIPE_TAX_BEHAVIOR
  resetEnv()
  await env.close()
})

const owner = { id: 1, email: 'owner@till.test' }
const form = promotionForm

const GB = { line1: '10 Downing Street', city: 'London', postal_code: 'SW1A 2AA', country: 'GB' }

/** The shopper enters `code` on Stripe's page (null when accepted, else why not), as the hosted page does. */
function entersCode(sessionId: string, code: string): string | null {
  return env.stripeServer.emulator.applyPromotionCode(sessionId, code, 'sam@example.com')?.message ?? null
}

function taxOn(behavior: 'exclusive' | 'inclusive' = 'exclusive') {
  process.env.STRIPE_TAX = 'on'
  process.env.STRIPE_TAX_BEHAVIOR = behavior
  resetEnv()
}

async function session(id: string): Promise<Stripe.Checkout.Session> {
  return env.stripe.checkout.sessions.retrieve(id, { expand: ['line_items'] })
}

describe('discounts: the owner manages codes at Stripe', () => {
  it('creates a code with its coupon once, however often the same form is submitted, and audits it once', async () => {
    const input = form({ maxRedemptions: '5', minimumAmount: '30', isFirstOrderOnly: true, expiresOn: '2099-12-31' })
    const [first, second] = await Promise.all([discounts.create(owner, input), discounts.create(owner, input)])
    expect(second.id).toBe(first.id)
    const codes = await env.stripe.promotionCodes.list({ limit: 100 })
    expect(codes.data).toHaveLength(1)
    expect(codes.data[0]).toMatchObject({ code: 'SPRING20', active: true, max_redemptions: 5, expires_at: Date.parse('2099-12-31T23:59:59Z') / 1000, restrictions: { first_time_transaction: true, minimum_amount: 3000 } })
    const coupons = await env.stripe.coupons.list({ limit: 100 })
    expect(coupons.data).toHaveLength(1)
    expect(coupons.data[0]).toMatchObject({ percent_off: 20, duration: 'once' })
    const overview = await discounts.overview()
    expect(overview.codes).toMatchObject([{ code: 'SPRING20', paidOrders: 0, timesRedeemed: 0, coupon: { percentOff: 20 } }])
    const audited = env.t.db.$client.prepare(`SELECT action, subject FROM audit_log`).all()
    expect(audited).toEqual([{ action: 'discount.create', subject: `promotion_code:${first.id}` }])
  })

  it('refuses bad input and a taken code with a message, and deactivates a code', async () => {
    await expect(discounts.create(owner, form({ amount: '150' }))).rejects.toThrow(InvalidInput)
    await expect(discounts.create(owner, form({ nonce: 'x' }))).rejects.toThrow(/form has expired/)
    // the same form sent again after an edit: refused with a message, nothing more made
    const sent = form({ code: 'ONCE10', amount: '10' })
    await discounts.create(owner, sent)
    await expect(discounts.create(owner, { ...sent, amount: '15' })).rejects.toThrow(/already sent with other values/)
    expect((await env.stripe.promotionCodes.list({ limit: 100 })).data.map((c) => c.code)).toEqual(['ONCE10'])
    const code = await discounts.create(owner, form())
    await expect(discounts.create(owner, form())).rejects.toThrow(InvalidInput)
    await expect(discounts.deactivate(owner, 'promo_doesnotexist')).rejects.toThrow(/does not exist/)
    const off = await discounts.deactivate(owner, code.id)
    expect(off).toMatchObject({ code: 'SPRING20', isActive: false })
    const { sessionId } = await checkout.start(insertCart([{ variantId: insertVariant().variantId, quantity: 1 }]))
    expect(entersCode(sessionId, 'SPRING20')).toMatch(/.+/)
  })
})

describe('checkout with a code and Stripe Tax', () => {
  it('sessions allow codes and carry no tax settings while STRIPE_TAX is off; the order has no tax', async () => {
    const { variantId } = insertVariant({ priceCents: 2500 })
    const { sessionId } = await checkout.start(insertCart([{ variantId, quantity: 2 }]))
    const created = await session(sessionId)
    expect(created.allow_promotion_codes).toBe(true)
    expect(created.automatic_tax.enabled).toBe(false)
    env.stripeServer.emulator.control.pay({ session: sessionId, address: GB })
    await orders.syncSession(sessionId)
    const order = env.t.db.select().from(ordersTable).get()!
    const paid = await session(sessionId)
    expect(order).toMatchObject({ totalCents: paid.amount_total, taxCents: 0, discountCents: 0, discountCodes: [] })
  })

  it('a 20% code and exclusive tax: the order, its lines and its totals are exactly the session\'s, read in one request', async () => {
    taxOn('exclusive')
    await discounts.create(owner, form())
    const { variantId: plain } = insertVariant({ priceCents: 2500 })
    const { variantId: book, productId } = insertVariant({ priceCents: 1999 })
    write((tx) => tx.update(products).set({ taxCode: 'txcd_35010000' }).where(eq(products.id, productId)).run())
    const { sessionId } = await checkout.start(insertCart([{ variantId: plain, quantity: 2 }, { variantId: book, quantity: 1 }]))
    const created = await env.stripe.checkout.sessions.retrieve(sessionId, { expand: ['shipping_options.shipping_rate'] })
    expect(created.automatic_tax.enabled).toBe(true)
    expect(created.shipping_options.map((o) => (o.shipping_rate as Stripe.ShippingRate).tax_behavior)).toEqual(['exclusive', 'exclusive'])
    const items = await env.stripe.checkout.sessions.listLineItems(sessionId, { expand: ['data.price.product'] })
    expect(items.data.map((i) => [(i.price!.product as Stripe.Product).tax_code, i.price!.tax_behavior])).toEqual([
      ['txcd_99999999', 'exclusive'],
      ['txcd_35010000', 'exclusive'],
    ])

    expect(entersCode(sessionId, 'spring20')).toBeNull()
    env.stripeServer.emulator.control.pay({ session: sessionId, address: GB })
    const before = env.stripeServer.storeRequests().length
    await orders.syncSession(sessionId)
    expect(env.stripeServer.storeRequests().length - before).toBe(1)

    const paid = await session(sessionId)
    expect(paid.total_details!.amount_discount).toBeGreaterThan(0)
    expect(paid.total_details!.amount_tax).toBeGreaterThan(0)
    const order = env.t.db.select().from(ordersTable).get()!
    expect(order).toMatchObject({
      totalCents: paid.amount_total,
      subtotalCents: paid.amount_subtotal,
      discountCents: paid.total_details!.amount_discount,
      taxCents: paid.total_details!.amount_tax,
      shippingCents: paid.shipping_cost!.amount_subtotal,
      discountCodes: ['SPRING20'],
      isTaxInclusive: false,
    })
    const lines = env.t.db.select().from(orderLines).all()
    expect(lines.map((l) => [l.subtotalCents, l.discountCents, l.taxCents, l.totalCents])).toEqual(paid.line_items!.data.map((i) => [i.amount_subtotal, i.amount_discount, i.amount_tax, i.amount_total]))
    expect((await discounts.paidOrdersByCode()).get('spring20')).toBe(1)
    const overview = await discounts.overview()
    expect(overview.codes[0]).toMatchObject({ code: 'SPRING20', paidOrders: 1, timesRedeemed: 1 })
  })

  it('inclusive tax stays inside the prices: the total is what the shopper saw, the tax is marked included', async () => {
    taxOn('inclusive')
    const { variantId } = insertVariant({ priceCents: 6000 })
    const { sessionId } = await checkout.start(insertCart([{ variantId, quantity: 1 }]))
    env.stripeServer.emulator.control.pay({ session: sessionId, address: GB })
    await orders.syncSession(sessionId)
    const paid = await session(sessionId)
    expect(paid.total_details!.amount_tax).toBeGreaterThan(0)
    const order = env.t.db.select().from(ordersTable).get()!
    expect(order).toMatchObject({ totalCents: paid.amount_total, taxCents: paid.total_details!.amount_tax, isTaxInclusive: true })
    expect(order.totalCents).toBe(order.subtotalCents + order.shippingCents)
  })
})

describe('the cart says what checkout will add', () => {
  it('nothing about tax while it is off; tax added or included when on', () => {
    expect(checkout.priceNotes().join(' ')).not.toMatch(/tax/i)
    taxOn('exclusive')
    expect(checkout.priceNotes()).toContain('Tax calculated at checkout.')
    taxOn('inclusive')
    expect(checkout.priceNotes()).toContain('Prices include tax.')
  })
})

describe('discounts: Stripe refuses a taken code', () => {
  it('says the code already exists, and leaves no coupon behind however often it is retried', async () => {
    await discounts.create(owner, form({ code: 'WELCOME20' }))
    for (const code of ['WELCOME20', 'welcome20', 'Welcome20']) {
      // a fresh form each time, as the page renders one after a refusal
      await expect(discounts.create(owner, form({ code, amount: '10' }))).rejects.toThrow(new RegExp(`^A code ${code} already exists at Stripe .*nothing was created`, 'i'))
    }
    expect((await env.stripe.promotionCodes.list({ limit: 100 })).data.map((c) => c.code)).toEqual(['WELCOME20'])
    expect((await env.stripe.coupons.list({ limit: 100 })).data).toHaveLength(1)
  })

  it('removes the coupon when the code is taken between the check and the create', async () => {
    const results = await Promise.allSettled([discounts.create(owner, form({ code: 'RACE10' })), discounts.create(owner, form({ code: 'RACE10' })), discounts.create(owner, form({ code: 'race10' }))])
    expect(results.filter((r) => r.status === 'fulfilled')).toHaveLength(1)
    for (const r of results) if (r.status === 'rejected') expect(String(r.reason)).toMatch(/A code RACE10 already exists at Stripe/i)
    expect((await env.stripe.promotionCodes.list({ limit: 100 })).data).toHaveLength(1)
    expect((await env.stripe.coupons.list({ limit: 100 })).data).toHaveLength(1)
  })

  it('tells a refusal by the error Stripe sent, whichever copy of the SDK made it', () => {
    // Next bundles the SDK more than once; an error from another copy is no instance of this one's classes.
    const foreign = Object.assign(new Error('An active promotion code with `code: X` already exists.'), { type: 'StripeInvalidRequestError', rawType: 'invalid_request_error', code: 'resource_already_exists' })
    expect(payments.invalidRequestMessage(foreign)).toBe(foreign.message)
    expect(payments.isIdempotencyConflict(Object.assign(new Error('x'), { type: 'StripeIdempotencyError' }))).toBe(true)
    expect(payments.invalidRequestMessage(new Error('socket hang up'))).toBeNull()
  })
})

describe.each(ENGINES)('discounts: the store’s count of paid orders per code on %s', (name) => {
  const engine = useEngine(name)

  it('counts the paid orders that used each code, whatever the case, and the discounts page shows it beside Stripe’s figures', async () => {
    const insert = (key: string, status: string, codes: string[], paidAt: number | null) =>
      engine.rows(sql`
        INSERT INTO orders (stripe_checkout_session_id, public_token, status, total_cents, currency, discount_codes, paid_at, created_at, updated_at)
        VALUES (${`cs_${key}`}, ${`tok_${key}`}, ${status}, 1000, 'usd', ${JSON.stringify(codes)}, ${paidAt}, 1, 1)
        RETURNING id`)
    await insert('1', 'paid', ['SPRING20'], 1)
    await insert('2', 'refunded', ['spring20', 'VIP'], 2)
    await insert('3', 'awaiting_payment', ['SPRING20'], null)
    await insert('4', 'paid', [], 3)
    expect(Object.fromEntries(await discounts.paidOrdersByCode())).toEqual({ spring20: 2, vip: 1 })
    await discounts.create(owner, form())
    const overview = await discounts.overview()
    const counted = await engine.count(sql`SELECT count(*) AS n FROM orders WHERE paid_at IS NOT NULL AND lower(CAST(discount_codes AS text)) LIKE '%"spring20"%'`)
    expect(counted).toBe(2)
    expect(overview.codes.map((c) => [c.code, c.paidOrders, c.timesRedeemed])).toEqual([['SPRING20', counted, 0]])
  })
})
