import 'server-only'
import crypto from 'node:crypto'
import { and, asc, eq, inArray, sql } from 'drizzle-orm'
import { afterCommit, all, get, preparedAll, preparedGet, preparedRun, read, run, serialize, statementOf, type Reader, type Steps, type Tables, type Writer } from '@/db/tx'
import { orderLines, orders, type OrderStatus } from '@/db/schema'
import type { CheckoutFacts, DisputeState } from '@/lib/payments'
import * as downloads from '@/lib/downloads'
import { InvalidInput, NotFound } from '@/lib/errors'
import * as inventory from '@/lib/inventory'
import * as jobs from '@/lib/jobs'
import { log } from '@/lib/log'

/** Every status an order can be in, in the order the admin's filter lists them. */
export { ORDER_STATUSES } from '@/db/schema'

// Orders: the database half of the order path. An order is built from what Stripe says of a
// Checkout Session and its line items alone (lib/payments reads it and hands it over as
// CheckoutFacts), in one immediate transaction keyed by the session id. Applying the same
// facts twice, at once, or in any order with the other transitions ends in the same order.
// Nothing here talks to Stripe.

export type SessionResult = { orderId: number | null; status: OrderStatus | null; created: boolean; token: string | null }

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

const DISPUTE_RANK: Record<Exclude<DisputeState, null>, number> = { open: 1, won: 2, lost: 2 }

/** What Stripe's state implies for the store: an order in `status`, or no order at all. */
export type Target =
  | { kind: 'none'; releaseHolds: boolean }
  | { kind: 'order'; status: OrderStatus; refundedCents: number; dispute: DisputeState; isPaid: boolean }

/**
 * Whether a session is a sale of this store's: its own Checkout (cart_id), or the owner's
 * Payment Link when money was taken. Anything else on the Stripe account, and any $0 session
 * that did not come from our Checkout, is not, and never becomes an order.
 */
export function isStoreSale(session: { origin: CheckoutFacts['origin']; paymentStatus: string | null }): boolean {
  return session.origin === 'store' || (session.origin === 'payment_link' && session.paymentStatus !== 'no_payment_required')
}

/**
 * The order Stripe's current state implies. Pure, and the only place that decides it: every
 * event, the success page and reconciliation re-read Stripe and land here, so no outcome can
 * depend on which event arrived first.
 */
export function targetOf(facts: CheckoutFacts): Target {
  if (!isStoreSale(facts)) return { kind: 'none', releaseHolds: false }
  if (facts.status === 'expired') return { kind: 'none', releaseHolds: true }
  if (facts.status !== 'complete') return { kind: 'none', releaseHolds: false }
  const { payment } = facts
  const refundedCents = Math.max(0, payment.amountRefundedCents)
  const base = { kind: 'order' as const, refundedCents, dispute: payment.dispute }
  switch (payment.state) {
    case 'succeeded': {
      const charged = payment.amountCents
      const status: OrderStatus = charged > 0 && refundedCents >= charged ? 'refunded' : refundedCents > 0 ? 'partially_refunded' : 'paid'
      return { ...base, status, isPaid: true }
    }
    case 'failed':
      return { ...base, status: 'payment_failed', isPaid: false }
    default:
      return { ...base, status: 'awaiting_payment', isPaid: false }
  }
}

/** What an event about a session asks of the order path; decided by sessionStep. */
export type SessionStep =
  | { kind: 'foreign'; why: string }
  | { kind: 'expire' }
  | { kind: 'settled'; orderId: number }
  | { kind: 'read'; sessionId: string; withLines: boolean }

/**
 * What an event's own copy of a session settles without asking Stripe again, by the order's
 * rules: whose sale it is never changes (isStoreSale on the copy); an expired session with
 * no order is final at Stripe, so its holds go back (targetOf's releaseHolds) and the copy
 * has all an abandoned-checkout reminder needs; an order past awaiting payment has nothing
 * left to learn from its session, since refunds and disputes come with their own events.
 * Anything else is read fresh: the event says which payment to look at, never its state.
 */
export function sessionStep(copy: CheckoutFacts, order: { id: number; status: OrderStatus } | null): SessionStep {
  if (!isStoreSale(copy)) return { kind: 'foreign', why: 'not a sale of this store' }
  if (copy.status === 'expired' && !order) return { kind: 'expire' }
  if (order && order.status !== 'awaiting_payment') return { kind: 'settled', orderId: order.id }
  // An order's lines never change once recorded: only a session without one needs them read.
  return { kind: 'read', sessionId: copy.sessionId, withLines: !order }
}

/** The status an order in `current` moves to when Stripe implies `target`: never back. */
export function nextStatus(current: OrderStatus, target: OrderStatus): OrderStatus {
  return RANK[target] > RANK[current] ? target : current
}

/** Stock leaves the shelf for an order whose money the store keeps. */
function keepsMoney(status: OrderStatus, dispute: DisputeState): boolean {
  return (status === 'paid' || status === 'fulfilled' || status === 'partially_refunded') && dispute !== 'lost'
}

/** The confirmation email is for a paid order, not refunded and not disputed, at that moment. */
export function isConfirmable(status: OrderStatus, dispute: DisputeState): boolean {
  return status === 'paid' && dispute === null
}

/** SQL text ranking `column`'s value by `ranks` (0 for anything else): the move's "never back" in SQL. */
const rankText = (column: string, ranks: Record<string, number>) => `CASE ${column} ${Object.entries(ranks).map(([k, v]) => `WHEN '${k}' THEN ${v}`).join(' ')} ELSE 0 END`

/** The columns of an order the intake decides by. */
type OrderState = { id: number; status: OrderStatus; publicToken: string; refundedCents: number; disputeStatus: DisputeState; stockTakenAt: number | null }

/** The turn of the transactions that may create a session's order or release its holds (db/tx.ts serialize). */
export const sessionTurn = (sessionId: string) => `orders.session:${sessionId}`

/**
 * The transactional half of the intake (./intake), as a step of its transaction: creates the
 * order if Stripe says there is one (the UNIQUE session id makes a second call find it) and
 * moves it to the state Stripe's facts imply, never back. Stock is taken at most once
 * (orders.stock_taken_at), and only for an order first seen with money the store keeps; one
 * that was refunded in full before it was ever seen paid gives its held units back instead.
 *
 * Under PostgreSQL's READ COMMITTED, with several app servers applying events of one session at
 * once: a new order is created in the session's turn (an expiry deciding to release the
 * session's holds takes the same turn, so it never releases what a completed session just kept
 * or sold), its insert is `ON CONFLICT DO NOTHING` and the loser reads the winner's row; an
 * existing order's row is locked before it is read, so `before` is the committed state the
 * move starts from; the stock is taken by whoever sets stock_taken_at (a conditional update),
 * and every job is keyed.
 */
export function* applyingSession(tx: Writer, t: Tables, session: CheckoutFacts): Steps<SessionResult> {
  const target = targetOf(session)
  const { sessionId } = session
  const existing = yield* preparedGet(statements.lockOrderOfSession, { sessionId })
  if (target.kind === 'none') {
    if (target.releaseHolds) yield* inventory.releasingForSession(tx, t, sessionId)
    return existing ? { orderId: existing.id, status: existing.status, created: false, token: existing.publicToken } : { orderId: null, status: null, created: false, token: null }
  }
  const now = Date.now()
  let before = existing
  let created = false
  if (!before) {
    if (!session.hasLines) throw new Error(`orders: session ${sessionId} has no order yet and its line items were not read`)
    yield* serialize(sessionTurn(sessionId))
    const inserted = yield* insertingOrder(tx, t, session, now)
    before = inserted.order
    created = inserted.created
  }
  const orderId = before.id
  const after = (yield* preparedGet(statements.moveOrder, {
    id: orderId,
    rank: RANK[target.status],
    status: target.status,
    refundedCents: target.refundedCents,
    // no dispute: rank 0, never above the row's, so its dispute stays as it is
    disputeRank: target.dispute ? DISPUTE_RANK[target.dispute] : 0,
    dispute: target.dispute,
    isPaid: target.isPaid ? 1 : 0,
    paymentIntentId: session.paymentIntentId,
    paymentMethod: session.paymentMethod ?? null,
    now,
  }))!

  // Stock is taken only on the way out of awaiting_payment, once; an order already past it
  // (including every order recorded before stock_taken_at existed) took its stock then.
  let stockTaken = false
  if (before.status === 'awaiting_payment' && keepsMoney(after.status, after.disputeStatus)) {
    stockTaken = (yield* preparedRun(statements.takeStockOnce, { id: orderId, now })).changes === 1
    if (stockTaken) yield* settlingStock(tx, t, orderId, sessionId, session.cartId)
    // Its digital lines can be downloaded from now on (one grant per line, however often this runs).
    yield* downloads.grantingForOrder(tx, t, orderId, now)
  }
  // Refunded in full or lost to a dispute: the store no longer keeps the money, so the links
  // it gave stop working (a partial refund leaves them; docs/decisions/034-digital-products.md).
  if (after.status !== 'awaiting_payment' && !keepsMoney(after.status, after.disputeStatus)) yield* downloads.revokingForOrder(tx, t, orderId, now)
  if (after.status === 'awaiting_payment') {
    // Awaiting an asynchronous payment: keep the units reserved until it settles or fails,
    // taking them again if the holds ran out; when they cannot be, the owner is told.
    yield* taggingCartHolds(sessionId, session.cartId)
    const { shortVariantIds } = yield* inventory.keepingUntilSettled(tx, t, sessionId, yield* lineTotals(orderId), now)
    if (shortVariantIds.length > 0) yield* flaggingOversold(tx, t, orderId, shortVariantIds, 'pay-later order whose holds ran out; its units are no longer available')
  } else if (after.stockTakenAt === null && !stockTaken && before.status === 'awaiting_payment') {
    // Failed, refunded in full or lost before it was ever seen paid: the units go back.
    yield* inventory.releasingForSession(tx, t, sessionId)
  }

  if (before.status === 'awaiting_payment' && isConfirmable(after.status, after.disputeStatus)) {
    yield* jobs.enqueueing(tx, t, 'mail.order_confirmation', { orderId }, { uniqueKey: confirmationKey(orderId) })
  } else if (!isConfirmable(after.status, after.disputeStatus)) {
    // Refunded or disputed before the confirmation went out: it is no longer true, so it stays unsent.
    yield* jobs.skipping(tx, t, confirmationKey(orderId), 'order no longer paid and undisputed', now)
  }
  if (after.refundedCents > before.refundedCents) {
    // Stripe moved the refund total: tell the shopper, once per increase (the running total
    // keys it, so a replayed or late event adds nothing), whoever refunded and from where.
    yield* jobs.enqueueing(tx, t, 'mail.order_refunded', { orderId, amountCents: after.refundedCents - before.refundedCents, refundedCents: after.refundedCents }, { uniqueKey: `mail.order_refunded:${orderId}:${after.refundedCents}` })
  }
  if (created) yield* afterCommit(`orders.recorded:${orderId}`, () => log.info('orders: recorded', { orderId, sessionId }))
  if (after.status !== before.status) {
    const from = before.status
    yield* afterCommit(`orders.status:${orderId}`, () => log.info('orders: status', { orderId, from, to: after.status }))
  }
  return { orderId, status: after.status, created, token: after.publicToken }
}

const confirmationKey = (orderId: number) => `mail.order_confirmation:${orderId}`

/** An order's row as the intake reads it: PostgreSQL's bigint as text, SQLite's numbers. */
const orderState = (raw: Record<string, unknown>): OrderState => ({
  id: Number(raw.id),
  status: raw.status as OrderStatus,
  publicToken: raw.publicToken as string,
  refundedCents: Number(raw.refundedCents),
  disputeStatus: (raw.disputeStatus as DisputeState) ?? null,
  stockTakenAt: raw.stockTakenAt === null ? null : Number(raw.stockTakenAt),
})
const ORDER_STATE = `id, status, public_token AS "publicToken", refunded_cents AS "refundedCents", dispute_status AS "disputeStatus", stock_taken_at AS "stockTakenAt"`

// Every event about an order runs these: prepared once per connection (decision 001), one
// text for both engines unless said. The JSON columns are encoded here, as drizzle would (a
// null address stays SQL NULL); flags are 0/1 on both engines.
const statements = {
  /** The session's order, its row locked on PostgreSQL until the transaction ends (SQLite's one writer needs no lock). */
  lockOrderOfSession: statementOf<{ sessionId: string }, OrderState>(
    'orders.lockOfSession',
    `SELECT ${ORDER_STATE} FROM orders WHERE stripe_checkout_session_id = @sessionId`,
    orderState,
    `SELECT ${ORDER_STATE} FROM orders WHERE stripe_checkout_session_id = @sessionId FOR UPDATE`,
  ),
  /** One statement: status by rank, refunds by running total, dispute by its own lifecycle. */
  moveOrder: statementOf<{ id: number; rank: number; status: OrderStatus; refundedCents: number; disputeRank: number; dispute: DisputeState; isPaid: number; paymentIntentId: string | null; paymentMethod: string | null; now: number }, OrderState>(
    'orders.move',
    `UPDATE orders SET
      status = CASE WHEN CAST(@rank AS integer) > ${rankText('status', RANK)} THEN CAST(@status AS text) ELSE status END,
      refunded_cents = CASE WHEN CAST(@refundedCents AS bigint) > refunded_cents THEN CAST(@refundedCents AS bigint) ELSE refunded_cents END,
      dispute_status = CASE WHEN CAST(@disputeRank AS integer) > ${rankText('dispute_status', DISPUTE_RANK)} THEN CAST(@dispute AS text) ELSE dispute_status END,
      is_disputed = CASE WHEN CAST(@dispute AS text) IS NOT NULL THEN 1 ELSE is_disputed END,
      paid_at = CASE WHEN CAST(@isPaid AS integer) = 1 THEN coalesce(paid_at, CAST(@now AS bigint)) ELSE paid_at END,
      stripe_payment_intent_id = coalesce(stripe_payment_intent_id, CAST(@paymentIntentId AS text)),
      payment_method = coalesce(payment_method, CAST(@paymentMethod AS text)),
      updated_at = CAST(@now AS bigint)
    WHERE id = @id
    RETURNING ${ORDER_STATE}`,
    orderState,
  ),
  takeStockOnce: statementOf<{ id: number; now: number }>('orders.takeStockOnce', 'UPDATE orders SET stock_taken_at = @now WHERE id = @id AND stock_taken_at IS NULL'),
  insertOrder: statementOf<Record<string, string | number | null>, OrderState>(
    'orders.insert',
    `INSERT INTO orders (stripe_checkout_session_id, stripe_payment_intent_id, public_token, status, total_cents, subtotal_cents,
        shipping_cents, tax_cents, is_tax_inclusive, discount_cents, discount_codes, currency, email, customer_name,
        shipping_address, shipping_rate_name, payment_method, cart_id, created_at, updated_at)
      VALUES (@sessionId, @paymentIntentId, @token, 'awaiting_payment', @totalCents, @subtotalCents,
        @shippingCents, @taxCents, @isTaxInclusive, @discountCents, @discountCodes, @currency, @email, @customerName,
        @shippingAddress, @shippingRateName, @paymentMethod, @cartId, @createdAt, @now)
      ON CONFLICT (stripe_checkout_session_id) DO NOTHING
      RETURNING ${ORDER_STATE}`,
    orderState,
  ),
  skusOf: statementOf<{ ids: string }, { id: number; sku: string }>(
    'orders.skusOf',
    'SELECT id, sku FROM variants WHERE id IN (SELECT value FROM json_each(@ids))',
    (raw) => ({ id: Number(raw.id), sku: raw.sku as string }),
    'SELECT id, sku FROM variants WHERE id IN (SELECT CAST(json_array_elements_text(CAST(@ids AS json)) AS bigint))',
  ),
  insertLine: statementOf<Record<string, string | number | null>>(
    'orders.insertLine',
    `INSERT INTO order_lines (order_id, variant_id, stripe_line_item_id, sku, title, quantity, unit_amount_cents, total_cents, subtotal_cents, discount_cents, tax_cents)
      VALUES (@orderId, @variantId, @stripeLineItemId, @sku, @title, @quantity, @unitAmountCents, @totalCents, @subtotalCents, @discountCents, @taxCents)`,
  ),
  convertCart: statementOf<{ cartId: string; now: number }>(
    'orders.convertCart',
    `UPDATE carts SET status = 'converted', converted_at = @now, updated_at = @now WHERE id = @cartId AND status != 'converted'`,
  ),
  tagHolds: statementOf<{ sessionId: string; cartId: string }>(
    'orders.tagCartHolds',
    `UPDATE stock_holds SET stripe_checkout_session_id = @sessionId WHERE cart_id = @cartId AND status = 'active' AND stripe_checkout_session_id IS NULL`,
  ),
  unitsBought: statementOf<{ orderId: number }, { variantId: number; quantity: number }>(
    'orders.unitsBought',
    // in variant order: the stock rows a sale then updates are locked in one order on every server
    `SELECT variant_id AS "variantId", sum(quantity) AS quantity FROM order_lines WHERE order_id = @orderId AND variant_id IS NOT NULL GROUP BY variant_id ORDER BY variant_id`,
    (raw) => ({ variantId: Number(raw.variantId), quantity: Number(raw.quantity) }),
  ),
}

/**
 * Inserts the order (awaiting payment; applyingSession moves it on) with its lines, and
 * converts the cart. The money — totals, discount, codes, tax, per line too — is written here
 * once and never updated: a completed session's amounts never change at Stripe, so the first
 * application is as good as any later one, and a replay or a late event cannot disturb them.
 * When another transaction inserted the session's order first, its row is read (and locked).
 */
function* insertingOrder(tx: Writer, t: Tables, session: CheckoutFacts, now: number): Steps<{ order: OrderState; created: boolean }> {
  // Made in the body: a retried body makes another, and only the committed one is ever seen.
  const token = crypto.randomBytes(24).toString('base64url')
  const { cartId, sessionId } = session
  const inserted = yield* preparedGet(statements.insertOrder, {
    sessionId,
    paymentIntentId: session.paymentIntentId,
    token,
    totalCents: session.amountTotalCents,
    subtotalCents: session.amountSubtotalCents,
    shippingCents: session.shippingCents,
    taxCents: session.taxCents,
    isTaxInclusive: session.isTaxInclusive ? 1 : 0,
    discountCents: session.discountCents,
    discountCodes: JSON.stringify(session.discountCodes),
    currency: session.currency,
    email: session.email,
    customerName: session.customerName,
    shippingAddress: session.shippingAddress ? JSON.stringify(session.shippingAddress) : null,
    shippingRateName: session.shippingRateName,
    paymentMethod: session.paymentMethod ?? null,
    cartId,
    createdAt: session.createdAt,
    now,
  })
  // two intakes of one session: the loser's insert does nothing and it reads the winner's
  if (!inserted) return { order: (yield* preparedGet(statements.lockOrderOfSession, { sessionId }))!, created: false }

  // Only variants that still exist are linked; the line keeps Stripe's description either way.
  const wanted = session.lines.map((l) => l.variantId).filter((id): id is number => id !== null)
  const known = new Map(wanted.length ? (yield* preparedAll(statements.skusOf, { ids: JSON.stringify(wanted) })).map((v) => [v.id, v.sku]) : [])
  for (const line of session.lines) {
    const { variantId } = line
    yield* preparedRun(statements.insertLine, {
      orderId: inserted.id,
      variantId: variantId !== null && known.has(variantId) ? variantId : null,
      stripeLineItemId: line.stripeLineItemId,
      sku: variantId !== null ? (known.get(variantId) ?? null) : null,
      title: line.description,
      quantity: line.quantity,
      unitAmountCents: line.unitAmountCents,
      totalCents: line.totalCents,
      subtotalCents: line.subtotalCents,
      discountCents: line.discountCents,
      taxCents: line.taxCents,
    })
  }
  if (cartId) yield* preparedRun(statements.convertCart, { cartId, now })
  return { order: inserted, created: true }
}

/** A hold placed just before a crash may never have been tagged with its session. */
function* taggingCartHolds(sessionId: string, cartId: string | null): Steps<void> {
  if (cartId) yield* preparedRun(statements.tagHolds, { sessionId, cartId })
}

/** Units per variant the order bought (lines whose variant still exists), in variant order. */
function* lineTotals(orderId: number): Steps<{ variantId: number; quantity: number }[]> {
  return yield* preparedAll(statements.unitsBought, { orderId })
}

/**
 * The order's units are not all there: flagged for the owner (the dashboard and the orders
 * list show it) and one email to the admins, once per order.
 */
function* flaggingOversold(tx: Writer, t: Tables, orderId: number, variantIds: number[], why: string): Steps<void> {
  yield* run(tx.update(t.orders).set({ isOversold: true, updatedAt: Date.now() }).where(eq(t.orders.id, orderId)))
  yield* jobs.enqueueing(tx, t, 'mail.owner_oversold', { orderId, variantIds }, { uniqueKey: `mail.owner_oversold:${orderId}` })
  yield* afterCommit(`orders.oversold:${orderId}`, () => log.warn(`orders: ${why}; flagged for the owner`, { orderId, variantIds }))
}

/** Converts the session's holds (or decrements directly) and flags a short sale as oversold. */
function* settlingStock(tx: Writer, t: Tables, orderId: number, sessionId: string, cartId: string | null): Steps<void> {
  yield* taggingCartHolds(sessionId, cartId)
  const { shortVariantIds } = yield* inventory.committingSale(tx, t, sessionId, orderId, yield* lineTotals(orderId))
  if (shortVariantIds.length > 0) yield* flaggingOversold(tx, t, orderId, shortVariantIds, 'paid order oversold; recorded')
}

/** The order of a Checkout Session, without its lines (the success page looks for it), or null. */
export function findBySession(sessionId: string): Promise<Order | null> {
  return read(function* (db, t) {
    return (yield* get(db.select().from(t.orders).where(eq(t.orders.stripeCheckoutSessionId, sessionId)))) ?? null
  })
}

export type Order = typeof orders.$inferSelect
export type OrderView = Order & { lines: (typeof orderLines.$inferSelect)[] }

/** The shopper's order behind its private link, with its lines, or null. */
export function findByToken(token: string): Promise<OrderView | null> {
  if (!/^[A-Za-z0-9_-]{16,64}$/.test(token)) return Promise.resolve(null)
  return read(function* (db, t) {
    const order = yield* get(db.select().from(t.orders).where(eq(t.orders.publicToken, token)))
    return order ? { ...order, lines: yield* linesOf(db, t, order.id) } : null
  })
}

/** An order with its lines, or null: the admin's order page, its actions, the emails. */
export function findById(id: number): Promise<OrderView | null> {
  return read(function* (db, t) {
    const order = yield* get(db.select().from(t.orders).where(eq(t.orders.id, id)))
    return order ? { ...order, lines: yield* linesOf(db, t, order.id) } : null
  })
}

/**
 * Every order placed with this address, newest first, whatever case it was typed in: a
 * signed-in shopper's history, guest orders from before the account included.
 */
export function listForEmail(email: string, limit = 200): Promise<OrderView[]> {
  return read(function* (db, t) {
    const rows = yield* all(
      db
        .select()
        .from(t.orders)
        .where(sql`lower(${t.orders.email}) = ${email.trim().toLowerCase()}`)
        .orderBy(sql`lower(${t.orders.email})`, sql`${t.orders.createdAt} DESC`, sql`${t.orders.id} DESC`)
        .limit(limit),
    )
    const views: OrderView[] = []
    for (const order of rows) views.push({ ...order, lines: yield* linesOf(db, t, order.id) })
    return views
  })
}

function* linesOf(db: Reader, t: Tables, orderId: number) {
  return yield* all(db.select().from(t.orderLines).where(eq(t.orderLines.orderId, orderId)).orderBy(asc(t.orderLines.id)))
}

/**
 * What a receipt shows beside a line: its price before the order's discount and any tax added
 * (Stripe's amount_subtotal), so that the lines add up to the subtotal shown under them.
 * Lines recorded before it was kept show what Stripe charged for them, which was the same then.
 */
export function lineAmountOf(line: { subtotalCents: number | null; totalCents: number }): number {
  return line.subtotalCents ?? line.totalCents
}

export type TotalRow = { kind: 'subtotal' | 'discount' | 'shipping' | 'tax' | 'total' | 'refunded' | 'net'; label: string; cents: number }

/**
 * The money lines every surface shows (order pages, emails, the admin), exactly as Stripe
 * reported them and never added up here. The discount is shown as a reduction with the codes
 * used; tax appears only when Stripe charged some, marked when it was inside the prices.
 * Once anything was refunded the total reads "Total charged" (it never changes: it is what
 * Stripe took), followed by the refunds and what the shopper paid net, so a fully refunded
 * order reads "Total charged $203.00 · Refunded −$203.00 · Net $0.00".
 */
export function totalsOf(
  order: Pick<OrderView, 'subtotalCents' | 'discountCents' | 'discountCodes' | 'shippingCents' | 'shippingRateName' | 'taxCents' | 'isTaxInclusive' | 'totalCents'> & Partial<Pick<OrderView, 'refundedCents'>>,
): TotalRow[] {
  const rows: TotalRow[] = [{ kind: 'subtotal', label: 'Subtotal', cents: order.subtotalCents }]
  if (order.discountCents > 0) {
    const codes = order.discountCodes.length ? ` (${order.discountCodes.join(', ')})` : ''
    rows.push({ kind: 'discount', label: `Discount${codes}`, cents: -order.discountCents })
  }
  rows.push({ kind: 'shipping', label: order.shippingRateName ? `Shipping (${order.shippingRateName})` : 'Shipping', cents: order.shippingCents })
  if (order.taxCents > 0) rows.push({ kind: 'tax', label: order.isTaxInclusive ? 'Tax (included)' : 'Tax', cents: order.taxCents })
  const refunded = order.refundedCents ?? 0
  if (refunded <= 0) {
    rows.push({ kind: 'total', label: 'Total', cents: order.totalCents })
    return rows
  }
  rows.push(
    { kind: 'total', label: 'Total charged', cents: order.totalCents },
    { kind: 'refunded', label: 'Refunded', cents: -refunded },
    { kind: 'net', label: 'Net', cents: Math.max(0, order.totalCents - refunded) },
  )
  return rows
}

/** Rows of totalsOf shown in bold: what was charged, and what is left of it after refunds. */
export function isBoldTotal(row: TotalRow): boolean {
  return row.kind === 'total' || row.kind === 'net'
}

// ---------------------------------------------------------------------------------------
// Fulfilment: the owner ships the order (admin; ./shipping)

/**
 * Marks a paid order shipped with its carrier and tracking number, and queues the shipping
 * email, as a step of the caller's transaction. A paid order becomes fulfilled; a partially
 * refunded one keeps its status (statuses never move back, and a later refund event would move
 * it on again) and records the shipment in fulfilled_at, carrier and tracking number. An order
 * is shipped once: one conditional update decides it, so of two owners (or two app servers)
 * shipping it at once, the second waits for the first's row and finds it shipped (PostgreSQL
 * evaluates the condition again on the committed row under READ COMMITTED), and queues nothing.
 */
export function* markingFulfilled(tx: Writer, t: Tables, orderId: number, input: { carrier: string; trackingNumber: string }): Steps<{ before: OrderStatus; after: OrderStatus }> {
  // Read for the owner's message only; the update below decides.
  const order = yield* get(tx.select({ status: t.orders.status, fulfilledAt: t.orders.fulfilledAt }).from(t.orders).where(eq(t.orders.id, orderId)))
  if (!order) throw new NotFound('That order')
  if (!isShippable(order)) {
    throw new InvalidInput(order.fulfilledAt ? 'This order was already marked fulfilled.' : `Only a paid order can be marked fulfilled (this one is ${order.status.replace('_', ' ')}).`)
  }
  const now = Date.now()
  const after = yield* get(
    tx
      .update(t.orders)
      .set({ status: sql`CASE WHEN ${t.orders.status} = 'paid' THEN 'fulfilled' ELSE ${t.orders.status} END`, fulfilledAt: now, updatedAt: now, carrier: input.carrier, trackingNumber: input.trackingNumber })
      .where(and(eq(t.orders.id, orderId), inArray(t.orders.status, SHIPPABLE), sql`${t.orders.fulfilledAt} IS NULL`))
      .returning({ status: t.orders.status, email: t.orders.email }),
  )
  if (!after) throw new InvalidInput('This order was already marked fulfilled.')
  if (after.email) yield* jobs.enqueueing(tx, t, 'mail.order_shipped', { orderId }, { uniqueKey: `mail.order_shipped:${orderId}` })
  // Only a paid order changes status; a partially refunded one was that before, too.
  return { before: after.status === 'fulfilled' ? 'paid' : after.status, after: after.status }
}

const SHIPPABLE: OrderStatus[] = ['paid', 'partially_refunded']

/** Whether the owner can still ship this order: paid (or partly refunded) and not shipped yet. */
export function isShippable(order: { status: OrderStatus; fulfilledAt: number | null }): boolean {
  return SHIPPABLE.includes(order.status) && order.fulfilledAt === null
}

/**
 * Records units of a line put back on the shelf after a refund, never more than were sold, as
 * a step of the refund's transaction; how many it recorded. The count is set only if it is
 * still the one read (compare and set): under READ COMMITTED two refunds of one line on two
 * app servers would otherwise both read the same count and together record more than the line
 * had. The loser reads again (the winner's count is committed by then) and takes what is left.
 */
export function* markingRestocked(tx: Writer, t: Tables, lineId: number, quantity: number): Steps<number> {
  for (;;) {
    const line = yield* get(tx.select({ quantity: t.orderLines.quantity, restocked: t.orderLines.restockedQuantity }).from(t.orderLines).where(eq(t.orderLines.id, lineId)))
    if (!line) return 0
    const take = Math.max(0, Math.min(quantity, line.quantity - line.restocked))
    if (take === 0) return 0
    const { changes } = yield* run(
      tx
        .update(t.orderLines)
        .set({ restockedQuantity: line.restocked + take })
        .where(and(eq(t.orderLines.id, lineId), eq(t.orderLines.restockedQuantity, line.restocked))),
    )
    if (changes === 1) return take
  }
}
