import pg from 'pg'
import Stripe from 'stripe'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { startBalancer } from '../support/balancer'
import { expectEachPaidSessionOnce, storeOnPostgres, streamPayments, writesAgainAfter } from '../support/payment-stream'
import { startPostgres, type Postgres } from '../support/postgres'
import { startServer, type ServerHandle } from '../support/server'
import { startStripeServer, type StripeServer } from '../support/stripe-server'

// The failover test's smaller sibling, sized for `npm test` (the Patroni one, npm run
// test:failover, needs root and three members): two app servers of the production build on one
// PostgreSQL, behind a balancer that alternates between them, Stripe's webhooks streaming at
// them, and the database crashed mid-stream (every process gone at once, as a power cut) and
// started again, recovering from its WAL. Every delivery Stripe saw acknowledged must be an
// order afterwards, every paid session exactly one order once deliveries are retried, the
// stock moved once per unit, and both servers writing again soon after the database is back.

const STOCK = 100_000
const PAY_EVERY_MS = 80
// how long after the database is back both servers must write again: their pools find it on
// their next connection attempt, and /up checks itself every second
const BACK_WITHIN_MS = 15_000

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms))

let database: Postgres
let stripeServer: StripeServer
let balancer: { url: string; close(): Promise<void> }
let servers: ServerHandle[] = []
let pool: pg.Pool

beforeAll(async () => {
  database = await startPostgres()
  balancer = await startBalancer(() => servers.map((s) => s.port))
  stripeServer = await startStripeServer({ webhookUrl: `${balancer.url}/api/stripe/webhook`, retrySchedule: [250, 500, 1000, 2000, 4000, 8000] })
  const env = storeOnPostgres(stripeServer, database.url, balancer.url)
  servers = await Promise.all([0, 1].map(() => startServer({ env, timeoutMs: 120_000 })))
  pool = new pg.Pool({ connectionString: database.url, max: 2 })
  // its idle connection ends with the crash: not the test's failure
  pool.on('error', () => {})
}, 180_000)

afterAll(async () => {
  await Promise.all(servers.map((s) => s.stop('SIGKILL')))
  await pool?.end()
  await balancer?.close()
  await stripeServer?.close()
  await database?.stop()
})

describe('the store on PostgreSQL when the database crashes mid-stream', () => {
  it('keeps every acknowledged order, doubles none, keeps stock, and both app servers write again once it is back', async () => {
    const stripe = new Stripe(stripeServer.secretKey, { host: stripeServer.host, port: stripeServer.port, protocol: 'http' })
    const variant = (await pool.query<{ id: number }>('SELECT id FROM variants ORDER BY id LIMIT 1')).rows[0]!
    await pool.query('UPDATE variants SET stock = $1 WHERE id = $2', [STOCK, variant.id])

    const payments = streamPayments(stripeServer, Number(variant.id), PAY_EVERY_MS)
    await sleep(2_500)
    const paidBeforeCrash = payments.sessions.length
    await database.halt('crash')
    await sleep(2_000)
    await database.resume()
    const backAt = Date.now()
    const resumedAfter = await Promise.all(servers.map((server) => writesAgainAfter(server.url, backAt, BACK_WITHIN_MS * 2)))
    await sleep(1_500)
    await payments.stop()

    const figures = await expectEachPaidSessionOnce(pool, stripe, stripeServer, payments.sessions, { id: Number(variant.id), stock: STOCK })
    console.log(
      `outage: PostgreSQL crashed after ${paidBeforeCrash} payments and was back 2 s later; the app servers wrote again ${resumedAfter.map((ms) => `${ms} ms`).join(' and ')} after; ` +
        `${payments.sessions.length} paid sessions, ${figures.acknowledged} acknowledged deliveries, ${figures.orders} orders, ${figures.doubled} doubled`,
    )
    expect(paidBeforeCrash).toBeGreaterThan(0)
    expect(payments.sessions.length).toBeGreaterThan(paidBeforeCrash)
    for (const ms of resumedAfter) expect(ms).toBeLessThanOrEqual(BACK_WITHIN_MS)
    for (const server of servers) expect(server.output()).not.toMatch(/Unhandled|uncaught/i)
  }, 240_000)
})
