import 'server-only'
import { eq, sql } from 'drizzle-orm'
import { getDb, prepared, write, writeGrouped } from '@/db'
import { orders, stripeEvents } from '@/db/schema'
import * as checkoutReminders from '@/lib/checkout-reminders'
import * as inventory from '@/lib/inventory'
import { log } from '@/lib/log'
import * as payments from '@/lib/payments'
import { applySession, isStoreSale, sessionStep, type SessionResult, type SessionStep } from './order'

// The order's intake: what Stripe says comes in here, already translated by lib/payments into
// the store's own facts, and leaves as the order's state. Two doors: applyEvent for a webhook
// event (and its replays), syncSession for a session the store asks about itself (the success
// page, checkout, reconciliation). Both read Stripe before any transaction opens and apply
// what it says with applySession, which only moves an order forward; so any delivery order,
// duplicate or drop converges. Each event is recorded in stripe_events in the same immediate
// transaction as its effect: a crash before the commit leaves nothing and Stripe's retry
// applies it; a crash after it leaves the row, and the retry is a no-op.

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
  if (processedAt().get({ id: event.id })?.processedAt) return { outcome: 'duplicate' }
  try {
    let step: Step
    if (!(HANDLED_TYPES as readonly string[]).includes(event.type)) step = { kind: 'ignored' }
    else if (event.session) {
      const order = orderOfSession().get({ sessionId: event.session.sessionId }) ?? null
      step = sessionStep(event.session, order)
    } else step = await paymentStep(event)
    // Whose sale it is was settled before the read (sessionStep on the event's copy,
    // paymentStep on the payment's session or its order) and never changes at Stripe: the
    // origin is fixed at creation, and so is a $0 session's no_payment_required.
    const facts = step.kind === 'read' ? await payments.readCheckout(step.sessionId, { withLines: step.withLines }) : null
    const outcome: Outcome = step.kind === 'foreign' || step.kind === 'ignored' ? step.kind : 'applied'
    // Answered only after the COMMIT holding the effect, shared with the events that reached
    // this point in the same turn (group commit, decision 046).
    const orderId = await writeGrouped((tx) => {
      // The event's row first: a twin delivery that recorded it already wins, and this one rolls back.
      const { changes } = recordEvent().run({ id: event.id, type: event.type, objectId: event.objectId, createdAt: event.created * 1000, now: Date.now(), outcome })
      if (changes !== 1) throw new AlreadyProcessed()
      if (step.kind === 'expire') {
        inventory.releaseForSession(tx, event.session!.sessionId)
        checkoutReminders.recordExpiry(tx, event.session!)
        return null
      }
      if (step.kind === 'settled') return step.orderId
      return facts && step.kind === 'read' ? applySession(tx, facts).orderId : undefined
    })
    if (step.kind === 'foreign') log.info('orders: not this store\'s payment; recorded and acknowledged', { eventId: event.id, type: event.type, why: step.why })
    return outcome === 'applied' ? { outcome, orderId } : { outcome }
  } catch (err) {
    if (err instanceof AlreadyProcessed) return { outcome: 'duplicate' }
    recordFailure(event, err)
    throw err
  }
}

// Every event asks these; built once (db.prepared), as drizzle would rebuild them each time.
const processedAt = () =>
  prepared('intake.processedAt', (db) => db.select({ processedAt: stripeEvents.processedAt }).from(stripeEvents).where(eq(stripeEvents.id, sql.placeholder('id'))).prepare())
const orderOfSession = () =>
  prepared('intake.orderOfSession', (db) =>
    db.select({ id: orders.id, status: orders.status }).from(orders).where(eq(orders.stripeCheckoutSessionId, sql.placeholder('sessionId'))).prepare(),
  )
const recordEvent = () =>
  prepared('intake.recordEvent', (db) =>
    db.$client.prepare(`
      INSERT INTO stripe_events (id, type, object_id, stripe_created_at, received_at, processed_at, attempts, error, outcome)
      VALUES (@id, @type, @objectId, @createdAt, @now, @now, 1, NULL, @outcome)
      ON CONFLICT(id) DO UPDATE SET processed_at = excluded.processed_at, attempts = attempts + 1, error = NULL, outcome = excluded.outcome
      WHERE stripe_events.processed_at IS NULL`),
  )

/** A refund or dispute: the session of its payment (this store's order, or none: foreign), read fresh. */
async function paymentStep(event: payments.EventFacts): Promise<Step> {
  const paymentIntent = event.paymentIntentId ?? (event.chargeId ? (await payments.readCharge(event.chargeId)).paymentIntentId : null)
  if (!paymentIntent) return { kind: 'foreign', why: `${event.type.startsWith('charge.dispute') ? 'dispute' : 'charge'} without a payment intent` }
  const order = getDb().select({ sessionId: orders.stripeCheckoutSessionId }).from(orders).where(eq(orders.stripePaymentIntentId, paymentIntent)).get()
  if (order) return { kind: 'read', sessionId: order.sessionId, withLines: false }
  const session = await payments.checkoutSessionForPaymentIntent(paymentIntent)
  if (!session) return { kind: 'foreign', why: 'no Checkout Session for the payment intent' }
  if (!isStoreSale(session)) return { kind: 'foreign', why: 'not a sale of this store' }
  return { kind: 'read', sessionId: session.id, withLines: true }
}

function recordFailure(event: payments.EventFacts, err: unknown) {
  const message = err instanceof Error ? `${err.name}: ${err.message}` : String(err)
  try {
    write((tx) =>
      tx.run(sql`
        INSERT INTO stripe_events (id, type, object_id, stripe_created_at, received_at, attempts, error)
        VALUES (${event.id}, ${event.type}, ${event.objectId}, ${event.created * 1000}, ${Date.now()}, 1, ${message.slice(0, 2000)})
        ON CONFLICT(id) DO UPDATE SET attempts = attempts + 1, error = excluded.error WHERE stripe_events.processed_at IS NULL`),
    )
  } catch (writeErr) {
    log.error('orders: could not record event failure', { eventId: event.id, writeErr })
  }
}

/**
 * The store's own door, used by the success page, checkout and reconciliation: read the
 * session (and its line items when it has no order yet) from Stripe, outside any
 * transaction, then apply it in one immediate transaction keyed by the session id.
 */
export async function syncSession(sessionId: string): Promise<SessionResult> {
  const hasOrder = !!getDb().select({ id: orders.id }).from(orders).where(eq(orders.stripeCheckoutSessionId, sessionId)).get()
  const facts = await payments.readCheckout(sessionId, { withLines: !hasOrder })
  return write((tx) => applySession(tx, facts))
}
