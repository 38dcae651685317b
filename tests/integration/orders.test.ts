import { sql } from 'drizzle-orm'
import { describe, expect, it } from 'vitest'
import { all, read, transaction } from '@/db/tx'
import * as inventory from '@/lib/inventory'
import * as orders from '@/lib/orders'
import type { CheckoutFacts } from '@/lib/payments'
import { checkoutFacts } from '@/lib/payments/stripe'
import { ENGINES, useEngine } from '../support/engines'
import { insertCartOn, insertVariantOn, stockOn } from '../support/intake-rows'
import { lineItemObject, paymentIntentObject, sessionObject } from '../support/stripe-objects'

// Applying Stripe's facts to an order (orders.applyingSession) on both engines, case by case:
// the order, its lines, its holds, its stock and its email, each read back as the domain reads
// them. The pure rules (targetOf, nextStatus, the facts) are unit tests (tests/unit/orders.test.ts);
// whole lives delivered in any order are orders-model.test.ts.

describe.each(ENGINES)('orders on %s', (name) => {
  const engine = useEngine(name)

  /** A cart of `quantity` units, held for a session made for it, as checkout leaves them. */
  async function held(variantId: number, quantity: number) {
    const cartId = await insertCartOn(engine, [{ variantId, quantity }])
    const session = sessionObject({ metadata: { cart_id: cartId }, amount_total: 2500 * quantity + 500, amount_subtotal: 2500 * quantity })
    const ids = await transaction((tx, t) => inventory.placingHolds(tx, t, { cartId, expiresAt: Date.now() + 1_800_000, lines: [{ variantId, quantity }] }))
    await transaction((tx, t) => inventory.attachingSession(tx, t, ids, session.id))
    return { cartId, session, items: [lineItemObject({ variantId, quantity, unitAmount: 2500, description: 'Harbor Mug' })] }
  }

  /** Applies Stripe's facts in a transaction of their own, as the intake does. */
  const apply = (facts: CheckoutFacts) => transaction((tx, t) => orders.applyingSession(tx, t, facts))

  // rows as the domain reads them (drizzle's types: JSON parsed, flags as booleans) on either engine
  const allOrders = () => read((db, t) => all(db.select().from(t.orders).orderBy(t.orders.id)))
  const allLines = () => read((db, t) => all(db.select().from(t.orderLines).orderBy(t.orderLines.id)))
  const allJobs = () => read((db, t) => all(db.select().from(t.jobs).orderBy(t.jobs.id)))
  const mails = async () => (await allJobs()).filter((j) => j.kind === 'mail.order_confirmation')
  const holdStatuses = async () => (await read((db, t) => all(db.select({ status: t.stockHolds.status }).from(t.stockHolds).orderBy(t.stockHolds.id)))).map((h) => h.status)
  const cartStatus = async (cartId: string) => (await engine.rows<{ status: string }>(sql`SELECT status FROM carts WHERE id = ${cartId}`))[0]!.status
  const availableOne = async (variantId: number) => (await read((db, t) => inventory.availableIn(db, t, [variantId]))).get(variantId) ?? 0
  const stockOf = (variantId: number) => stockOn(engine, variantId)

  describe('orders.applyingSession', () => {
    it('records one paid order from the session, converts holds, converts the cart, enqueues one email', async () => {
      const variantId = await insertVariantOn(engine, { stock: 5 })
      const { cartId, session, items } = await held(variantId, 2)
      const first = await apply(checkoutFacts(session, items))
      const second = await apply(checkoutFacts(session, items))
      expect(first.created).toBe(true)
      expect(second).toMatchObject({ created: false, orderId: first.orderId })
      const all = await allOrders()
      expect(all).toHaveLength(1)
      expect(all[0]).toMatchObject({ status: 'paid', totalCents: 5500, subtotalCents: 5000, shippingCents: 500, email: 'shopper@example.com' })
      expect(all[0]!.shippingAddress).toMatchObject({ city: 'Portland', country: 'US' })
      expect(await allLines()).toMatchObject([{ variantId, quantity: 2, unitAmountCents: 2500, totalCents: 5000 }])
      expect(await stockOf(variantId)).toBe(3)
      expect((await holdStatuses())[0]).toBe('converted')
      expect(await cartStatus(cartId)).toBe('converted')
      expect(await mails()).toHaveLength(1)
    })

    it('stores a new order as drizzle would: no address as SQL NULL, codes as JSON, flags as 0/1, a line linked to its variant and SKU', async () => {
      const variantId = await insertVariantOn(engine, { stock: 5 })
      const [{ sku }] = (await engine.rows<{ sku: string }>(sql`SELECT sku FROM variants WHERE id = ${variantId}`)) as [{ sku: string }]
      const session = sessionObject({ amount_total: 2500, amount_subtotal: 2500, collected_information: null, metadata: { cart_id: await insertCartOn(engine, [{ variantId, quantity: 1 }]) } })
      const facts = { ...checkoutFacts(session, [lineItemObject({ variantId, quantity: 1, unitAmount: 2500, description: 'Harbor Mug' })]), discountCodes: ['SPRING10'], isTaxInclusive: true }
      const { orderId } = await apply(facts)
      // the stored text and SQL NULL as both engines keep them (PostgreSQL's json keeps the text as written)
      const [raw] = await engine.rows(
        sql`SELECT shipping_address, CAST(discount_codes AS TEXT) AS discount_codes, is_tax_inclusive, CASE WHEN shipping_address IS NULL THEN 'null' ELSE 'set' END AS address_type FROM orders WHERE id = ${orderId}`,
      )
      expect(raw).toEqual({ shipping_address: null, discount_codes: '["SPRING10"]', is_tax_inclusive: 1, address_type: 'null' })
      expect((await allOrders())[0]).toMatchObject({ shippingAddress: null, discountCodes: ['SPRING10'], isTaxInclusive: true, status: 'paid' })
      expect(await allLines()).toEqual([expect.objectContaining({ orderId, variantId, sku, title: 'Harbor Mug', quantity: 1, unitAmountCents: 2500, totalCents: 2500 })])
    })

    it('an unpaid (async) completion awaits payment, keeps the hold, then a paid session moves it forward once', async () => {
      const variantId = await insertVariantOn(engine, { stock: 5 })
      const { session, items } = await held(variantId, 1)
      await apply(checkoutFacts({ ...session, payment_status: 'unpaid' }, items))
      expect((await allOrders())[0]!.status).toBe('awaiting_payment')
      expect(await availableOne(variantId)).toBe(4)
      expect(await stockOf(variantId)).toBe(5)
      await apply(checkoutFacts(session, items))
      await apply(checkoutFacts(session, items))
      expect((await allOrders())[0]!.status).toBe('paid')
      expect(await stockOf(variantId)).toBe(4)
      expect(await allJobs()).toHaveLength(1)
      // a late "unpaid" replay never moves it back
      await apply(checkoutFacts({ ...session, payment_status: 'unpaid' }, items))
      expect((await allOrders())[0]!.status).toBe('paid')
    })

    it('async failure marks the order failed and releases its hold', async () => {
      const variantId = await insertVariantOn(engine, { stock: 5 })
      const { session, items } = await held(variantId, 2)
      await apply(checkoutFacts({ ...session, payment_status: 'unpaid', payment_intent: paymentIntentObject({ status: 'processing', amount: 5500 }) }, items))
      expect(await availableOne(variantId)).toBe(3)
      await apply(checkoutFacts({ ...session, payment_status: 'unpaid', payment_intent: paymentIntentObject({ status: 'requires_payment_method', amount: 5500 }) }, items))
      expect((await allOrders())[0]!.status).toBe('payment_failed')
      expect(await availableOne(variantId)).toBe(5)
      expect(await stockOf(variantId)).toBe(5)
      expect(await allJobs()).toHaveLength(0)
    })

    it('a paid Payment Link session (no cart) decrements stock directly, and flags a short sale as oversold', async () => {
      const variantId = await insertVariantOn(engine, { stock: 1 })
      const session = sessionObject({ amount_total: 5000, payment_link: 'plink_test_1' })
      await apply(checkoutFacts(session, [lineItemObject({ variantId, quantity: 2, unitAmount: 2500 })]))
      const order = (await allOrders())[0]!
      expect(order.status).toBe('paid')
      expect(order.isOversold).toBe(true)
      expect(await stockOf(variantId)).toBe(0)
    })

    it('keeps a line whose variant no longer exists, unlinked', async () => {
      const session = sessionObject({ amount_total: 1000, payment_link: 'plink_test_1' })
      await apply(checkoutFacts(session, [lineItemObject({ variantId: 999_999, quantity: 1, unitAmount: 1000, description: 'Old thing' })]))
      expect((await allLines())[0]).toMatchObject({ variantId: null, title: 'Old thing' })
    })

    it('refunds keep the total, track the running refunded amount, and never go backwards', async () => {
      const variantId = await insertVariantOn(engine, { stock: 5 })
      const { session, items } = await held(variantId, 2)
      await apply(checkoutFacts(session, items))
      const refunded = (cents: number) => checkoutFacts({ ...session, payment_intent: paymentIntentObject({ amount: 5500, amountRefunded: cents }) }, [], { hasLines: false })
      await apply(refunded(1000))
      expect((await allOrders())[0]).toMatchObject({ status: 'partially_refunded', refundedCents: 1000, totalCents: 5500 })
      await apply(refunded(5500))
      await apply(refunded(1000)) // a stale read
      expect((await allOrders())[0]).toMatchObject({ status: 'refunded', refundedCents: 5500 })
      // the webhook alone never restocks
      expect(await stockOf(variantId)).toBe(3)
    })

    it('records the discount, the codes, the tax and each line\'s share as Stripe reported them, once', async () => {
      const variantId = await insertVariantOn(engine, { stock: 5 })
      const { session, items } = await held(variantId, 2)
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
      const order = (await allOrders())[0]!
      expect(order).toMatchObject({ totalCents: 4852, subtotalCents: 5000, discountCents: 1000, discountCodes: ['SPRING20'], taxCents: 352, shippingCents: 500, isTaxInclusive: false })
      expect(await allLines()).toMatchObject([{ subtotalCents: 5000, discountCents: 1000, taxCents: 312, totalCents: 4312 }])
      expect(orders.totalsOf(order).map((r) => [r.label, r.cents])).toEqual([
        ['Subtotal', 5000],
        ['Discount (SPRING20)', -1000],
        ['Shipping', 500],
        ['Tax', 352],
        ['Total', 4852],
      ])
    })

    it('an expired session releases its holds and records nothing', async () => {
      const variantId = await insertVariantOn(engine, { stock: 5 })
      const { session } = await held(variantId, 3)
      await apply(checkoutFacts({ ...session, status: 'expired', payment_status: 'unpaid' }, []))
      expect(await allOrders()).toHaveLength(0)
      expect(await availableOne(variantId)).toBe(5)
    })
  })

  describe('orders.applyingSession from fresh facts', () => {

    async function pending(variantId: number, quantity: number) {
      const h = await held(variantId, quantity)
      const at = (intent: Parameters<typeof paymentIntentObject>[0], paymentStatus: 'paid' | 'unpaid' = 'paid', withLines = true) =>
        checkoutFacts({ ...h.session, payment_status: paymentStatus, payment_intent: paymentIntentObject(intent) }, withLines ? h.items : [], { hasLines: withLines })
      return { ...h, at }
    }

    it('finding 1: refunded in full before the late success is seen → refunded, no stock taken, holds back, no email', async () => {
      const variantId = await insertVariantOn(engine, { stock: 2 })
      const { at } = await pending(variantId, 2)
      await apply(at({ status: 'processing', amount: 5500 }, 'unpaid'))
      expect(await availableOne(variantId)).toBe(0)
      // charge.refunded arrives first; Stripe now says: paid, refunded in full
      await apply(at({ amount: 5500, amountRefunded: 5500 }, 'paid', false))
      // the late async_payment_succeeded, with a read taken before the refund (stale): never back
      await apply(at({ amount: 5500 }, 'paid', false))
      expect((await allOrders())[0]).toMatchObject({ status: 'refunded', refundedCents: 5500, stockTakenAt: null })
      expect(await stockOf(variantId)).toBe(2)
      expect(await availableOne(variantId)).toBe(2)
      expect(await mails()).toHaveLength(0)
    })

    it('stock is taken once however often a paid state is applied; a later refund leaves it taken', async () => {
      const variantId = await insertVariantOn(engine, { stock: 5 })
      const { at } = await pending(variantId, 2)
      await apply(at({ amount: 5500 }))
      await apply(at({ amount: 5500, amountRefunded: 500 }, 'paid', false))
      await apply(at({ amount: 5500 }, 'paid', false))
      await apply(at({ amount: 5500, amountRefunded: 5500 }, 'paid', false))
      expect(await stockOf(variantId)).toBe(3)
      expect((await allOrders())[0]!.status).toBe('refunded')
      expect(await mails()).toHaveLength(1)
    })

    it('a confirmation still queued when the order is refunded is not sent', async () => {
      const variantId = await insertVariantOn(engine, { stock: 5 })
      const { at } = await pending(variantId, 1)
      await apply(at({ amount: 5500 }))
      expect((await mails()).map((j) => j.status)).toEqual(['queued'])
      await apply(at({ amount: 5500, amountRefunded: 5500 }, 'paid', false))
      expect((await mails()).map((j) => j.status)).toEqual(['done'])
      expect((await mails())[0]!.lastError).toMatch(/skipped/)
    })

    it('a dispute seen with the first payment news: stock taken, flagged, no email; a lost one takes no stock', async () => {
      const a = await insertVariantOn(engine, { stock: 5 })
      const first = await pending(a, 1)
      await apply(checkoutFacts({ ...first.session, payment_intent: paymentIntentObject({ amount: 5500, disputed: true }) }, first.items, { dispute: 'open' }))
      expect((await allOrders())[0]).toMatchObject({ status: 'paid', isDisputed: true, disputeStatus: 'open' })
      expect(await stockOf(a)).toBe(4)
      const b = await insertVariantOn(engine, { stock: 5 })
      const second = await pending(b, 1)
      await apply(checkoutFacts({ ...second.session, payment_intent: paymentIntentObject({ amount: 5500, disputed: true }) }, second.items, { dispute: 'lost' }))
      expect(await stockOf(b)).toBe(5)
      expect(await availableOne(b)).toBe(5)
      expect(await mails()).toHaveLength(0)
    })

    it('an order recorded paid before stock_taken_at existed never takes stock again', async () => {
      const variantId = await insertVariantOn(engine, { stock: 5 })
      const { at } = await pending(variantId, 2)
      await apply(at({ amount: 5500 }))
      await engine.rows(sql`UPDATE orders SET stock_taken_at = NULL RETURNING id`)
      await apply(at({ amount: 5500, amountRefunded: 1000 }, 'paid', false))
      expect(await stockOf(variantId)).toBe(3)
    })

    it('finding 5: another app’s paid session and a $0 session without store metadata are not orders', async () => {
      const variantId = await insertVariantOn(engine, { stock: 5 })
      const theirs = sessionObject({ amount_total: 5000, metadata: {} })
      const free = sessionObject({ amount_total: 0, payment_status: 'no_payment_required', payment_intent: null, metadata: {}, payment_link: 'plink_test_free' })
      for (const s of [theirs, free]) {
        const result = await apply(checkoutFacts(s, [lineItemObject({ variantId, quantity: 1, unitAmount: 5000 })]))
        expect(result).toMatchObject({ orderId: null, created: false })
      }
      expect(await allOrders()).toHaveLength(0)
      expect(await stockOf(variantId)).toBe(5)
      expect(await mails()).toHaveLength(0)
    })
  })
})
