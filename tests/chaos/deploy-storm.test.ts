import pg from 'pg'
import Stripe from 'stripe'
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest'
import { startBalancer } from '../support/balancer'
import { freePort, startServer, tempStorage, type ServerHandle } from '../support/server'
import { mixOf, moneyOf, paidSession, promotionCode } from '../support/discounted-sessions'
import { ENGINES } from '../support/engines'
import { startPostgres, type Postgres } from '../support/postgres'
import { openStore } from '../support/store-file'
import { startStripeServer, type StripeServer } from '../support/stripe-server'
import { scratchDatabase, SUITE_POSTGRES } from '../support/suite-database'

// A deploy storm, on purpose: eleven blue-green deploys back to back onto one
// storage folder, every third old process killed with SIGKILL mid-traffic (the others get
// SIGTERM, as Kamal sends it), payments arriving the whole time, webhooks duplicated,
// replayed out of order and, for a while, dropped. At the end every session Stripe says was
// paid is exactly one order, and stock moved exactly once per unit. On SQLite the releases
// share one storage folder; on PostgreSQL (DATABASE_URL) one database, each release with its
// own storage folder, as two hosts would be.

const DEPLOYS = 11
const PAYMENTS_PER_DEPLOY = 4

/** kamal-proxy in miniature: forwards to whichever release is live; 502 when it is gone. */
async function startProxy(): Promise<{ port: number; target: { port: number }; close(): Promise<void> }> {
  const target = { port: 0 }
  const balancer = await startBalancer(() => [target.port])
  return { port: balancer.port, target, close: balancer.close }
}

const live: ServerHandle[] = []
let stripeServer: StripeServer | undefined
let closeProxy: (() => Promise<void>) | undefined
afterEach(async () => {
  await Promise.all(live.splice(0).map((s) => s.stop('SIGKILL')))
  await stripeServer?.close()
  await closeProxy?.()
})

/** The rows the checks read, from whichever engine the releases write to. */
type Rows = { all<T>(text: string, values?: unknown[]): Promise<T[]>; close(): Promise<void> }

function sqliteRows(storageDir: string): Rows & { integrity(): string } {
  const sqlite = openStore(storageDir)
  return {
    all: async <T>(text: string, values: unknown[] = []) => sqlite.prepare(text.replace(/\$\d+/g, '?')).all(...values) as T[],
    close: async () => {
      sqlite.close()
    },
    integrity: () => String(sqlite.pragma('integrity_check', { simple: true })),
  }
}

function postgresRows(url: string): Rows {
  const pool = new pg.Pool({ connectionString: url, max: 2 })
  return {
    // counts and sums come back as text on PostgreSQL: every figure here is a number
    all: async <T>(text: string, values: unknown[] = []) =>
      (await pool.query(text, values)).rows.map((row: Record<string, unknown>) => Object.fromEntries(Object.entries(row).map(([k, v]) => [k, typeof v === 'string' && /^-?\d+$/.test(v) && k !== 'sessionId' ? Number(v) : v]))) as T[],
    close: () => pool.end(),
  }
}

describe.each(ENGINES)('chaos: a deploy storm on %s', (engine) => {
  let server: Postgres | undefined
  let database: { url: string } | undefined
  beforeAll(async () => {
    // the run's PostgreSQL when it was given one, else one of the block's own
    if (engine === 'postgres') database = SUITE_POSTGRES ? { url: await scratchDatabase() } : (server = await startPostgres())
  })
  afterAll(async () => {
    await server?.stop()
  })

  it('deploy after deploy with SIGKILLs, duplicated, reordered and dropped webhooks: one order per paid session', async () => {
    const proxy = await startProxy()
    closeProxy = proxy.close
    const storageDir = tempStorage('till-storm-')
    stripeServer = await startStripeServer({ webhookUrl: `http://127.0.0.1:${proxy.port}/api/stripe/webhook`, retrySchedule: [200, 400, 800, 1600, 3200] })
    const stripe = new Stripe(stripeServer.secretKey, { host: stripeServer.host, port: stripeServer.port, protocol: 'http' })
    const env = {
      ...(database ? { DATABASE_URL: database.url } : {}),
      PAYMENTS: 'stripe',
      STRIPE_SECRET_KEY: stripeServer.secretKey,
      STRIPE_WEBHOOK_SECRET: stripeServer.webhookSecret,
      STRIPE_API_BASE: stripeServer.url,
      APP_URL: `http://127.0.0.1:${proxy.port}`,
    }
    const boot = async () => {
      const server = await startServer({ storageDir: database ? tempStorage('till-storm-') : storageDir, port: await freePort(), env })
      live.push(server)
      return server
    }

    let current = await boot()
    proxy.target.port = current.port
    const sqlite = database ? undefined : sqliteRows(storageDir)
    const db: Rows = sqlite ?? postgresRows(database!.url)
    const variant = (await db.all<{ id: number }>(`SELECT id FROM variants ORDER BY id LIMIT 1`))[0]!
    await db.all('UPDATE variants SET stock = 1000 WHERE id = $1 RETURNING id', [variant.id])

    const sessions: { id: string; quantity: number }[] = []
    // Sessions paid while webhooks were dropped: nothing may deliver their events to us.
    const dropped = new Set<string>()
    // Plain sessions mixed with ones discounted by a promotion code, taxed by automatic tax,
    // or both: whatever Stripe charged is what the order keeps.
    const promotionCodeId = await promotionCode(stripe, 'STORM20')
    const pay = async (n: number) => {
      for (let i = 0; i < n; i++) {
        const quantity = 1 + (sessions.length % 3)
        const mix = mixOf(sessions.length)
        const session =
          mix.discounted || mix.taxed
            ? await paidSession(stripeServer!, stripe, { mix, promotionCodeId, variantId: variant.id, unitAmount: 1500, quantity, appUrl: env.APP_URL })
            : stripeServer!.emulator.control.foreignSession({ line_items: [{ name: 'Storm Mug', unit_amount: 1500, quantity, variant_id: String(variant.id) }] })
        sessions.push({ id: session.id, quantity })
        if (!stripeServer!.emulator.control.setWebhooks({}).webhooks.startsWith('on')) dropped.add(session.id)
      }
    }
    const signedPost = (event: Stripe.Event) => {
      const payload = JSON.stringify(event)
      const signature = stripe.webhooks.generateTestHeaderString({ payload, secret: stripeServer!.webhookSecret })
      return fetch(`http://127.0.0.1:${proxy.port}/api/stripe/webhook`, { method: 'POST', headers: { 'content-type': 'application/json', 'stripe-signature': signature }, body: payload }).catch(() => null)
    }

    for (let deploy = 1; deploy <= DEPLOYS; deploy++) {
      // Drop webhooks entirely during one deploy: only reconciliation can save those orders.
      stripeServer.emulator.control.setWebhooks({ webhooks: deploy === 2 ? 'off' : 'on' })
      await pay(PAYMENTS_PER_DEPLOY / 2)
      // The new release boots beside the old one on the same files, while payments arrive.
      const next = boot()
      await pay(PAYMENTS_PER_DEPLOY / 2)
      // Duplicates and replays out of order, newest first, straight at whichever release is live.
      const recent = (await stripe.events.list({ limit: 10 })).data.filter((e) => !dropped.has((e.data.object as { id: string }).id))
      await Promise.all([...recent, ...recent.slice(0, 3)].map(signedPost))
      const fresh = await next
      proxy.target.port = fresh.port
      // Every third old release dies hard, mid-traffic, as an OOM kill would do it; the
      // others are stopped the way Kamal stops them.
      const old = current
      await old.stop(deploy % 3 === 0 ? 'SIGKILL' : 'SIGTERM')
      live.splice(live.indexOf(old), 1)
      current = fresh
    }
    stripeServer.emulator.control.setWebhooks({ webhooks: 'on' })
    await stripeServer.emulator.control.flushWebhooks({ force: true })
    expect(dropped.size).toBe(PAYMENTS_PER_DEPLOY)
    expect(stripeServer.emulator.control.deliveries({}).filter((d) => dropped.has(d.event_id))).toEqual([])

    // The last release's boot reconciliation, plus webhook retries, must converge.
    const deadline = Date.now() + 60_000
    const count = async () => (await db.all<{ n: number }>('SELECT count(*) AS n FROM orders'))[0]!.n
    while ((await count()) < sessions.length && Date.now() < deadline) await new Promise((r) => setTimeout(r, 250))
    // let any in-flight duplicate land before counting
    await new Promise((r) => setTimeout(r, 1000))

    const orders = await db.all<{ sessionId: string; status: string; totalCents: number }>('SELECT stripe_checkout_session_id AS "sessionId", status, total_cents AS "totalCents" FROM orders')
    const ordered = new Set(orders.map((o) => o.sessionId))
    const lost = sessions.filter((s) => !ordered.has(s.id)).length
    const duplicated = orders.length - ordered.size
    console.log(`deploy overlap on ${engine}: ${DEPLOYS} deploys, ${lost} lost, ${duplicated} duplicated of ${sessions.length} paid orders`)
    expect(orders).toHaveLength(sessions.length)
    expect(new Set(orders.map((o) => o.sessionId))).toEqual(new Set(sessions.map((s) => s.id)))
    expect(orders.every((o) => o.status === 'paid')).toBe(true)
    const units = sessions.reduce((sum, s) => sum + s.quantity, 0)
    const { stock } = (await db.all<{ stock: number }>('SELECT stock FROM variants WHERE id = $1', [variant.id]))[0]!
    expect(stock).toBe(1000 - units)
    // Totals are Stripe's, never recomputed: amount_total, and the discount and tax of total_details.
    const money = await moneyOf(stripe, sessions.map((s) => s.id))
    const recorded = await db.all<{ sessionId: string; totalCents: number; discountCents: number; taxCents: number }>(
      'SELECT stripe_checkout_session_id AS "sessionId", total_cents AS "totalCents", discount_cents AS "discountCents", tax_cents AS "taxCents" FROM orders',
    )
    for (const { sessionId, ...amounts } of recorded) expect(amounts, sessionId).toEqual(money.get(sessionId))
    expect(recorded.filter((o) => o.discountCents > 0).length).toBeGreaterThan(0)
    expect(recorded.filter((o) => o.taxCents > 0).length).toBeGreaterThan(0)
    const lines = (await db.all<{ n: number; units: number }>('SELECT count(*) AS n, sum(quantity) AS units FROM order_lines'))[0]!
    expect(lines).toEqual({ n: sessions.length, units })
    if (sqlite) expect(sqlite.integrity()).toBe('ok')
    await db.close()
  }, 180_000)
})
