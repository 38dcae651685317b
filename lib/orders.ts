import 'server-only'
import crypto from 'node:crypto'
import { and, asc, eq, inArray, sql } from 'drizzle-orm'
import { getDb, type Tx } from '@/db'
import { carts, orderLines, orders, stockHolds, variants, type OrderStatus, type ShippingAddress } from '@/db/schema'
import * as inventory from './inventory'
import * as jobs from './jobs'
import { log } from './log'

// Orders: the database half of the order path. An order is built from what Stripe says of a
// Checkout Session and its line items alone (lib/payments reads it and hands it over as
// CheckoutFacts), in one immediate transaction keyed by the session id. Applying the same
// facts twice, at once, or in any order with the other transitions ends in the same order.
// Nothing here talks to Stripe.

export type ShippingAddressFacts = ShippingAddress

export type CheckoutLine = {
  stripeLineItemId: string
  /** the variant the store priced it from (product metadata), when it says so */
  variantId: number | null
  description: string
  quantity: number
  unitAmountCents: number
  totalCents: number
}

/** A Checkout Session as the store needs it; made by payments from Stripe's objects. */
export type CheckoutFacts = {
  sessionId: string
  status: 'open' | 'complete' | 'expired'
  paymentStatus: 'paid' | 'unpaid' | 'no_payment_required'
  paymentIntentId: string | null
  cartId: string | null
  amountTotalCents: number
  amountSubtotalCents: number
  shippingCents: number
  taxCents: number
  currency: string
  email: string | null
  customerName: string | null
  shippingAddress: ShippingAddressFacts | null
  shippingRateName: string | null
  /** how the shopper paid, for receipts ("Visa ending 4242"); null when Stripe did not say */
  paymentMethod?: string | null
  /** epoch milliseconds */
  createdAt: number
  lines: CheckoutLine[]
}

export type FulfillResult = { orderId: number | null; status: OrderStatus | null; created: boolean; token: string | null }

// Statuses only move forward; a late or replayed event never undoes a later one.
const RANK: Record<OrderStatus, number> = {
  awaiting_payment: 0,
  paid: 1,
  fulfilled: 2,
  partially_refunded: 3,
  refunded: 4,
  payment_failed: 5,
  canceled: 5,
}

/**
 * The transactional half of fulfilment. Idempotent: the UNIQUE session id makes a second
 * call find the order; a call with newer payment news moves it forward; nothing moves back.
 */
export function applySession(tx: Tx, session: CheckoutFacts): FulfillResult {
  const existing = tx.select().from(orders).where(eq(orders.stripeCheckoutSessionId, session.sessionId)).get()
  if (session.status === 'expired') {
    inventory.releaseForSession(tx, session.sessionId)
    return existing ? { orderId: existing.id, status: existing.status, created: false, token: existing.publicToken } : { orderId: null, status: null, created: false, token: null }
  }
  if (session.status !== 'complete') {
    return existing ? { orderId: existing.id, status: existing.status, created: false, token: existing.publicToken } : { orderId: null, status: null, created: false, token: null }
  }
  const isPaid = session.paymentStatus === 'paid' || session.paymentStatus === 'no_payment_required'
  const now = Date.now()
  const cartId = session.cartId

  if (existing) {
    if (isPaid && existing.status === 'awaiting_payment') {
      tx.update(orders)
        .set({ status: 'paid', paidAt: now, updatedAt: now, stripePaymentIntentId: session.paymentIntentId ?? existing.stripePaymentIntentId, paymentMethod: session.paymentMethod ?? existing.paymentMethod })
        .where(and(eq(orders.id, existing.id), eq(orders.status, 'awaiting_payment')))
        .run()
      settleStock(tx, existing.id, session.sessionId, cartId)
      jobs.enqueue(tx, 'mail.order_confirmation', { orderId: existing.id }, { uniqueKey: `mail.order_confirmation:${existing.id}` })
      return { orderId: existing.id, status: 'paid', created: false, token: existing.publicToken }
    }
    return { orderId: existing.id, status: existing.status, created: false, token: existing.publicToken }
  }

  const token = crypto.randomBytes(24).toString('base64url')
  const inserted = tx
    .insert(orders)
    .values({
      stripeCheckoutSessionId: session.sessionId,
      stripePaymentIntentId: session.paymentIntentId,
      publicToken: token,
      status: isPaid ? 'paid' : 'awaiting_payment',
      totalCents: session.amountTotalCents,
      subtotalCents: session.amountSubtotalCents,
      shippingCents: session.shippingCents,
      taxCents: session.taxCents,
      currency: session.currency,
      email: session.email,
      customerName: session.customerName,
      shippingAddress: session.shippingAddress,
      shippingRateName: session.shippingRateName,
      paymentMethod: session.paymentMethod ?? null,
      cartId,
      paidAt: isPaid ? now : null,
      createdAt: session.createdAt,
      updatedAt: now,
    })
    // Two concurrent fulfilments: the loser's insert does nothing and it reads the winner's.
    .onConflictDoNothing({ target: orders.stripeCheckoutSessionId })
    .returning({ id: orders.id })
    .get()
  if (!inserted) {
    const winner = tx.select().from(orders).where(eq(orders.stripeCheckoutSessionId, session.sessionId)).get()!
    return { orderId: winner.id, status: winner.status, created: false, token: winner.publicToken }
  }

  // Only variants that still exist are linked; the line keeps Stripe's description either way.
  const wanted = session.lines.map((l) => l.variantId).filter((id): id is number => id !== null)
  const known = new Map(
    wanted.length ? tx.select({ id: variants.id, sku: variants.sku }).from(variants).where(inArray(variants.id, wanted)).all().map((v) => [v.id, v.sku]) : [],
  )
  for (const line of session.lines) {
    const { variantId } = line
    tx.insert(orderLines)
      .values({
        orderId: inserted.id,
        variantId: variantId !== null && known.has(variantId) ? variantId : null,
        stripeLineItemId: line.stripeLineItemId,
        sku: variantId !== null ? (known.get(variantId) ?? null) : null,
        title: line.description,
        quantity: line.quantity,
        unitAmountCents: line.unitAmountCents,
        totalCents: line.totalCents,
      })
      .run()
  }

  if (isPaid) {
    settleStock(tx, inserted.id, session.sessionId, cartId)
    jobs.enqueue(tx, 'mail.order_confirmation', { orderId: inserted.id }, { uniqueKey: `mail.order_confirmation:${inserted.id}` })
  } else {
    // Awaiting an asynchronous payment: keep the units reserved until it settles or fails.
    tx.update(stockHolds)
      .set({ expiresAt: now + 7 * 24 * 3600 * 1000, stripeCheckoutSessionId: session.sessionId })
      .where(and(eq(stockHolds.status, 'active'), sql`(${stockHolds.stripeCheckoutSessionId} = ${session.sessionId} OR (${stockHolds.stripeCheckoutSessionId} IS NULL AND ${stockHolds.cartId} = ${cartId}))`))
      .run()
  }
  if (cartId) {
    tx.update(carts).set({ status: 'converted', convertedAt: now, updatedAt: now }).where(and(eq(carts.id, cartId), sql`${carts.status} != 'converted'`)).run()
  }
  log.info('orders: recorded', { orderId: inserted.id, sessionId: session.sessionId, paid: isPaid })
  return { orderId: inserted.id, status: isPaid ? 'paid' : 'awaiting_payment', created: true, token }
}

/** Converts the session's holds (or decrements directly) and flags a short sale as oversold. */
function settleStock(tx: Tx, orderId: number, sessionId: string, cartId: string | null) {
  if (cartId) {
    // A hold placed just before a crash may never have been tagged with its session.
    tx.update(stockHolds)
      .set({ stripeCheckoutSessionId: sessionId })
      .where(and(eq(stockHolds.cartId, cartId), eq(stockHolds.status, 'active'), sql`${stockHolds.stripeCheckoutSessionId} IS NULL`))
      .run()
  }
  const lines = tx
    .select({ variantId: orderLines.variantId, quantity: sql<number>`sum(${orderLines.quantity})` })
    .from(orderLines)
    .where(and(eq(orderLines.orderId, orderId), sql`${orderLines.variantId} IS NOT NULL`))
    .groupBy(orderLines.variantId)
    .all()
    .map((l) => ({ variantId: l.variantId!, quantity: Number(l.quantity) }))
  const { shortVariantIds } = inventory.commitSale(tx, sessionId, lines)
  if (shortVariantIds.length > 0) {
    tx.update(orders).set({ isOversold: true, updatedAt: Date.now() }).where(eq(orders.id, orderId)).run()
    log.warn('orders: paid order oversold; recorded and flagged for the owner', { orderId, variantIds: shortVariantIds })
  }
}

/** async_payment_failed: the order exists (fulfil first) and its held units go back. */
export function markPaymentFailed(tx: Tx, sessionId: string): void {
  const now = Date.now()
  tx.update(orders)
    .set({ status: 'payment_failed', updatedAt: now })
    .where(and(eq(orders.stripeCheckoutSessionId, sessionId), eq(orders.status, 'awaiting_payment')))
    .run()
  inventory.releaseForSession(tx, sessionId)
}

/**
 * charge.refunded carries the charge's running total (amount_refunded), so applying it is
 * idempotent and order-insensitive: the larger total wins.
 */
export function applyRefund(tx: Tx, paymentIntent: string, amountRefundedCents: number): boolean {
  const order = tx.select().from(orders).where(eq(orders.stripePaymentIntentId, paymentIntent)).get()
  if (!order) return false
  const refunded = Math.max(order.refundedCents, amountRefundedCents)
  let status = order.status
  if (RANK[order.status] >= RANK.paid && RANK[order.status] <= RANK.refunded) {
    const target: OrderStatus = refunded >= order.totalCents ? 'refunded' : refunded > 0 ? 'partially_refunded' : order.status
    if (RANK[target] > RANK[order.status]) status = target
  }
  tx.update(orders).set({ refundedCents: refunded, status, updatedAt: Date.now() }).where(eq(orders.id, order.id)).run()
  return true
}

export function flagDisputed(tx: Tx, paymentIntent: string): boolean {
  return tx.update(orders).set({ isDisputed: true, updatedAt: Date.now() }).where(eq(orders.stripePaymentIntentId, paymentIntent)).run().changes > 0
}

export function existsForPaymentIntent(paymentIntent: string): boolean {
  return !!getDb().select({ id: orders.id }).from(orders).where(eq(orders.stripePaymentIntentId, paymentIntent)).get()
}

export function findBySession(sessionId: string) {
  return getDb().select().from(orders).where(eq(orders.stripeCheckoutSessionId, sessionId)).get() ?? null
}

export type OrderView = NonNullable<ReturnType<typeof findByToken>>

export function findByToken(token: string) {
  if (!/^[A-Za-z0-9_-]{16,64}$/.test(token)) return null
  const order = getDb().select().from(orders).where(eq(orders.publicToken, token)).get()
  if (!order) return null
  return { ...order, lines: linesOf(order.id) }
}

export function findById(id: number) {
  const order = getDb().select().from(orders).where(eq(orders.id, id)).get()
  if (!order) return null
  return { ...order, lines: linesOf(order.id) }
}

function linesOf(orderId: number) {
  return getDb().select().from(orderLines).where(eq(orderLines.orderId, orderId)).orderBy(asc(orderLines.id)).all()
}

export { RANK as statusRank }
