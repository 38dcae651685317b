import path from 'node:path'
import type autocannon from 'autocannon'
import Database from 'better-sqlite3'
import Stripe from 'stripe'
import type { Store } from './store'

// Webhook ingest. Paid Checkout Sessions are made in the store's built-in payments emulator
// through the stripe SDK (webhook delivery switched off, so no order exists yet); their
// checkout.session.completed events are then POSTed, signed at send time, to the store's
// real route, which reads the session and its line items back from the emulator and records
// the order. The raw baseline gets the same signed events.

export type PreparedEvents = { payloads: string[] }

/** Where the payments API answers: the store's built-in emulator, or a Stripe-compatible server of its own. */
export type PaymentsAt = { url: string; port: number; secretKey: string }

async function control(at: PaymentsAt, name: string, body: Record<string, unknown>) {
  const res = await fetch(`${at.url}/emulator/test/${name}`, {
    method: 'POST',
    headers: { authorization: `Bearer ${at.secretKey}`, 'content-type': 'application/json' },
    body: JSON.stringify(body),
  })
  if (!res.ok) throw new Error(`emulator ${name}: ${res.status} ${await res.text()}`)
  return res.json()
}

function client(at: PaymentsAt): Stripe {
  return new Stripe(at.secretKey, { host: '127.0.0.1', port: at.port, protocol: 'http', maxNetworkRetries: 2 })
}

/**
 * `count` paid sessions of the store's variants and their checkout.session.completed events,
 * as JSON payloads; made where the store takes its payments (`payments`, by default its
 * built-in emulator).
 */
export async function prepareEvents(store: Store, count: number, payments: PaymentsAt = store): Promise<PreparedEvents> {
  const stripe = client(payments)
  const listed = (await (await fetch(`${store.url}/api/products`)).json()) as { products: { variants?: { id: number }[] }[] }
  const variantIds = listed.products.flatMap((p) => (p.variants ?? []).map((v) => v.id))
  if (variantIds.length === 0) throw new Error('webhook bench: the store lists no variants')
  await control(payments, 'webhooks', { webhooks: 'off' })
  const sessionIds = new Set<string>()
  let next = 0
  const worker = async () => {
    while (next < count) {
      const i = next++
      const session = await stripe.checkout.sessions.create({
        mode: 'payment',
        line_items: [{ quantity: 1, price_data: { currency: 'usd', unit_amount: 2500, product_data: { name: 'Bench item', metadata: { variant_id: String(variantIds[i % variantIds.length]) } } } }],
        metadata: { cart_id: `bench-cart-${i}-${Date.now()}` },
        success_url: `${store.url}/checkout/success?session_id={CHECKOUT_SESSION_ID}`,
        cancel_url: `${store.url}/checkout/cancel`,
      })
      await control(payments, 'pay', { session: session.id })
      sessionIds.add(session.id)
    }
  }
  await Promise.all(Array.from({ length: 6 }, worker))
  const payloads: string[] = []
  for await (const event of stripe.events.list({ type: 'checkout.session.completed', limit: 100 })) {
    if (sessionIds.has((event.data.object as { id: string }).id)) payloads.push(JSON.stringify(event))
    if (payloads.length === count) break
  }
  if (payloads.length < count) throw new Error(`webhook bench: ${payloads.length} of ${count} completed events found`)
  return { payloads }
}

/**
 * Returns once the next `needMs` cross none of the store's scheduled reconciles (every five
 * minutes on the clock, lib/jobs/handlers.ts), waiting past one if it is nearer. A reconcile
 * records every paid session whose order is missing, so one running between the bench making
 * its sessions and sending their events would record those orders itself: the events would
 * then measure a duplicate delivery, and the reconcile's own work would share the round.
 */
export async function clearOfScheduledReconcile(needMs: number): Promise<void> {
  const period = 5 * 60_000
  const untilMark = period - (Date.now() % period)
  if (untilMark > needMs) return
  // past the mark, with time for that reconcile to finish (the caller then settles)
  await new Promise((resolve) => setTimeout(resolve, untilMark + 15_000))
}

/**
 * autocannon requests POSTing the payloads in turn (cycling), each signed as it is sent;
 * `orders` counts the answers that say an order was recorded.
 */
export function signedRequests(payloads: string[], path: string, secret: string): { requests: autocannon.Request[]; orders: () => number } {
  let next = 0
  let orders = 0
  const requests: autocannon.Request[] = [
    {
      method: 'POST',
      path,
      onResponse: (status, body) => {
        if (status === 200 && /"outcome":"applied","orderId":\d+/.test(String(body))) orders++
      },
      setupRequest: (request) => {
        const body = payloads[next++ % payloads.length]!
        const signature = Stripe.webhooks.generateTestHeaderString({ payload: body, secret })
        return { ...request, method: 'POST', path, body, headers: { 'content-type': 'application/json', 'stripe-signature': signature } }
      },
    },
  ]
  return { requests, orders: () => orders }
}

/** The Checkout Session ids the events are about. */
export function sessionIdsOf(payloads: string[]): string[] {
  return payloads.map((p) => (JSON.parse(p) as { data: { object: { id: string } } }).data.object.id)
}

/** How many of the events' sessions have their order in the store, read from its SQLite file. */
export function ordersRecorded(store: Store, payloads: string[]): number {
  const sessionIds = sessionIdsOf(payloads)
  const db = new Database(path.join(store.storageDir, 'store.sqlite3'), { readonly: true })
  try {
    db.pragma('busy_timeout = 5000')
    const has = db.prepare('SELECT 1 FROM orders WHERE stripe_checkout_session_id = ?').pluck()
    return sessionIds.filter((id) => has.get(id) !== undefined).length
  } finally {
    db.close()
  }
}
