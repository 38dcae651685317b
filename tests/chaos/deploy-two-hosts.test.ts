import fs from 'node:fs'
import path from 'node:path'
import pg from 'pg'
import Stripe from 'stripe'
import { afterAll, describe, expect, it } from 'vitest'
import { startBalancer } from '../support/balancer'
import { npmRun } from '../support/npm-run'
import { expectEachPaidSessionOnce, storeOnPostgres, streamPayments, type PaidSession } from '../support/payment-stream'
import { startPostgres, type Postgres } from '../support/postgres'
import { startServer, submitActionForm, tempStorage, type ServerHandle } from '../support/server'
import { startStripeServer, type StripeServer } from '../support/stripe-server'

// config/deploy.postgres.yml's deploy, in miniature: two web hosts, each with its own storage
// folder and its own proxy (kamal-proxy), behind one load balancer that spreads Stripe's
// deliveries and shoppers over both, and one PostgreSQL. Kamal deploys both hosts at once, so
// each host's new release boots beside its old one while the other host is mid-deploy too:
// up to four releases write to the database together. The hosts' deploys here are staggered,
// not in lockstep, and some old releases are SIGKILLed mid-stream (the others get SIGTERM, as
// Kamal sends it). Meanwhile sessions are paid at Stripe, its deliveries are retried, replayed
// newest first and sent twice at once (the balancer hands the twins to different hosts), and
// shoppers browse, fill carts and check out (stock holds) through the balancer. Afterwards,
// on PostgreSQL's rows: every paid session is exactly one order, stock moved once per unit
// sold, no hold converted twice, every acknowledged delivery's order there, each migration
// recorded once, and the store's own reconcile finds nothing missing.

const DEPLOYS_PER_HOST = 3
// host B starts its first deploy this long after host A's: the two hosts' releases overlap
// without booting in step
const STAGGER_MS = 1_500
const STOCK = 100_000
const PAY_EVERY_MS = 250
// at most this many sessions paid: on a slow machine the deploys outlast the stream, and what
// the releases must still ingest stays a backlog they can work through
const MAX_PAID = 100
const SHOPPERS = 1
const MAX_VISITS = 30
// every shopper comes from 127.0.0.1: the per-address checkout limit would otherwise refuse them
const CHECKOUTS_PER_ADDRESS = '10000'

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms))

/** One web host: its storage folder, its proxy, and the release the proxy sends traffic to. */
type Host = { name: string; storageDir: string; live: ServerHandle; proxy: { port: number; close(): Promise<void> } }

let database: Postgres | undefined
let stripeServer: StripeServer | undefined
let pool: pg.Pool | undefined
const running = new Set<ServerHandle>()
const closers: (() => Promise<void>)[] = []

afterAll(async () => {
  await Promise.all([...running].map((s) => s.stop('SIGKILL')))
  for (const close of closers.splice(0)) await close()
  await pool?.end()
  await stripeServer?.close()
  await database?.stop()
}, 120_000)

describe('chaos: a blue-green deploy across two hosts on one PostgreSQL', () => {
  it('staggered deploys on both hosts, SIGKILLs, replayed and twin webhooks, shoppers: one order per paid session', async () => {
    const t0 = Date.now()
    // when each phase ended, in seconds from the start, for the figures in docs/scale-out.md
    const phases: string[] = []
    const mark = (what: string) => phases.push(`${what} ${((Date.now() - t0) / 1000).toFixed(1)}`)
    database = await startPostgres()
    mark('postgres up')
    // the load balancer in front of both hosts' proxies
    const hosts: Host[] = []
    const front = await startBalancer(() => hosts.map((h) => h.proxy.port))
    closers.push(front.close)
    stripeServer = await startStripeServer({ webhookUrl: `${front.url}/api/stripe/webhook`, retrySchedule: [250, 500, 1000, 2000, 4000, 8000] })
    const stripe = new Stripe(stripeServer.secretKey, { host: stripeServer.host, port: stripeServer.port, protocol: 'http' })
    const env = { ...storeOnPostgres(stripeServer, database.url, front.url), CHECKOUT_LIMIT_PER_ADDRESS: CHECKOUTS_PER_ADDRESS }

    let mostLive = 0
    const boot = async (storageDir: string) => {
      const server = await startServer({ storageDir, env, timeoutMs: 120_000 })
      running.add(server)
      mostLive = Math.max(mostLive, running.size)
      return server
    }
    const retire = async (server: ServerHandle, signal: NodeJS.Signals) => {
      await server.stop(signal)
      running.delete(server)
    }

    // Both hosts' first releases boot together on the empty database: one migrates and seeds.
    const storageDirs = ['a', 'b'].map((name) => tempStorage(`till-host-${name}-`))
    const first = await Promise.all(storageDirs.map((dir) => boot(dir)))
    mark('both hosts up')
    for (const [i, name] of ['a', 'b'].entries()) {
      const host: Host = { name, storageDir: storageDirs[i]!, live: first[i]!, proxy: { port: 0, close: async () => {} } }
      const proxy = await startBalancer(() => [host.live.port])
      host.proxy = proxy
      closers.push(proxy.close)
      hosts.push(host)
    }

    pool = new pg.Pool({ connectionString: database.url, max: 3 })
    const db = pool
    const variant = (await db.query<{ id: string; slug: string }>('SELECT v.id, p.slug FROM variants v JOIN products p ON p.id = v.product_id ORDER BY v.id LIMIT 1')).rows[0]!
    const variantId = Number(variant.id)
    await db.query('UPDATE variants SET stock = $1 WHERE id = $2', [STOCK, variantId])
    // every variant's stock before the first sale: afterwards stock + units sold must equal it
    const initialStock = new Map((await db.query<{ id: string; stock: number }>('SELECT id, stock FROM variants')).rows.map((r) => [Number(r.id), Number(r.stock)]))

    // Sessions paid at Stripe (no cart, as a Payment Link's) whose events Stripe delivers and retries.
    const payments = streamPayments(stripeServer, variantId, PAY_EVERY_MS, MAX_PAID)

    // Shoppers: the home page, the product, add to cart, the cart, checkout (units held), and
    // three of four pay at Stripe. A request cut by a killed release fails that visit; the
    // shopper starts another.
    const shopperSessions: PaidSession[] = []
    const checkoutsWithHolds: string[] = []
    let visits = 0
    let failedVisits = 0
    let isShopping = true
    const visit = async (n: number) => {
      const quantity = 1 + (n % 2)
      for (const page of ['/', `/products/${variant.slug}`]) {
        const res = await fetch(`${front.url}${page}`)
        if (!res.ok) throw new Error(`${page}: ${res.status}`)
      }
      const added = await submitActionForm(front.url, `/products/${variant.slug}`, 'add-to-cart-form', { fields: { variantId: String(variantId), quantity: String(quantity) } })
      const cookie = added.headers.getSetCookie().map((c) => c.split(';')[0]).join('; ')
      if (added.status !== 303 || !cookie) throw new Error(`add to cart: ${added.status}`)
      const cart = await fetch(`${front.url}/cart`, { headers: { cookie } })
      if (!(await cart.text()).includes('>Checkout<')) throw new Error(`cart: ${cart.status}`)
      const started = await submitActionForm(front.url, '/cart', '>Checkout<', { cookie })
      const sessionId = /cs_[A-Za-z0-9_]+/.exec(started.headers.get('location') ?? '')?.[0]
      if (started.status !== 303 || !sessionId) throw new Error(`checkout: ${started.status} ${started.headers.get('location')}`)
      checkoutsWithHolds.push(sessionId)
      if (n % 4 === 3) return // abandoned at the payment page: its holds stay until they expire
      stripeServer!.emulator.control.pay({ session: sessionId })
      shopperSessions.push({ id: sessionId, quantity })
    }
    const shoppers = Array.from({ length: SHOPPERS }, async () => {
      while (isShopping && visits < MAX_VISITS) {
        const n = visits++
        await visit(n).catch(() => failedVisits++)
      }
    })

    // Stripe's events again, newest first, each sent twice at once: the balancer hands the twins
    // to different hosts. An acknowledged completion must have its order committed already.
    const sessionOf = (event: Stripe.Event) => (event.data.object as { id: string }).id
    const signedPost = async (event: Stripe.Event) => {
      const payload = JSON.stringify(event)
      const signature = stripe.webhooks.generateTestHeaderString({ payload, secret: stripeServer!.webhookSecret })
      return fetch(`${front.url}/api/stripe/webhook`, { method: 'POST', headers: { 'content-type': 'application/json', 'stripe-signature': signature }, body: payload }).catch(() => null)
    }
    let replayed = 0
    let replayAcknowledged = 0
    const acknowledgedWithoutOrder: string[] = []
    let isReplaying = true
    const replaying = (async () => {
      while (isReplaying) {
        const recent = (await stripe.events.list({ limit: 6 })).data
        await Promise.all(
          recent.flatMap((event) =>
            [0, 1].map(async () => {
              const res = await signedPost(event)
              replayed++
              if (!res?.ok || event.type !== 'checkout.session.completed') return
              replayAcknowledged++
              const { rowCount } = await db.query('SELECT 1 FROM orders WHERE stripe_checkout_session_id = $1', [sessionOf(event)])
              if (!rowCount) acknowledgedWithoutOrder.push(event.id)
            }),
          ),
        )
        await sleep(1_000)
      }
    })()

    // Each host deploys DEPLOYS_PER_HOST times, back to back, host B starting later: the new
    // release boots while the old one serves (and while the other host does the same), the
    // proxy switches to it, then the old one is stopped; every third of them SIGKILLed.
    const deployStarted = Date.now()
    let killed = 0
    // The first deploy retires neither old release before both new ones are up, so four
    // releases write at once however fast this machine boots them; the later deploys run free.
    let firstBooted = 0
    let bothFirstUp!: () => void
    const bothFirstBooted = new Promise<void>((resolve) => (bothFirstUp = resolve))
    const deployHost = async (host: Host, offset: number) => {
      await sleep(offset)
      for (let deploy = 1; deploy <= DEPLOYS_PER_HOST; deploy++) {
        const fresh = await boot(host.storageDir)
        if (deploy === 1) {
          if (++firstBooted === hosts.length) bothFirstUp()
          await bothFirstBooted
        }
        const old = host.live
        host.live = fresh
        const isKilled = (deploy + hosts.indexOf(host)) % 3 === 0
        if (isKilled) killed++
        await retire(old, isKilled ? 'SIGKILL' : 'SIGTERM')
      }
    }
    await Promise.all(hosts.map((host, i) => deployHost(host, i * STAGGER_MS)))
    const deploySeconds = (Date.now() - deployStarted) / 1000
    await sleep(1_000)
    isShopping = false
    mark('deploys done')
    await Promise.all(shoppers)
    await payments.stop()
    isReplaying = false
    await replaying

    const sessions = [...payments.sessions, ...shopperSessions]
    const figures = await expectEachPaidSessionOnce(db, stripe, stripeServer, sessions, { id: variantId, stock: STOCK })
    mark('every session an order')
    // a twin delivery still in flight has landed before the rest is read
    await sleep(500)

    // Stock moved once per unit sold, on every variant: what is on the shelf plus what was sold
    // is what there was; and each order's sale is one ledger entry of exactly its units.
    const sold = new Map((await db.query<{ id: string; units: string }>('SELECT variant_id AS id, sum(quantity) AS units FROM order_lines WHERE variant_id IS NOT NULL GROUP BY variant_id')).rows.map((r) => [Number(r.id), Number(r.units)]))
    const shelf = (await db.query<{ id: string; stock: number }>('SELECT id, stock FROM variants')).rows
    for (const { id, stock } of shelf) expect(Number(stock) + (sold.get(Number(id)) ?? 0), `variant ${id}`).toBe(initialStock.get(Number(id)))
    const ledgerByOrder = await db.query<{ n: string }>(
      `SELECT o.id AS n FROM orders o
        LEFT JOIN (SELECT note, count(*) AS entries, sum(delta) AS delta FROM stock_ledger WHERE reason = 'sale' GROUP BY note) l ON l.note = o.stripe_checkout_session_id
        JOIN (SELECT order_id, sum(quantity) AS units FROM order_lines GROUP BY order_id) q ON q.order_id = o.id
        WHERE l.entries IS DISTINCT FROM 1 OR l.delta IS DISTINCT FROM -q.units`,
    )
    expect(ledgerByOrder.rows, 'orders whose sale is not exactly one ledger entry of their units').toEqual([])

    // No hold converted twice: a paid checkout's holds are all converted, once, and cover its
    // units exactly; no converted hold belongs to a session without an order.
    const holds = (
      await db.query<{ session: string; status: string; units: string; holds: string }>(
        `SELECT stripe_checkout_session_id AS session, status, sum(quantity) AS units, count(*) AS holds FROM stock_holds WHERE stripe_checkout_session_id = ANY($1) GROUP BY 1, 2`,
        [shopperSessions.map((s) => s.id)],
      )
    ).rows
    for (const session of shopperSessions) {
      expect(holds.filter((h) => h.session === session.id).map((h) => ({ status: h.status, units: Number(h.units), holds: Number(h.holds) })), session.id).toEqual([
        { status: 'converted', units: session.quantity, holds: 1 },
      ])
    }
    const strayConverted = await db.query(`SELECT id FROM stock_holds h WHERE status = 'converted' AND NOT EXISTS (SELECT 1 FROM orders o WHERE o.stripe_checkout_session_id = h.stripe_checkout_session_id)`)
    expect(strayConverted.rows).toEqual([])
    expect(acknowledgedWithoutOrder, 'replays acknowledged before their order was committed').toEqual([])

    // Every release booted against a database the other host's releases were using; each
    // migration this release knows is recorded exactly once.
    const journal = JSON.parse(fs.readFileSync(path.resolve(__dirname, '../../db/pg/migrations/meta/_journal.json'), 'utf8')) as { entries: { when: number }[] }
    const migrations = (await db.query<{ created_at: string; n: string }>('SELECT created_at, count(*) AS n FROM drizzle.__drizzle_migrations GROUP BY created_at ORDER BY created_at')).rows
    expect(migrations.map((m) => ({ createdAt: Number(m.created_at), n: Number(m.n) }))).toEqual(journal.entries.map((e) => ({ createdAt: e.when, n: 1 })))

    // The store's own reconcile, as an operator runs it after the storm: nothing missing.
    let reconciled = await npmRun('reconcile', [], { ...env, STORAGE_DIR: tempStorage('till-reconcile-') })
    // 75: a reconcile of a release is running (or a SIGKILLed one's lease has not run out yet)
    for (let i = 0; i < 30 && reconciled.code === 75; i++) {
      await sleep(1_000)
      reconciled = await npmRun('reconcile', [], { ...env, STORAGE_DIR: tempStorage('till-reconcile-') })
    }
    mark('reconciled')
    expect(reconciled.code, reconciled.stderr).toBe(0)
    expect(reconciled.stdout).toMatch(/reconcile: \d+ events, \d+ sessions \(0 read from Stripe\), 0 orders created, 0 failures/)

    console.log(
      `two hosts on PostgreSQL: ${DEPLOYS_PER_HOST} deploys a host in ${deploySeconds.toFixed(1)} s, up to ${mostLive} releases at once, ${killed} old releases SIGKILLed; ` +
        `${sessions.length} paid sessions (${shopperSessions.length} from ${checkoutsWithHolds.length} shoppers' checkouts, ${visits} visits, ${failedVisits} cut), ` +
        `${figures.acknowledged} acknowledged deliveries + ${replayAcknowledged} of ${replayed} replays acknowledged, ${figures.orders} orders, ${figures.doubled} doubled; ` +
        `seconds from the start: ${phases.join(', ')}`,
    )
    expect(mostLive).toBe(4)
    expect(killed).toBeGreaterThan(0)
    expect(shopperSessions.length).toBeGreaterThan(0)
    expect(replayAcknowledged).toBeGreaterThan(0)
    for (const server of running) expect(server.output()).not.toMatch(/Unhandled|uncaught/i)
  }, 600_000)
})
