import { eq, sql } from 'drizzle-orm'
import type Stripe from 'stripe'
import { getDb, write, type Tx } from '@/db'
import * as catalog from '@/lib/catalog'
import { stripeEvents } from '@/db/schema'
import { getEnv } from '@/lib/env'
import { InvalidSignature } from '@/lib/errors'
import { log } from '@/lib/log'
import * as orders from '@/lib/orders'
import { stripeClient } from './client'

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
    return stripeClient().webhooks.constructEvent(payload, signature, getEnv().stripeWebhookSecret, WEBHOOK_TOLERANCE_SECONDS)
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
    const result = await apply(event)
    // Sales, releases and failed payments all move availability; cached listings refresh.
    if (result.outcome === 'applied' && event.type.startsWith('checkout.session.')) catalog.onStockChanged([])
    return result
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
      const snapshot = await orders.fetchSession(event.data.object.id)
      const result = commit(event, (tx) => orders.applySession(tx, snapshot))
      return { outcome: 'applied', orderId: result.orderId }
    }
    case 'checkout.session.async_payment_failed': {
      const snapshot = await orders.fetchSession(event.data.object.id)
      const result = commit(event, (tx) => {
        const r = orders.applySession(tx, snapshot)
        orders.markPaymentFailed(tx, snapshot.session.id)
        return r
      })
      return { outcome: 'applied', orderId: result.orderId }
    }
    case 'charge.refunded': {
      const charge = event.data.object
      const pi = typeof charge.payment_intent === 'string' ? charge.payment_intent : charge.payment_intent?.id
      if (!pi) return { outcome: 'ignored', ...commit(event, () => ({})) }
      await ensureOrderForPaymentIntent(pi)
      // Re-read the charge so the running refund total is current, whatever the delivery order.
      const fresh = await stripeClient().charges.retrieve(charge.id)
      commit(event, (tx) => {
        if (!orders.applyRefund(tx, pi, Math.max(fresh.amount_refunded, charge.amount_refunded))) throw new Error(`no order for payment intent ${pi}`)
      })
      return { outcome: 'applied' }
    }
    case 'charge.dispute.created': {
      const dispute = event.data.object
      let pi = typeof dispute.payment_intent === 'string' ? dispute.payment_intent : (dispute.payment_intent?.id ?? null)
      if (!pi) {
        const chargeId = typeof dispute.charge === 'string' ? dispute.charge : dispute.charge.id
        const charge = await stripeClient().charges.retrieve(chargeId)
        pi = typeof charge.payment_intent === 'string' ? charge.payment_intent : (charge.payment_intent?.id ?? null)
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
  const sessions = await stripeClient().checkout.sessions.list({ payment_intent: paymentIntent, limit: 1 })
  const session = sessions.data[0]
  if (!session) throw new Error(`no Checkout Session found for payment intent ${paymentIntent}`)
  await orders.fulfill(session.id)
}

export function isEmulated(): boolean {
  return getEnv().payments === 'emulator'
}
