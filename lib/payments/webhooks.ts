import 'server-only'
import { eq, sql } from 'drizzle-orm'
import type Stripe from 'stripe'
import { getDb, write, type Tx } from '@/db'
import { stripeEvents } from '@/db/schema'
import { InvalidSignature } from '@/lib/errors'
import { log } from '@/lib/log'
import * as orders from '@/lib/orders'
import { fulfill } from './fulfil'
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

export type HandleResult = { outcome: 'applied' | 'duplicate' | 'ignored'; orderId?: number | null }

function isProcessed(eventId: string): boolean {
  return !!getDb().select({ processedAt: stripeEvents.processedAt }).from(stripeEvents).where(eq(stripeEvents.id, eventId)).get()?.processedAt
}

/** Records the event as processed; false when another delivery already did (then roll back). */
function markProcessed(tx: Tx, event: Stripe.Event): boolean {
  const objectId = (event.data.object as { id?: string }).id ?? null
  const now = Date.now()
  const result = tx.run(sql`
    INSERT INTO stripe_events (id, type, object_id, stripe_created_at, received_at, processed_at, attempts, error)
    VALUES (${event.id}, ${event.type}, ${objectId}, ${event.created * 1000}, ${now}, ${now}, 1, NULL)
    ON CONFLICT(id) DO UPDATE SET processed_at = excluded.processed_at, attempts = attempts + 1, error = NULL
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
function commit<T>(event: Stripe.Event, effect: (tx: Tx) => T): T {
  return write((tx) => {
    if (!markProcessed(tx, event)) throw new AlreadyProcessed()
    return effect(tx)
  })
}

async function apply(event: Stripe.Event): Promise<HandleResult> {
  switch (event.type) {
    case 'checkout.session.completed':
    case 'checkout.session.async_payment_succeeded':
    case 'checkout.session.expired': {
      // Always re-read the session: the event may be stale or out of order; Stripe's current
      // state is what counts, and applySession only ever moves an order forward.
      const facts = await stripe.readCheckout(event.data.object.id)
      const result = commit(event, (tx) => orders.applySession(tx, facts))
      return { outcome: 'applied', orderId: result.orderId }
    }
    case 'checkout.session.async_payment_failed': {
      const facts = await stripe.readCheckout(event.data.object.id)
      const result = commit(event, (tx) => {
        const r = orders.applySession(tx, facts)
        orders.markPaymentFailed(tx, facts.sessionId)
        return r
      })
      return { outcome: 'applied', orderId: result.orderId }
    }
    case 'charge.refunded': {
      const charge = event.data.object
      const pi = stripe.idOf(charge.payment_intent)
      if (!pi) return { outcome: 'ignored', ...commit(event, () => ({})) }
      await ensureOrderForPaymentIntent(pi)
      // Re-read the charge so the running refund total is current, whatever the delivery order.
      const fresh = await stripe.readCharge(charge.id)
      commit(event, (tx) => {
        if (!orders.applyRefund(tx, pi, Math.max(fresh.amountRefundedCents, charge.amount_refunded))) throw new Error(`no order for payment intent ${pi}`)
      })
      return { outcome: 'applied' }
    }
    case 'charge.dispute.created': {
      const dispute = event.data.object
      let pi = stripe.idOf(dispute.payment_intent)
      if (!pi) {
        const chargeId = stripe.idOf(dispute.charge)
        pi = chargeId ? (await stripe.readCharge(chargeId)).paymentIntentId : null
      }
      if (!pi) throw new Error(`dispute ${dispute.id} has no payment intent`)
      await ensureOrderForPaymentIntent(pi)
      commit(event, (tx) => {
        if (!orders.flagDisputed(tx, pi)) throw new Error(`no order for payment intent ${pi}`)
      })
      return { outcome: 'applied' }
    }
    default:
      commit(event, () => undefined)
      return { outcome: 'ignored' }
  }
}

/** A refund or dispute for an order not recorded yet: fulfil its session first. */
async function ensureOrderForPaymentIntent(paymentIntent: string): Promise<void> {
  if (orders.existsForPaymentIntent(paymentIntent)) return
  const sessionId = await stripe.checkoutSessionIdForPaymentIntent(paymentIntent)
  if (!sessionId) throw new Error(`no Checkout Session found for payment intent ${paymentIntent}`)
  await fulfill(sessionId)
}
