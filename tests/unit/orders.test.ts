import { eq } from 'drizzle-orm'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { write } from '@/db'
import { transaction } from '@/db/tx'
import { carts, jobs, orderLines, orders as ordersTable, stockHolds, variants } from '@/db/schema'
import * as inventory from '@/lib/inventory'
import * as orders from '@/lib/orders'
import type { CheckoutFacts, DisputeState } from '@/lib/payments'
import { checkoutFacts } from '@/lib/payments/stripe'
import { insertCart, insertVariant } from '../support/catalog-rows'
import { freshDb, type TestDb } from '../support/db'
import { lineItemObject, paymentIntentObject, sessionObject } from '../support/stripe-objects'

let t: TestDb
beforeEach(() => {
  t = freshDb()
})
afterEach(() => t.close())

function held(variantId: number, quantity: number) {
  const cartId = insertCart([{ variantId, quantity }])
  const session = sessionObject({ metadata: { cart_id: cartId }, amount_total: 2500 * quantity + 500, amount_subtotal: 2500 * quantity })
  const ids = write((tx) => inventory.placeHolds(tx, { cartId, expiresAt: Date.now() + 1_800_000, lines: [{ variantId, quantity }] }))
  write((tx) => inventory.attachSession(tx, ids, session.id))
  return { cartId, session, items: [lineItemObject({ variantId, quantity, unitAmount: 2500, description: 'Harbor Mug' })] }
}

/** Applies Stripe's facts in a transaction of their own, as the intake does. */
const apply = (facts: CheckoutFacts) => transaction((tx, tables) => orders.applyingSession(tx, tables, facts))

const stockOf = (variantId: number) => t.db.select().from(variants).where(eq(variants.id, variantId)).get()!.stock

describe('orders.applyingSession', () => {
  it('records one paid order from the session, converts holds, converts the cart, enqueues one email', async () => {
    const { variantId } = insertVariant({ stock: 5 })
    const { cartId, session, items } = held(variantId, 2)
    const first = await apply(checkoutFacts(session, items))
    const second = await apply(checkoutFacts(session, items))
    expect(first.created).toBe(true)
    expect(second).toMatchObject({ created: false, orderId: first.orderId })
    const all = t.db.select().from(ordersTable).all()
    expect(all).toHaveLength(1)
    expect(all[0]).toMatchObject({ status: 'paid', totalCents: 5500, subtotalCents: 5000, shippingCents: 500, email: 'shopper@example.com' })
    expect(all[0]!.shippingAddress).toMatchObject({ city: 'Portland', country: 'US' })
    expect(t.db.select().from(orderLines).all()).toMatchObject([{ variantId, quantity: 2, unitAmountCents: 2500, totalCents: 5000 }])
    expect(stockOf(variantId)).toBe(3)
    expect(t.db.select().from(stockHolds).get()!.status).toBe('converted')
    expect(t.db.select().from(carts).where(eq(carts.id, cartId)).get()!.status).toBe('converted')
    expect(t.db.select().from(jobs).where(eq(jobs.kind, 'mail.order_confirmation')).all()).toHaveLength(1)
  })

  it('stores a new order as drizzle would: no address as SQL NULL, codes as JSON, flags as 0/1, a line linked to its variant and SKU', async () => {
    const { variantId } = insertVariant({ stock: 5 })
    const sku = t.db.select({ sku: variants.sku }).from(variants).where(eq(variants.id, variantId)).get()!.sku
    const session = sessionObject({ amount_total: 2500, amount_subtotal: 2500, collected_information: null, metadata: { cart_id: insertCart([{ variantId, quantity: 1 }]) } })
    const facts = { ...checkoutFacts(session, [lineItemObject({ variantId, quantity: 1, unitAmount: 2500, description: 'Harbor Mug' })]), discountCodes: ['SPRING10'], isTaxInclusive: true }
    const { orderId } = await apply(facts)
    const raw = t.db.$client.prepare('SELECT shipping_address, discount_codes, is_tax_inclusive, typeof(shipping_address) AS address_type FROM orders WHERE id = ?').get(orderId)
    expect(raw).toEqual({ shipping_address: null, discount_codes: '["SPRING10"]', is_tax_inclusive: 1, address_type: 'null' })
    expect(t.db.select().from(ordersTable).get()).toMatchObject({ shippingAddress: null, discountCodes: ['SPRING10'], isTaxInclusive: true, status: 'paid' })
    expect(t.db.select().from(orderLines).all()).toEqual([expect.objectContaining({ orderId, variantId, sku, title: 'Harbor Mug', quantity: 1, unitAmountCents: 2500, totalCents: 2500 })])
  })

  it('an unpaid (async) completion awaits payment, keeps the hold, then a paid session moves it forward once', async () => {
    const { variantId } = insertVariant({ stock: 5 })
    const { session, items } = held(variantId, 1)
    await apply(checkoutFacts({ ...session, payment_status: 'unpaid' }, items))
    expect(t.db.select().from(ordersTable).get()!.status).toBe('awaiting_payment')
    expect(inventory.availableOne(variantId)).toBe(4)
    expect(stockOf(variantId)).toBe(5)
    await apply(checkoutFacts(session, items))
    await apply(checkoutFacts(session, items))
    expect(t.db.select().from(ordersTable).get()!.status).toBe('paid')
    expect(stockOf(variantId)).toBe(4)
    expect(t.db.select().from(jobs).all()).toHaveLength(1)
    // a late "unpaid" replay never moves it back
    await apply(checkoutFacts({ ...session, payment_status: 'unpaid' }, items))
    expect(t.db.select().from(ordersTable).get()!.status).toBe('paid')
  })

  it('async failure marks the order failed and releases its hold', async () => {
    const { variantId } = insertVariant({ stock: 5 })
    const { session, items } = held(variantId, 2)
    await apply(checkoutFacts({ ...session, payment_status: 'unpaid', payment_intent: paymentIntentObject({ status: 'processing', amount: 5500 }) }, items))
    expect(inventory.availableOne(variantId)).toBe(3)
    await apply(checkoutFacts({ ...session, payment_status: 'unpaid', payment_intent: paymentIntentObject({ status: 'requires_payment_method', amount: 5500 }) }, items))
    expect(t.db.select().from(ordersTable).get()!.status).toBe('payment_failed')
    expect(inventory.availableOne(variantId)).toBe(5)
    expect(stockOf(variantId)).toBe(5)
    expect(t.db.select().from(jobs).all()).toHaveLength(0)
  })

  it('a paid Payment Link session (no cart) decrements stock directly, and flags a short sale as oversold', async () => {
    const { variantId } = insertVariant({ stock: 1 })
    const session = sessionObject({ amount_total: 5000, payment_link: 'plink_test_1' })
    await apply(checkoutFacts(session, [lineItemObject({ variantId, quantity: 2, unitAmount: 2500 })]))
    const order = t.db.select().from(ordersTable).get()!
    expect(order.status).toBe('paid')
    expect(order.isOversold).toBe(true)
    expect(stockOf(variantId)).toBe(0)
  })

  it('keeps a line whose variant no longer exists, unlinked', async () => {
    const session = sessionObject({ amount_total: 1000, payment_link: 'plink_test_1' })
    await apply(checkoutFacts(session, [lineItemObject({ variantId: 999_999, quantity: 1, unitAmount: 1000, description: 'Old thing' })]))
    expect(t.db.select().from(orderLines).get()).toMatchObject({ variantId: null, title: 'Old thing' })
  })

  it('refunds keep the total, track the running refunded amount, and never go backwards', async () => {
    const { variantId } = insertVariant({ stock: 5 })
    const { session, items } = held(variantId, 2)
    await apply(checkoutFacts(session, items))
    const refunded = (cents: number) => checkoutFacts({ ...session, payment_intent: paymentIntentObject({ amount: 5500, amountRefunded: cents }) }, [], { hasLines: false })
    await apply(refunded(1000))
    expect(t.db.select().from(ordersTable).get()).toMatchObject({ status: 'partially_refunded', refundedCents: 1000, totalCents: 5500 })
    await apply(refunded(5500))
    await apply(refunded(1000)) // a stale read
    expect(t.db.select().from(ordersTable).get()).toMatchObject({ status: 'refunded', refundedCents: 5500 })
    // the webhook alone never restocks
    expect(stockOf(variantId)).toBe(3)
  })

  it('records the discount, the codes, the tax and each line\'s share as Stripe reported them, once', async () => {
    const { variantId } = insertVariant({ stock: 5 })
    const { session, items } = held(variantId, 2)
    // $50.00 of goods, 20% off with SPRING20, $5.00 shipping, 8% tax on the rest: Stripe's numbers.
    const discounted = {
      ...session,
      amount_subtotal: 5000,
      amount_total: 4852,
      shipping_cost: { amount_total: 540, amount_subtotal: 500, amount_tax: 40, shipping_rate: null },
      total_details: { amount_discount: 1000, amount_shipping: 500, amount_tax: 352 },
      discounts: [{ coupon: 'cpn_1', promotion_code: { id: 'promo_1', object: 'promotion_code', code: 'SPRING20' } }],
    } as unknown as typeof session
    const lines = [{ ...items[0]!, amount_discount: 1000, amount_tax: 312, amount_total: 4312 }]
    const f = checkoutFacts(discounted, lines)
    expect(f).toMatchObject({ amountTotalCents: 4852, discountCents: 1000, taxCents: 352, shippingCents: 500, isTaxInclusive: false, discountCodes: ['SPRING20'] })
    await apply(f)
    // a replay, and a later read without line items, leave the same row
    await apply(f)
    await apply(checkoutFacts(discounted, [], { hasLines: false }))
    const order = t.db.select().from(ordersTable).get()!
    expect(order).toMatchObject({ totalCents: 4852, subtotalCents: 5000, discountCents: 1000, discountCodes: ['SPRING20'], taxCents: 352, shippingCents: 500, isTaxInclusive: false })
    expect(t.db.select().from(orderLines).all()).toMatchObject([{ subtotalCents: 5000, discountCents: 1000, taxCents: 312, totalCents: 4312 }])
    expect(orders.totalsOf(order).map((r) => [r.label, r.cents])).toEqual([
      ['Subtotal', 5000],
      ['Discount (SPRING20)', -1000],
      ['Shipping', 500],
      ['Tax', 352],
      ['Total', 4852],
    ])
  })

  it('finds the codes in the breakdown of the totals when the session lists no discounts', async () => {
    const breakdown = (promotion_code: unknown) =>
      sessionObject({ discounts: [], total_details: { amount_discount: 500, amount_shipping: 500, amount_tax: 0, breakdown: { discounts: [{ amount: 500, discount: { promotion_code, source: { coupon: 'cpn_1' } } }], taxes: [] } } } as never)
    expect(checkoutFacts(breakdown({ id: 'promo_1', code: 'WELCOME5' }), []).discountCodes).toEqual(['WELCOME5'])
    // only an id: payments.readCheckout reads its code
    expect(checkoutFacts(breakdown('promo_1'), []).discountCodes).toEqual(['promo_1'])
  })

  it('tells tax inside the prices from tax on top by Stripe\'s own totals', async () => {
    const inclusive = sessionObject({ amount_subtotal: 6000, amount_total: 6500, total_details: { amount_discount: 0, amount_shipping: 500, amount_tax: 1083 } })
    expect(checkoutFacts(inclusive, [])).toMatchObject({ taxCents: 1083, isTaxInclusive: true })
    const none = sessionObject({ amount_subtotal: 6000, amount_total: 6500 })
    expect(checkoutFacts(none, [])).toMatchObject({ taxCents: 0, isTaxInclusive: false, discountCents: 0, discountCodes: [] })
    expect(orders.totalsOf({ ...checkoutFacts(inclusive, []), subtotalCents: 6000, totalCents: 6500, shippingRateName: 'Standard' }).map((r) => r.label)).toEqual(['Subtotal', 'Shipping (Standard)', 'Tax (included)', 'Total'])
  })

  it('an expired session releases its holds and records nothing', async () => {
    const { variantId } = insertVariant({ stock: 5 })
    const { session } = held(variantId, 3)
    await apply(checkoutFacts({ ...session, status: 'expired', payment_status: 'unpaid' }, []))
    expect(t.db.select().from(ordersTable).all()).toHaveLength(0)
    expect(inventory.availableOne(variantId)).toBe(5)
  })
})

// Facts as payments makes them from Stripe's objects: a session with its payment intent and
// latest charge expanded.
function facts(opts: {
  status?: 'open' | 'complete' | 'expired'
  paymentStatus?: 'paid' | 'unpaid' | 'no_payment_required'
  intent?: 'processing' | 'succeeded' | 'requires_payment_method' | null
  amount?: number
  refunded?: number
  dispute?: DisputeState
  metadata?: Record<string, string>
  paymentLink?: string | null
}) {
  const amount = opts.amount ?? 5500
  const intent = opts.intent === null ? null : paymentIntentObject({ status: opts.intent ?? 'succeeded', amount, amountRefunded: opts.refunded ?? 0, disputed: !!opts.dispute })
  const session = sessionObject({
    status: opts.status ?? 'complete',
    payment_status: opts.paymentStatus ?? 'paid',
    amount_total: amount,
    metadata: opts.metadata ?? { cart_id: 'cart_1' },
    payment_link: opts.paymentLink ?? null,
    payment_intent: intent,
  })
  return checkoutFacts(session, [], { dispute: opts.dispute ?? null })
}

describe('orders.targetOf (the order Stripe state implies)', () => {
  it.each([
    ['open session', facts({ status: 'open', paymentStatus: 'unpaid', intent: null }), { kind: 'none', releaseHolds: false }],
    ['expired session', facts({ status: 'expired', paymentStatus: 'unpaid', intent: null }), { kind: 'none', releaseHolds: true }],
    ['paid', facts({}), { kind: 'order', status: 'paid', refundedCents: 0, dispute: null }],
    ['pay-later, not settled', facts({ paymentStatus: 'unpaid', intent: 'processing' }), { kind: 'order', status: 'awaiting_payment' }],
    ['pay-later, failed', facts({ paymentStatus: 'unpaid', intent: 'requires_payment_method' }), { kind: 'order', status: 'payment_failed' }],
    ['paid, part refunded', facts({ refunded: 1000 }), { kind: 'order', status: 'partially_refunded', refundedCents: 1000 }],
    ['paid, refunded in full', facts({ refunded: 5500 }), { kind: 'order', status: 'refunded', refundedCents: 5500 }],
    ['paid, disputed', facts({ dispute: 'open' }), { kind: 'order', status: 'paid', dispute: 'open' }],
    ['paid, dispute lost', facts({ dispute: 'lost' }), { kind: 'order', status: 'paid', dispute: 'lost' }],
    ['another app’s session', facts({ metadata: {} }), { kind: 'none', releaseHolds: false }],
    ['a Payment Link sale', facts({ metadata: {}, paymentLink: 'plink_1' }), { kind: 'order', status: 'paid' }],
    ['$0 session, not ours', facts({ metadata: {}, paymentLink: 'plink_1', paymentStatus: 'no_payment_required', intent: null, amount: 0 }), { kind: 'none', releaseHolds: false }],
    ['$0 session from our Checkout', facts({ paymentStatus: 'no_payment_required', intent: null, amount: 0 }), { kind: 'order', status: 'paid', refundedCents: 0 }],
  ])('%s', (_name, input, expected) => {
    expect(orders.targetOf(input)).toMatchObject(expected)
  })

  it('statuses never move back, whatever order targets arrive in', async () => {
    const all = ['awaiting_payment', 'paid', 'fulfilled', 'partially_refunded', 'refunded', 'payment_failed'] as const
    for (const a of all) {
      for (const b of all) {
        const ab = orders.nextStatus(orders.nextStatus('awaiting_payment', a), b)
        const ba = orders.nextStatus(orders.nextStatus('awaiting_payment', b), a)
        expect(ab).toBe(ba)
        expect(orders.nextStatus(ab, a)).toBe(ab)
      }
    }
  })
})

describe('orders.applyingSession from fresh facts', () => {
  const mails = () => t.db.select().from(jobs).where(eq(jobs.kind, 'mail.order_confirmation')).all()

  function pending(variantId: number, quantity: number) {
    const h = held(variantId, quantity)
    const at = (intent: Parameters<typeof paymentIntentObject>[0], paymentStatus: 'paid' | 'unpaid' = 'paid', withLines = true) =>
      checkoutFacts({ ...h.session, payment_status: paymentStatus, payment_intent: paymentIntentObject(intent) }, withLines ? h.items : [], { hasLines: withLines })
    return { ...h, at }
  }

  it('finding 1: refunded in full before the late success is seen → refunded, no stock taken, holds back, no email', async () => {
    const { variantId } = insertVariant({ stock: 2 })
    const { at } = pending(variantId, 2)
    await apply(at({ status: 'processing', amount: 5500 }, 'unpaid'))
    expect(inventory.availableOne(variantId)).toBe(0)
    // charge.refunded arrives first; Stripe now says: paid, refunded in full
    await apply(at({ amount: 5500, amountRefunded: 5500 }, 'paid', false))
    // the late async_payment_succeeded, with a read taken before the refund (stale): never back
    await apply(at({ amount: 5500 }, 'paid', false))
    expect(t.db.select().from(ordersTable).get()).toMatchObject({ status: 'refunded', refundedCents: 5500, stockTakenAt: null })
    expect(stockOf(variantId)).toBe(2)
    expect(inventory.availableOne(variantId)).toBe(2)
    expect(mails()).toHaveLength(0)
  })

  it('stock is taken once however often a paid state is applied; a later refund leaves it taken', async () => {
    const { variantId } = insertVariant({ stock: 5 })
    const { at } = pending(variantId, 2)
    await apply(at({ amount: 5500 }))
    await apply(at({ amount: 5500, amountRefunded: 500 }, 'paid', false))
    await apply(at({ amount: 5500 }, 'paid', false))
    await apply(at({ amount: 5500, amountRefunded: 5500 }, 'paid', false))
    expect(stockOf(variantId)).toBe(3)
    expect(t.db.select().from(ordersTable).get()!.status).toBe('refunded')
    expect(mails()).toHaveLength(1)
  })

  it('a confirmation still queued when the order is refunded is not sent', async () => {
    const { variantId } = insertVariant({ stock: 5 })
    const { at } = pending(variantId, 1)
    await apply(at({ amount: 5500 }))
    expect(mails().map((j) => j.status)).toEqual(['queued'])
    await apply(at({ amount: 5500, amountRefunded: 5500 }, 'paid', false))
    expect(mails().map((j) => j.status)).toEqual(['done'])
    expect(mails()[0]!.lastError).toMatch(/skipped/)
  })

  it('a dispute seen with the first payment news: stock taken, flagged, no email; a lost one takes no stock', async () => {
    const a = insertVariant({ stock: 5 }).variantId
    const first = pending(a, 1)
    await apply(checkoutFacts({ ...first.session, payment_intent: paymentIntentObject({ amount: 5500, disputed: true }) }, first.items, { dispute: 'open' }))
    expect(t.db.select().from(ordersTable).get()).toMatchObject({ status: 'paid', isDisputed: true, disputeStatus: 'open' })
    expect(stockOf(a)).toBe(4)
    const b = insertVariant({ stock: 5 }).variantId
    const second = pending(b, 1)
    await apply(checkoutFacts({ ...second.session, payment_intent: paymentIntentObject({ amount: 5500, disputed: true }) }, second.items, { dispute: 'lost' }))
    expect(stockOf(b)).toBe(5)
    expect(inventory.availableOne(b)).toBe(5)
    expect(mails()).toHaveLength(0)
  })

  it('an order recorded paid before stock_taken_at existed never takes stock again', async () => {
    const { variantId } = insertVariant({ stock: 5 })
    const { at } = pending(variantId, 2)
    await apply(at({ amount: 5500 }))
    write((tx) => tx.update(ordersTable).set({ stockTakenAt: null }).run())
    await apply(at({ amount: 5500, amountRefunded: 1000 }, 'paid', false))
    expect(stockOf(variantId)).toBe(3)
  })

  it('finding 5: another app’s paid session and a $0 session without store metadata are not orders', async () => {
    const { variantId } = insertVariant({ stock: 5 })
    const theirs = sessionObject({ amount_total: 5000, metadata: {} })
    const free = sessionObject({ amount_total: 0, payment_status: 'no_payment_required', payment_intent: null, metadata: {}, payment_link: 'plink_test_free' })
    for (const s of [theirs, free]) {
      const result = await apply(checkoutFacts(s, [lineItemObject({ variantId, quantity: 1, unitAmount: 5000 })]))
      expect(result).toMatchObject({ orderId: null, created: false })
    }
    expect(t.db.select().from(ordersTable).all()).toHaveLength(0)
    expect(stockOf(variantId)).toBe(5)
    expect(mails()).toHaveLength(0)
  })
})
