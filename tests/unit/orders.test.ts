import { eq } from 'drizzle-orm'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { write } from '@/db'
import { carts, jobs, orderLines, orders as ordersTable, stockHolds, variants } from '@/db/schema'
import * as inventory from '@/lib/inventory'
import * as orders from '@/lib/orders'
import { checkoutFacts } from '@/lib/payments/stripe'
import { insertCart, insertVariant } from '../support/catalog-rows'
import { freshDb, type TestDb } from '../support/db'
import { lineItemObject, sessionObject } from '../support/stripe-objects'

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

const stockOf = (variantId: number) => t.db.select().from(variants).where(eq(variants.id, variantId)).get()!.stock

describe('orders.applySession', () => {
  it('records one paid order from the session, converts holds, converts the cart, enqueues one email', () => {
    const { variantId } = insertVariant({ stock: 5 })
    const { cartId, session, items } = held(variantId, 2)
    const first = write((tx) => orders.applySession(tx, checkoutFacts(session, items)))
    const second = write((tx) => orders.applySession(tx, checkoutFacts(session, items)))
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

  it('an unpaid (async) completion awaits payment, keeps the hold, then a paid session moves it forward once', () => {
    const { variantId } = insertVariant({ stock: 5 })
    const { session, items } = held(variantId, 1)
    write((tx) => orders.applySession(tx, checkoutFacts({ ...session, payment_status: 'unpaid' }, items)))
    expect(t.db.select().from(ordersTable).get()!.status).toBe('awaiting_payment')
    expect(inventory.availableOne(variantId)).toBe(4)
    expect(stockOf(variantId)).toBe(5)
    write((tx) => orders.applySession(tx, checkoutFacts(session, items)))
    write((tx) => orders.applySession(tx, checkoutFacts(session, items)))
    expect(t.db.select().from(ordersTable).get()!.status).toBe('paid')
    expect(stockOf(variantId)).toBe(4)
    expect(t.db.select().from(jobs).all()).toHaveLength(1)
    // a late "unpaid" replay never moves it back
    write((tx) => orders.applySession(tx, checkoutFacts({ ...session, payment_status: 'unpaid' }, items)))
    expect(t.db.select().from(ordersTable).get()!.status).toBe('paid')
  })

  it('async failure marks the order failed and releases its hold', () => {
    const { variantId } = insertVariant({ stock: 5 })
    const { session, items } = held(variantId, 2)
    write((tx) => {
      orders.applySession(tx, checkoutFacts({ ...session, payment_status: 'unpaid' }, items))
      orders.markPaymentFailed(tx, session.id)
    })
    expect(t.db.select().from(ordersTable).get()!.status).toBe('payment_failed')
    expect(inventory.availableOne(variantId)).toBe(5)
  })

  it('a paid session the store never created decrements stock directly, and flags a short sale as oversold', () => {
    const { variantId } = insertVariant({ stock: 1 })
    const session = sessionObject({ amount_total: 5000 })
    write((tx) => orders.applySession(tx, checkoutFacts(session, [lineItemObject({ variantId, quantity: 2, unitAmount: 2500 })])))
    const order = t.db.select().from(ordersTable).get()!
    expect(order.status).toBe('paid')
    expect(order.isOversold).toBe(true)
    expect(stockOf(variantId)).toBe(0)
  })

  it('keeps a line whose variant no longer exists, unlinked', () => {
    const session = sessionObject({ amount_total: 1000 })
    write((tx) => orders.applySession(tx, checkoutFacts(session, [lineItemObject({ variantId: 999_999, quantity: 1, unitAmount: 1000, description: 'Old thing' })])))
    expect(t.db.select().from(orderLines).get()).toMatchObject({ variantId: null, title: 'Old thing' })
  })

  it('refunds keep the total, track the running refunded amount, and never go backwards', () => {
    const { variantId } = insertVariant({ stock: 5 })
    const { session, items } = held(variantId, 2)
    write((tx) => orders.applySession(tx, checkoutFacts(session, items)))
    const pi = session.payment_intent as string
    write((tx) => orders.applyRefund(tx, pi, 1000))
    expect(t.db.select().from(ordersTable).get()).toMatchObject({ status: 'partially_refunded', refundedCents: 1000, totalCents: 5500 })
    write((tx) => orders.applyRefund(tx, pi, 5500))
    write((tx) => orders.applyRefund(tx, pi, 1000)) // a late, older event
    expect(t.db.select().from(ordersTable).get()).toMatchObject({ status: 'refunded', refundedCents: 5500 })
    // the webhook alone never restocks
    expect(stockOf(variantId)).toBe(3)
  })

  it('an expired session releases its holds and records nothing', () => {
    const { variantId } = insertVariant({ stock: 5 })
    const { session } = held(variantId, 3)
    write((tx) => orders.applySession(tx, checkoutFacts({ ...session, status: 'expired', payment_status: 'unpaid' }, [])))
    expect(t.db.select().from(ordersTable).all()).toHaveLength(0)
    expect(inventory.availableOne(variantId)).toBe(5)
  })
})
