import type pg from 'pg'
import type Stripe from 'stripe'
import { expect } from 'vitest'
import type { StripeServer } from './stripe-server'

// What the outage tests share: sessions paid at the Stripe-compatible server one after another
// while something is broken, their events delivered (and retried) by that server; then the
// checks that each paid session became exactly one order, with its stock, on the database.

/**
 * What a built app server needs to run on `databaseUrl` with the demo catalog, taking payments
 * from the Stripe-compatible server, shoppers sent back to `appUrl` (the balancer in front).
 */
export function storeOnPostgres(stripeServer: StripeServer, databaseUrl: string, appUrl: string): Record<string, string> {
  return {
    DATABASE_URL: databaseUrl,
    SEED_DEMO: '1',
    PAYMENTS: 'stripe',
    STRIPE_SECRET_KEY: stripeServer.secretKey,
    STRIPE_WEBHOOK_SECRET: stripeServer.webhookSecret,
    STRIPE_API_BASE: stripeServer.url,
    APP_URL: appUrl,
  }
}

/** Anything that answers a query: pg.Pool, PrimaryPool. */
type Queries = { query<R extends pg.QueryResultRow>(text: string, values?: unknown[]): Promise<pg.QueryResult<R>> }

export type PaidSession = { id: string; quantity: number }

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms))

/**
 * Pays a session of 1–3 units of `variantId` every `everyMs` until stopped, or until `max`
 * sessions are paid (a slow machine then gets a backlog it can still work through).
 */
export function streamPayments(stripeServer: StripeServer, variantId: number, everyMs: number, max = Number.POSITIVE_INFINITY): { sessions: PaidSession[]; stop(): Promise<void> } {
  const sessions: PaidSession[] = []
  let streaming = true
  const paying = (async () => {
    while (streaming && sessions.length < max) {
      const quantity = 1 + (sessions.length % 3)
      const session = stripeServer.emulator.control.foreignSession({ line_items: [{ name: 'Outage Mug', unit_amount: 1500, quantity, variant_id: String(variantId) }] })
      sessions.push({ id: session.id, quantity })
      await sleep(everyMs)
    }
  })()
  return {
    sessions,
    stop: async () => {
      streaming = false
      await paying
    },
  }
}

/**
 * Retries every delivery until each paid session is an order (or `timeoutMs` passes), then
 * checks: every delivery Stripe saw acknowledged is an order, none doubled, all paid, the stock
 * moved once per unit from `stock`, one line per order. Gives the figures for the test's log.
 */
export async function expectEachPaidSessionOnce(
  db: Queries,
  stripe: Stripe,
  stripeServer: StripeServer,
  sessions: readonly PaidSession[],
  variant: { id: number; stock: number },
  timeoutMs = 90_000,
): Promise<{ orders: number; acknowledged: number; doubled: number }> {
  const count = async () => Number((await db.query<{ n: string }>('SELECT count(*) AS n FROM orders')).rows[0]!.n)
  const deadline = Date.now() + timeoutMs
  for (;;) {
    await stripeServer.emulator.control.flushWebhooks({ force: true })
    if ((await count()) >= sessions.length || Date.now() > deadline) break
    await sleep(500)
  }

  const orders = (await db.query<{ session_id: string; status: string }>('SELECT stripe_checkout_session_id AS session_id, status FROM orders')).rows
  const bySession = new Set(orders.map((o) => o.session_id))
  const acknowledged = stripeServer.emulator.control.deliveries({ status: 'delivered' }).filter((d) => d.event_type === 'checkout.session.completed')
  for (const d of acknowledged) {
    const event = await stripe.events.retrieve(d.event_id)
    expect(bySession.has((event.data.object as { id: string }).id), `acknowledged ${d.event_id}`).toBe(true)
  }
  expect(orders.length).toBe(bySession.size)
  expect(bySession).toEqual(new Set(sessions.map((s) => s.id)))
  expect(orders.every((o) => o.status === 'paid')).toBe(true)
  const units = sessions.reduce((sum, s) => sum + s.quantity, 0)
  const stock = Number((await db.query<{ stock: number }>('SELECT stock FROM variants WHERE id = $1', [variant.id])).rows[0]!.stock)
  expect(stock).toBe(variant.stock - units)
  const lines = (await db.query<{ n: string; units: string }>('SELECT count(*) AS n, sum(quantity) AS units FROM order_lines')).rows[0]!
  expect({ n: Number(lines.n), units: Number(lines.units) }).toEqual({ n: sessions.length, units })
  return { orders: orders.length, acknowledged: acknowledged.length, doubled: orders.length - bySession.size }
}

/** The time from `since` until the server's /up reports a self-check begun after it that wrote (its latest is cached for up to 3 s). */
export async function writesAgainAfter(serverUrl: string, since: number, giveUpMs: number): Promise<number> {
  for (;;) {
    const res = await fetch(`${serverUrl}/up`).catch(() => null)
    const body = res ? ((await res.json().catch(() => null)) as { status?: string; checkedAt?: string } | null) : null
    if (res?.status === 200 && body?.status === 'ok' && Date.parse(body.checkedAt ?? '') > since) return Date.now() - since
    if (Date.now() - since > giveUpMs) return Number.POSITIVE_INFINITY
    await sleep(100)
  }
}
