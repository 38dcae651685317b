import Stripe from 'stripe'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { PrimaryPool } from '@/db/pg/primary'
import { parseDatabaseUrl } from '@/db/pg/url'
import { FAILOVER_BOUND_MS, startCluster, type Cluster } from '../support/patroni'
import { startBalancer } from '../support/balancer'
import { startServer, type ServerHandle } from '../support/server'
import { expectEachPaidSessionOnce, storeOnPostgres, streamPayments, writesAgainAfter } from '../support/payment-stream'
import { startStripeServer, type StripeServer } from '../support/stripe-server'

// The store itself through a failover: two app servers of the production build on a
// three-member Patroni cluster (synchronous replication, strict), reached by DATABASE_URL naming
// every member with target_session_attrs=read-write. Stripe's signed webhooks stream at them
// through a balancer that alternates between the two, shoppers browse both, and the leader's
// whole machine is SIGKILLed mid-stream. Then: every order Stripe's delivery was acknowledged for
// is on the new leader, every paid session is exactly one order once deliveries have been
// retried, stock moved exactly once per unit, and both app servers write again (their /up is a
// write round trip) within the bound measured here. Needs Debian's postgresql 15, patroni and
// etcd-server, as root: `npm run test:failover`.

const STOCK = 100_000
const PAY_EVERY_MS = 60
const STREAM_BEFORE_KILL_MS = 4_000
const STREAM_AFTER_RESUME_MS = 3_000

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms))

let cluster: Cluster | undefined
let stripeServer: StripeServer | undefined
let balancer: { url: string; close(): Promise<void> } | undefined
let servers: ServerHandle[] = []
let pool: PrimaryPool | undefined

beforeAll(async () => {
  cluster = await startCluster()
  await cluster.waitForHealthy(120_000)
}, 150_000)

afterAll(async () => {
  await Promise.all(servers.map((s) => s.stop('SIGKILL')))
  await pool?.end()
  await balancer?.close()
  await stripeServer?.close()
  await cluster?.stop()
}, 90_000)

describe('failover: the store on a Patroni cluster loses its leader mid-stream', () => {
  it('keeps every acknowledged order, doubles none, keeps stock, and writes again within the bound', async () => {
    const c = cluster!
    // two hosts behind one address, as DNS or a balancer spreads shoppers and Stripe over them
    balancer = await startBalancer(() => servers.map((s) => s.port))
    stripeServer = await startStripeServer({ webhookUrl: `${balancer.url}/api/stripe/webhook`, retrySchedule: [250, 500, 1000, 2000, 4000, 8000, 8000, 8000] })
    const stripe = new Stripe(stripeServer.secretKey, { host: stripeServer.host, port: stripeServer.port, protocol: 'http' })
    const env = storeOnPostgres(stripeServer, c.url, balancer.url)
    servers = await Promise.all([0, 1].map(() => startServer({ env, timeoutMs: 180_000 })))
    pool = new PrimaryPool(parseDatabaseUrl(c.url), { max: 2, waitForPrimaryMillis: FAILOVER_BOUND_MS })
    const variant = (await pool.query<{ id: number }>('SELECT id FROM variants ORDER BY id LIMIT 1')).rows[0]!
    await pool.query('UPDATE variants SET stock = $1 WHERE id = $2', [STOCK, variant.id])

    // Stripe's side of the stream: sessions paid one after another, their events delivered
    // (and retried on failure) to the balancer by the Stripe-compatible server.
    const payments = streamPayments(stripeServer, variant.id, PAY_EVERY_MS)
    // Shoppers browsing both servers the whole time.
    let streaming = true
    let pages = 0
    let pageFailures = 0
    const browsing = (async () => {
      while (streaming) {
        for (const server of servers) {
          const res = await fetch(`${server.url}/api/products`).catch(() => null)
          pages++
          if (!res || res.status >= 500) pageFailures++
          await res?.arrayBuffer()
        }
        await sleep(50)
      }
    })()

    await sleep(STREAM_BEFORE_KILL_MS)
    const paidBeforeKill = payments.sessions.length
    const { member, killedAt } = await c.killLeader()
    // each app server writes again once its own write round trip commits after the kill
    const resumedAfter = await Promise.all(servers.map((server) => writesAgainAfter(server.url, killedAt, FAILOVER_BOUND_MS * 2)))
    await sleep(STREAM_AFTER_RESUME_MS)
    streaming = false
    await Promise.all([payments.stop(), browsing])

    // every delivery retried until it lands; then each paid session must be one order
    const figures = await expectEachPaidSessionOnce(pool, stripe, stripeServer, payments.sessions, { id: variant.id, stock: STOCK })
    const leader = await c.leader()
    console.log(
      `failover (store): ${member.name} killed after ${paidBeforeKill} payments; new leader ${leader?.name}; ` +
        `app servers wrote again after ${resumedAfter.map((ms) => `${ms} ms`).join(' and ')}; ` +
        `${payments.sessions.length} paid sessions, ${figures.acknowledged} acknowledged deliveries, ${figures.orders} orders, ${figures.doubled} doubled; ` +
        `${pages} page reads, ${pageFailures} answered 5xx or not at all`,
    )
    expect(leader && leader.name !== member.name).toBe(true)
    for (const ms of resumedAfter) expect(ms).toBeLessThanOrEqual(FAILOVER_BOUND_MS)
  }, 420_000)
})
