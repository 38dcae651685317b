import crypto from 'node:crypto'
import { and, asc, eq, inArray, sql } from 'drizzle-orm'
import type Stripe from 'stripe'
import { getDb, write, type Tx } from '@/db'
import { carts, orderLines, orders, stockHolds, variants, type OrderStatus, type ShippingAddress } from '@/db/schema'
import * as inventory from './inventory'
import * as jobs from './jobs'
import { log } from './log'
import { stripeClient } from './payments/client'

// An order is built from Stripe's data alone — the Checkout Session and its line items —
// through one idempotent path: fetch from Stripe (network, outside any transaction), then
// apply in one immediate transaction keyed by the session id. Running it twice, at once,
// or in any order with the other handlers ends in the same single order.

export type SessionSnapshot = {
  session: Stripe.Checkout.Session
  lineItems: Stripe.LineItem[]
}

/** The network half: the session and every line item (paginated past 100), with products. */
export async function fetchSession(sessionId: string): Promise<SessionSnapshot> {
  const stripe = stripeClient()
  const session = await stripe.checkout.sessions.retrieve(sessionId)
  const lineItems =
    session.status === 'complete'
      ? await stripe.checkout.sessions.listLineItems(sessionId, { limit: 100, expand: ['data.price.product'] }).autoPagingToArray({ limit: 10_000 })
      : []
  return { session, lineItems }
}

/** Stripe answered that the session does not exist (a mistyped or foreign link). */
export function isUnknownSession(err: unknown): boolean {
  return typeof err === 'object' && err !== null && (err as { code?: string }).code === 'resource_missing'
}

export type FulfillResult = { orderId: number | null; status: OrderStatus | null; created: boolean; token: string | null }

/** Used by the webhook, the success page and reconciliation alike. */
export async function fulfill(sessionId: string): Promise<FulfillResult> {
  const snapshot = await fetchSession(sessionId)
  return write((tx) => applySession(tx, snapshot))
}

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

function paymentIntentId(session: Stripe.Checkout.Session): string | null {
  const pi = session.payment_intent
  return typeof pi === 'string' ? pi : (pi?.id ?? null)
}

function variantIdOf(item: Stripe.LineItem): number | null {
  const product = item.price?.product
  const raw = product && typeof product === 'object' && 'metadata' in product ? product.metadata?.variant_id : undefined
  const id = Number(raw)
  return raw && Number.isSafeInteger(id) && id > 0 ? id : null
}

function shippingOf(session: Stripe.Checkout.Session): ShippingAddress | null {
  const details = session.collected_information?.shipping_details
  const address = details?.address ?? session.customer_details?.address
  if (!address) return null
  return {
    name: details?.name ?? session.customer_details?.name ?? null,
    line1: address.line1 ?? null,
    line2: address.line2 ?? null,
    city: address.city ?? null,
    state: address.state ?? null,
    postalCode: address.postal_code ?? null,
    country: address.country ?? null,
  }
}

/**
 * The transactional half of fulfilment. Idempotent: the UNIQUE session id makes a second
 * call find the order; a call with newer payment news moves it forward; nothing moves back.
 */
export function applySession(tx: Tx, { session, lineItems }: SessionSnapshot): FulfillResult {
  const existing = tx.select().from(orders).where(eq(orders.stripeCheckoutSessionId, session.id)).get()
  if (session.status === 'expired') {
    inventory.releaseForSession(tx, session.id)
    return existing ? { orderId: existing.id, status: existing.status, created: false, token: existing.publicToken } : { orderId: null, status: null, created: false, token: null }
  }
  if (session.status !== 'complete') {
    return existing ? { orderId: existing.id, status: existing.status, created: false, token: existing.publicToken } : { orderId: null, status: null, created: false, token: null }
  }
  const isPaid = session.payment_status === 'paid' || session.payment_status === 'no_payment_required'
  const now = Date.now()
  const cartId = session.metadata?.cart_id ?? session.client_reference_id ?? null

  if (existing) {
    if (isPaid && existing.status === 'awaiting_payment') {
      tx.update(orders)
        .set({ status: 'paid', paidAt: now, updatedAt: now, stripePaymentIntentId: paymentIntentId(session) ?? existing.stripePaymentIntentId })
        .where(and(eq(orders.id, existing.id), eq(orders.status, 'awaiting_payment')))
        .run()
      settleStock(tx, existing.id, session.id, cartId)
      jobs.enqueue(tx, 'mail.order_confirmation', { orderId: existing.id }, { uniqueKey: `mail.order_confirmation:${existing.id}` })
      return { orderId: existing.id, status: 'paid', created: false, token: existing.publicToken }
    }
    return { orderId: existing.id, status: existing.status, created: false, token: existing.publicToken }
  }

  const token = crypto.randomBytes(24).toString('base64url')
  const inserted = tx
    .insert(orders)
    .values({
      stripeCheckoutSessionId: session.id,
      stripePaymentIntentId: paymentIntentId(session),
      publicToken: token,
      status: isPaid ? 'paid' : 'awaiting_payment',
      totalCents: session.amount_total ?? 0,
      subtotalCents: session.amount_subtotal ?? 0,
      shippingCents: session.shipping_cost?.amount_total ?? 0,
      taxCents: session.total_details?.amount_tax ?? 0,
      currency: session.currency ?? 'usd',
      email: session.customer_details?.email ?? session.customer_email ?? null,
      customerName: session.customer_details?.name ?? null,
      shippingAddress: shippingOf(session),
      shippingRateName: null,
      cartId,
      paidAt: isPaid ? now : null,
      createdAt: (session.created ?? Math.floor(now / 1000)) * 1000,
      updatedAt: now,
    })
    // Two concurrent fulfilments: the loser's insert does nothing and it reads the winner's.
    .onConflictDoNothing({ target: orders.stripeCheckoutSessionId })
    .returning({ id: orders.id })
    .get()
  if (!inserted) {
    const winner = tx.select().from(orders).where(eq(orders.stripeCheckoutSessionId, session.id)).get()!
    return { orderId: winner.id, status: winner.status, created: false, token: winner.publicToken }
  }

  // Only variants that still exist are linked; the line keeps Stripe's description either way.
  const wanted = lineItems.map(variantIdOf).filter((id): id is number => id !== null)
  const known = new Map(
    wanted.length ? tx.select({ id: variants.id, sku: variants.sku }).from(variants).where(inArray(variants.id, wanted)).all().map((v) => [v.id, v.sku]) : [],
  )
  for (const item of lineItems) {
    const variantId = variantIdOf(item)
    const quantity = item.quantity ?? 1
    tx.insert(orderLines)
      .values({
        orderId: inserted.id,
        variantId: variantId !== null && known.has(variantId) ? variantId : null,
        stripeLineItemId: item.id,
        sku: variantId !== null ? (known.get(variantId) ?? null) : null,
        title: item.description ?? 'Item',
        quantity,
        unitAmountCents: item.price?.unit_amount ?? Math.round(item.amount_subtotal / quantity),
        totalCents: item.amount_total,
      })
      .run()
  }

  if (isPaid) {
    settleStock(tx, inserted.id, session.id, cartId)
    jobs.enqueue(tx, 'mail.order_confirmation', { orderId: inserted.id }, { uniqueKey: `mail.order_confirmation:${inserted.id}` })
  } else {
    // Awaiting an asynchronous payment: keep the units reserved until it settles or fails.
    tx.update(stockHolds)
      .set({ expiresAt: now + 7 * 24 * 3600 * 1000, stripeCheckoutSessionId: session.id })
      .where(and(eq(stockHolds.status, 'active'), sql`(${stockHolds.stripeCheckoutSessionId} = ${session.id} OR (${stockHolds.stripeCheckoutSessionId} IS NULL AND ${stockHolds.cartId} = ${cartId}))`))
      .run()
  }
  if (cartId) {
    tx.update(carts).set({ status: 'converted', convertedAt: now, updatedAt: now }).where(and(eq(carts.id, cartId), sql`${carts.status} != 'converted'`)).run()
  }
  log.info('orders: recorded', { orderId: inserted.id, sessionId: session.id, paid: isPaid })
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
