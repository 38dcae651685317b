import 'server-only'
import { eq, sql } from 'drizzle-orm'
import type { OrderStatus } from '@/db/schema'
import { get, preparedGet, preparedRun, read, serialize, sqlRun, statementOf, transaction, transactionGrouped, type Steps, type Tables, type Writer } from '@/db/tx'
import * as checkoutReminders from '@/lib/checkout-reminders'
import * as inventory from '@/lib/inventory'
import { log } from '@/lib/log'
import * as payments from '@/lib/payments'
import { applyingSession, isStoreSale, sessionStep, sessionTurn, type SessionResult, type SessionStep } from './order'

// The order's intake: what Stripe says comes in here, already translated by lib/payments into
// the store's own facts, and leaves as the order's state. Two doors: applyEvent for a webhook
// event (and its replays), syncSession for a session the store asks about itself (the success
// page, checkout, reconciliation). Both read Stripe before any transaction opens and apply
// what it says with applyingSession, which only moves an order forward; so any delivery order,
// duplicate or drop converges. Each event is recorded in stripe_events in the same immediate
// transaction as its effect: a crash before the commit leaves nothing and Stripe's retry
// applies it; a crash after it leaves the row, and the retry is a no-op.
//
// Written on db/tx.ts (decision 047), so it runs on both engines. On PostgreSQL, with several
// app servers taking deliveries at once, an event is applied once because its row's insert
// is `ON CONFLICT (id) DO UPDATE … WHERE processed_at IS NULL` (a twin waits for the first's
// commit and then touches nothing); the order's own rules are applyingSession's.

/** The webhook events the store acts on; any other is recorded as ignored. */
export const HANDLED_TYPES = [
  'checkout.session.completed',
  'checkout.session.async_payment_succeeded',
  'checkout.session.async_payment_failed',
  'checkout.session.expired',
  'charge.refunded',
  'charge.dispute.created',
  'charge.dispute.closed',
] as const

/**
 * applied: the event's effect is in the database; ignored: a type the store does not act on;
 * foreign: a payment that is not this store's (no cart_id session, no session at all), which
 * is recorded and acknowledged, never an order and never an error that Stripe retries.
 */
type Outcome = 'applied' | 'ignored' | 'foreign'
export type HandleResult = { outcome: Outcome | 'duplicate'; orderId?: number | null }

type Step = SessionStep | { kind: 'ignored' }

class AlreadyProcessed extends Error {}

/**
 * The one door for a verified event. Throws when its effect could not be applied (the route
 * answers 500 and Stripe retries); the failure is recorded on the event's row.
 */
export async function applyEvent(event: payments.EventFacts): Promise<HandleResult> {
  // One read: whether the event was applied already, and the order of its session (if it has one).
  const seen = await read(function* () {
    const row = yield* preparedGet(statements.processedAt, { id: event.id })
    if (row && row.processedAt !== null) return { isDuplicate: true, order: null }
    const order = event.session ? yield* preparedGet(statements.orderOfSession, { sessionId: event.session.sessionId }) : undefined
    return { isDuplicate: false, order: order ?? null }
  })
  if (seen.isDuplicate) return { outcome: 'duplicate' }
  try {
    let step: Step
    if (!(HANDLED_TYPES as readonly string[]).includes(event.type)) step = { kind: 'ignored' }
    else if (event.session) step = sessionStep(event.session, seen.order)
    else step = await paymentStep(event)
    // Whose sale it is was settled before the read (sessionStep on the event's copy,
    // paymentStep on the payment's session or its order) and never changes at Stripe: the
    // origin is fixed at creation, and so is a $0 session's no_payment_required.
    const facts = step.kind === 'read' ? await payments.readCheckout(step.sessionId, { withLines: step.withLines }) : null
    const outcome: Outcome = step.kind === 'foreign' || step.kind === 'ignored' ? step.kind : 'applied'
    // Answered only after the COMMIT holding the effect; on SQLite shared with the events that
    // reached this point in the same turn (group commit, decision 046).
    const orderId = await transactionGrouped(function* (tx, t) {
      // The event's row first: a twin delivery that recorded it already wins, and this one rolls back.
      const { changes } = yield* preparedRun(statements.recordEvent, { id: event.id, type: event.type, objectId: event.objectId, createdAt: event.created * 1000, now: Date.now(), outcome })
      if (changes !== 1) throw new AlreadyProcessed()
      if (step.kind === 'expire') return yield* expiring(tx, t, event.session!)
      if (step.kind === 'settled') return step.orderId
      return facts && step.kind === 'read' ? (yield* applyingSession(tx, t, facts)).orderId : undefined
    })
    if (step.kind === 'foreign') log.info('orders: not this store\'s payment; recorded and acknowledged', { eventId: event.id, type: event.type, why: step.why })
    return outcome === 'applied' ? { outcome, orderId } : { outcome }
  } catch (err) {
    if (err instanceof AlreadyProcessed) return { outcome: 'duplicate' }
    await recordFailure(event, err)
    throw err
  }
}

/**
 * An expired session that had no order when the event was read: its holds go back and an
 * abandoned-checkout reminder may be kept. Decided again in the session's turn, which a
 * completion creating the order takes too (applyingSession): on PostgreSQL a completion of the
 * same session committing meanwhile, on another server, has kept or sold the held units, and
 * releasing them now would count them free while its order holds or has sold them.
 */
function* expiring(tx: Writer, t: Tables, session: payments.CheckoutFacts): Steps<null> {
  yield* serialize(sessionTurn(session.sessionId))
  if (yield* preparedGet(statements.orderOfSession, { sessionId: session.sessionId })) return null
  yield* inventory.releasingForSession(tx, t, session.sessionId)
  yield* checkoutReminders.recordingExpiry(tx, t, session)
  return null
}

// Every event runs these: prepared once per connection (decision 001), one text for both engines.
const statements = {
  processedAt: statementOf<{ id: string }, { processedAt: number | null }>('intake.processedAt', 'SELECT processed_at AS "processedAt" FROM stripe_events WHERE id = @id', (raw) => ({
    processedAt: raw.processedAt === null ? null : Number(raw.processedAt),
  })),
  orderOfSession: statementOf<{ sessionId: string }, { id: number; status: OrderStatus }>(
    'intake.orderOfSession',
    'SELECT id, status FROM orders WHERE stripe_checkout_session_id = @sessionId',
    (raw) => ({ id: Number(raw.id), status: raw.status as OrderStatus }),
  ),
  recordEvent: statementOf<{ id: string; type: string; objectId: string | null; createdAt: number; now: number; outcome: Outcome }>(
    'intake.recordEvent',
    `INSERT INTO stripe_events (id, type, object_id, stripe_created_at, received_at, processed_at, attempts, error, outcome)
      VALUES (@id, @type, @objectId, @createdAt, @now, @now, 1, NULL, @outcome)
      ON CONFLICT (id) DO UPDATE SET processed_at = excluded.processed_at, attempts = stripe_events.attempts + 1, error = NULL, outcome = excluded.outcome
      WHERE stripe_events.processed_at IS NULL`,
  ),
}

/** A refund or dispute: the session of its payment (this store's order, or none: foreign), read fresh. */
async function paymentStep(event: payments.EventFacts): Promise<Step> {
  const paymentIntent = event.paymentIntentId ?? (event.chargeId ? (await payments.readCharge(event.chargeId)).paymentIntentId : null)
  if (!paymentIntent) return { kind: 'foreign', why: `${event.type.startsWith('charge.dispute') ? 'dispute' : 'charge'} without a payment intent` }
  const order = await read(function* (db, t) {
    return yield* get(db.select({ sessionId: t.orders.stripeCheckoutSessionId }).from(t.orders).where(eq(t.orders.stripePaymentIntentId, paymentIntent)).limit(1))
  })
  if (order) return { kind: 'read', sessionId: order.sessionId, withLines: false }
  const session = await payments.checkoutSessionForPaymentIntent(paymentIntent)
  if (!session) return { kind: 'foreign', why: 'no Checkout Session for the payment intent' }
  if (!isStoreSale(session)) return { kind: 'foreign', why: 'not a sale of this store' }
  return { kind: 'read', sessionId: session.id, withLines: true }
}

/** Keeps why an event failed on its row, in a transaction of its own, for the retry and the admin. */
async function recordFailure(event: payments.EventFacts, err: unknown): Promise<void> {
  const message = err instanceof Error ? `${err.name}: ${err.message}` : String(err)
  try {
    await transaction(function* () {
      yield* sqlRun(sql`
        INSERT INTO stripe_events (id, type, object_id, stripe_created_at, received_at, attempts, error)
        VALUES (${event.id}, ${event.type}, ${event.objectId}, ${event.created * 1000}, ${Date.now()}, 1, ${message.slice(0, 2000)})
        ON CONFLICT (id) DO UPDATE SET attempts = stripe_events.attempts + 1, error = excluded.error WHERE stripe_events.processed_at IS NULL`)
    })
  } catch (writeErr) {
    log.error('orders: could not record event failure', { eventId: event.id, writeErr })
  }
}

/**
 * The store's own door, used by the success page, checkout and reconciliation: read the
 * session (and its line items when it has no order yet) from Stripe, outside any
 * transaction, then apply it in one transaction keyed by the session id.
 */
export async function syncSession(sessionId: string): Promise<SessionResult> {
  const hasOrder = !!(await read(() => preparedGet(statements.orderOfSession, { sessionId })))
  const facts = await payments.readCheckout(sessionId, { withLines: !hasOrder })
  return transaction((tx, t) => applyingSession(tx, t, facts))
}
