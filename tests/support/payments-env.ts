import Stripe from 'stripe'
import { resetEnv } from '@/lib/env'
import { setClient as setStripeClient } from '@/lib/payments/stripe'
import { freshDb, type TestDb } from './db'
import { startStripeServer, type StripeServer, type StripeServerOptions } from './stripe-server'

// lib/ and a real SQLite file in this process; Stripe is the local Stripe-compatible server
// over HTTP, reached by the store through the official SDK exactly as in production. `stripe`
// is the test's own client (refunds, listing events), told apart from the store's by the
// server's request log.

export type PaymentsEnv = { stripeServer: StripeServer; stripe: Stripe; t: TestDb; close(): Promise<void> }

export async function startPaymentsEnv(opts: StripeServerOptions = {}): Promise<PaymentsEnv> {
  // No webhook URL by default: events are recorded and each test delivers (or drops) them.
  const stripeServer = await startStripeServer({ asyncDelayMs: 60_000, ...opts })
  const stripe = new Stripe(stripeServer.secretKey, { host: stripeServer.host, port: stripeServer.port, protocol: 'http' })
  const t = freshDb()
  Object.assign(process.env, {
    STORAGE_DIR: t.dir,
    PAYMENTS: 'stripe',
    STRIPE_SECRET_KEY: stripeServer.secretKey,
    STRIPE_WEBHOOK_SECRET: stripeServer.webhookSecret,
    STRIPE_API_BASE: stripeServer.url,
    APP_URL: 'http://127.0.0.1:3999',
    JOBS: 'off',
  })
  resetEnv()
  setStripeClient(undefined)
  return {
    stripeServer,
    stripe,
    t,
    async close() {
      setStripeClient(undefined)
      t.close()
      await stripeServer.close()
    },
  }
}

/** Signs `event` as Stripe would and POSTs it to the store's webhook route; the route's Response. */
export async function deliverEvent(env: PaymentsEnv, event: Stripe.Event | Record<string, unknown>): Promise<Response> {
  const { POST } = await import('@/app/api/stripe/webhook/route')
  const payload = JSON.stringify(event)
  const signature = env.stripe.webhooks.generateTestHeaderString({ payload, secret: env.stripeServer.webhookSecret })
  return POST(new Request('http://127.0.0.1:3999/api/stripe/webhook', { method: 'POST', headers: { 'content-type': 'application/json', 'stripe-signature': signature }, body: payload }))
}

/** Every event Stripe has recorded, oldest first (read with the test's own client). */
export async function allEvents(env: PaymentsEnv): Promise<Stripe.Event[]> {
  return (await env.stripe.events.list({ limit: 100 }).autoPagingToArray({ limit: 10_000 })).reverse()
}
