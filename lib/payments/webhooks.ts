import 'server-only'
import { eq, sql } from 'drizzle-orm'
import type Stripe from 'stripe'
import { getDb, write, type Tx } from '@/db'
import { stripeEvents } from '@/db/schema'
import { InvalidSignature } from '@/lib/errors'
import * as checkoutReminders from '@/lib/checkout-reminders'
import * as inventory from '@/lib/inventory'
import { log } from '@/lib/log'
import * as orders from '@/lib/orders'
import * as stripe from './stripe'

// Stripe's webhooks, applied exactly once. Each event is recorded in stripe_events in the
// same immediate transaction as its effect, so a crash before the commit leaves nothing and
// Stripe's retry applies it; a crash after the commit leaves the row and the retry is a
// no-op. Everything fetched from Stripe is fetched before that transaction opens.

export const HANDLED_TYPES = [
  'checkout.session.completed',
  'checkout.session.async_payment_succeeded',
  'checkout.session.async_payment_failed',
  'checkout.session.expired',
  'charge.refunded',
  'charge.dispute.created',
  'charge.dispute.closed',
] as const

export const WEBHOOK_TOLERANCE_SECONDS = 300

export function verify(payload: string, signature: string | null): Stripe.Event {
  if (!signature) throw new InvalidSignature('Missing Stripe-Signature header.')
  try {
    return stripe.constructEvent(payload, signature, WEBHOOK_TOLERANCE_SECONDS)
  } catch (err) {
    throw new InvalidSignature(err instanceof Error ? err.message : 'Invalid signature.')
  }
}

/**
 * applied: the event's effect is in the database; ignored: a type the store does not act on;
 * foreign: a payment that is not this store's (no cart_id session, no session at all), which
 * is recorded and acknowledged, never an order and never an error that Stripe retries.
 */
export type Outcome = 'applied' | 'ignored' | 'foreign'
export type HandleResult = { outcome: Outcome | 'duplicate'; orderId?: number | null }

function isProcessed(eventId: string): boolean {
  return !!getDb().select({ processedAt: stripeEvents.processedAt }).from(stripeEvents).where(eq(stripeEvents.id, eventId)).get()?.processedAt
}

/** Records the event as processed; false when another delivery already did (then roll back). */
function markProcessed(tx: Tx, event: Stripe.Event, outcome: Outcome): boolean {
  const objectId = (event.data.object as { id?: string }).id ?? null
  const now = Date.now()
  const result = tx.run(sql`
    INSERT INTO stripe_events (id, type, object_id, stripe_created_at, received_at, processed_at, attempts, error, outcome)
    VALUES (${event.id}, ${event.type}, ${objectId}, ${event.created * 1000}, ${now}, ${now}, 1, NULL, ${outcome})
    ON CONFLICT(id) DO UPDATE SET processed_at = excluded.processed_at, attempts = attempts + 1, error = NULL, outcome = excluded.outcome
    WHERE stripe_events.processed_at IS NULL`)
  return result.changes === 1
}

class AlreadyProcessed extends Error {}

function recordFailure(event: Stripe.Event, err: unknown) {
  const message = err instanceof Error ? `${err.name}: ${err.message}` : String(err)
  try {
    write((tx) =>
      tx.run(sql`
        INSERT INTO stripe_events (id, type, object_id, stripe_created_at, received_at, attempts, error)
        VALUES (${event.id}, ${event.type}, ${(event.data.object as { id?: string }).id ?? null}, ${event.created * 1000}, ${Date.now()}, 1, ${message.slice(0, 2000)})
        ON CONFLICT(id) DO UPDATE SET attempts = attempts + 1, error = excluded.error WHERE stripe_events.processed_at IS NULL`),
    )
  } catch (writeErr) {
    log.error('payments: could not record event failure', { eventId: event.id, writeErr })
  }
}

/** Applies one verified event. Throws when the effect could not be applied (→ 500, Stripe retries). */
export async function handle(event: Stripe.Event): Promise<HandleResult> {
  if (isProcessed(event.id)) return { outcome: 'duplicate' }
  try {
    return await apply(event)
  } catch (err) {
    if (err instanceof AlreadyProcessed) return { outcome: 'duplicate' }
    recordFailure(event, err)
    throw err
  }
}

/** Runs the effect and the event's row in one transaction; a concurrent twin loses cleanly. */
function commit<T>(event: Stripe.Event, outcome: Outcome, effect: (tx: Tx) => T): T {
  return write((tx) => {
    if (!markProcessed(tx, event, outcome)) throw new AlreadyProcessed()
    return effect(tx)
  })
}

function foreign(event: Stripe.Event, why: string): HandleResult {
  commit(event, 'foreign', () => undefined)
  log.info('payments: not this store\'s payment; recorded and acknowledged', { eventId: event.id, type: event.type, why })
  return { outcome: 'foreign' }
}

/** Re-reads the session and its payment from Stripe and moves the order to what they imply. */
async function applyFresh(event: Stripe.Event, sessionId: string, hasOrder: boolean): Promise<HandleResult> {
  const facts = await stripe.readCheckout(sessionId, { withLines: !hasOrder })
  if (!orders.isStoreSale(facts)) return foreign(event, 'not a sale of this store')
  const result = commit(event, 'applied', (tx) => orders.applySession(tx, facts))
  return { outcome: 'applied', orderId: result.orderId }
}

// Every handler ends in the same place: Stripe's current state for the session, applied by
// orders.applySession, which only moves an order forward. The event says which payment to
// look at, never what its state is; so any delivery order, duplicate or drop converges.
async function apply(event: Stripe.Event): Promise<HandleResult> {
  switch (event.type) {
    case 'checkout.session.completed':
    case 'checkout.session.async_payment_succeeded':
    case 'checkout.session.async_payment_failed':
    case 'checkout.session.expired': {
      const session = event.data.object
      // Whose session it is never changes, so the event's copy can say it without a request.
      if (!orders.isStoreSale({ origin: stripe.originOf(session), paymentStatus: session.payment_status })) return foreign(event, 'not a sale of this store')
      const order = orders.findBySession(session.id)
      if (event.type === 'checkout.session.expired' && !order) {
        // Expired is final at Stripe (an expired session can never be paid), so the holds go
        // back without asking again; the event's copy also has the recovery URL and the
        // shopper's consent, which is all an abandoned-checkout reminder needs.
        const facts = stripe.checkoutFacts(session, [], { hasLines: false })
        commit(event, 'applied', (tx) => {
          inventory.releaseForSession(tx, session.id)
          checkoutReminders.recordExpiry(tx, facts)
        })
        return { outcome: 'applied', orderId: null }
      }
      if (order && order.status !== 'awaiting_payment') {
        // The session part of this order is settled; what could still change (refunds,
        // disputes) comes with its own events, which re-read Stripe. Nothing to ask.
        commit(event, 'applied', () => undefined)
        return { outcome: 'applied', orderId: order.id }
      }
      return applyFresh(event, session.id, !!order)
    }
    case 'charge.refunded': {
      const pi = stripe.idOf(event.data.object.payment_intent)
      if (!pi) return foreign(event, 'charge without a payment intent')
      return applyForPaymentIntent(event, pi)
    }
    case 'charge.dispute.created':
    case 'charge.dispute.closed': {
      const dispute = event.data.object
      let pi = stripe.idOf(dispute.payment_intent)
      if (!pi) {
        const chargeId = stripe.idOf(dispute.charge)
        pi = chargeId ? (await stripe.readCharge(chargeId)).paymentIntentId : null
      }
      if (!pi) return foreign(event, 'dispute without a payment intent')
      return applyForPaymentIntent(event, pi)
    }
    default:
      commit(event, 'ignored', () => undefined)
      return { outcome: 'ignored' }
  }
}

/** A refund or dispute: find the payment's session (ours, or none: foreign) and apply it fresh. */
async function applyForPaymentIntent(event: Stripe.Event, paymentIntent: string): Promise<HandleResult> {
  const order = orders.findByPaymentIntent(paymentIntent)
  if (order) return applyFresh(event, order.stripeCheckoutSessionId, true)
  const session = await stripe.checkoutSessionForPaymentIntent(paymentIntent)
  if (!session) return foreign(event, 'no Checkout Session for the payment intent')
  if (!orders.isStoreSale(session)) return foreign(event, 'not a sale of this store')
  return applyFresh(event, session.id, false)
}
