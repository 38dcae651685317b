import fs from 'node:fs'
import pg from 'pg'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { PrimaryPool } from '@/db/pg/primary'
import { clientConfig, parseDatabaseUrl, type PgHost } from '@/db/pg/url'
import { FAILOVER_BOUND_MS, HAPROXY, startCluster, type Cluster, type Member } from '../support/patroni'

// A three-member Patroni cluster with synchronous replication, its leader SIGKILLed while
// eight writers insert orders: every acknowledged order must be on the new leader exactly
// once, and the old leader must rejoin with the same rows. The writers go through the
// primary-following pool (db/pg/primary.ts), which must also follow a graceful switchover,
// and then, for comparison, through HAProxy following Patroni's REST API (skipped when
// Debian's `haproxy` is not installed). Figures are printed; decision 040 records them.
// Needs Debian's `postgresql` 15, `patroni` and `etcd-server`; run as root (the cluster runs
// as the `postgres` user). `npm run test:failover:cluster`.

const WRITERS = 8
const WRITE_BEFORE_KILL_MS = 3_000
const WRITE_AFTER_RECOVERY_MS = 3_000

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms))

let cluster: Cluster | undefined
const pools: { end(): Promise<void> }[] = []

beforeAll(async () => {
  const started = Date.now()
  cluster = await startCluster()
  await cluster.waitForHealthy(120_000)
  console.log(`cluster: etcd and 3 Patroni members healthy (leader, sync standby, replica) ${Date.now() - started} ms after start`)
}, 150_000)

afterAll(async () => {
  await Promise.all(pools.map((p) => p.end()))
  await cluster?.stop()
}, 60_000)

/** What the writers need of a pool: PrimaryPool and pg.Pool both have it. */
interface Db {
  connect(): Promise<pg.PoolClient>
  query<R extends pg.QueryResultRow>(text: string, values?: unknown[]): Promise<pg.QueryResult<R>>
}

/** One member's own PostgreSQL, leader or standby, for reading what it holds. */
async function onMember<T>(c: Cluster, member: Member, read: (client: pg.Client) => Promise<T>): Promise<T> {
  const client = new pg.Client(clientConfig(parseDatabaseUrl(c.url), { host: '127.0.0.1', port: member.pgPort }))
  client.on('error', () => {})
  await client.connect()
  try {
    return await read(client)
  } finally {
    await client.end()
  }
}

async function orderIds(c: Cluster, member: Member, table: string): Promise<string[]> {
  return onMember(c, member, async (client) => (await client.query<{ id: string }>(`SELECT id FROM ${table} ORDER BY id`)).rows.map((r) => r.id))
}

interface FailoverRun {
  killed: Member
  killedAt: number
  /** Kill to the first acknowledged write begun after it. */
  pauseMs: number
  before: number
  acknowledged: Set<string>
  attempted: Set<string>
  retries: number
  /** Retries that found their row already there: the earlier attempt committed, its reply lost. */
  landedUnanswered: number
  errors: Map<string, number>
}

/**
 * Eight writers insert orders into `table` (and count each in `<table>_totals`, an effect a
 * double would show in), the leader is killed after a few seconds, and they go on until
 * writes succeed again and a few seconds more. Half the writers use one statement through
 * `query`, half a transaction on a borrowed client: the client the server dies under.
 */
async function writeThroughFailover(c: Cluster, db: Db, table: string): Promise<FailoverRun> {
  const totals = `${table}_totals`
  await db.query(`CREATE TABLE ${table} (id text PRIMARY KEY, writer int NOT NULL, seq int NOT NULL, total_cents int NOT NULL)`)
  await db.query(`CREATE TABLE ${totals} (writer int PRIMARY KEY, orders int NOT NULL)`)
  await db.query(`INSERT INTO ${totals} SELECT n, 0 FROM generate_series(0, ${WRITERS - 1}) AS n`)

  // True when this attempt inserted the row, false when an earlier one already had.
  async function insertOnce(writer: number, seq: number, id: string): Promise<boolean> {
    if (writer % 2 === 0) {
      const { rows } = await db.query<{ inserted: number }>(
        `WITH inserted AS (INSERT INTO ${table} VALUES ($1, $2, $3, 1000) ON CONFLICT (id) DO NOTHING RETURNING id)
         UPDATE ${totals} SET orders = orders + (SELECT count(*) FROM inserted) WHERE writer = $2
         RETURNING (SELECT count(*) FROM inserted)::int AS inserted`,
        [id, writer, seq],
      )
      return rows[0]?.inserted === 1
    }
    const client = await db.connect()
    let failure: Error | undefined
    try {
      await client.query('BEGIN')
      const inserted = await client.query(`INSERT INTO ${table} VALUES ($1, $2, $3, 1000) ON CONFLICT (id) DO NOTHING`, [id, writer, seq])
      if (inserted.rowCount === 1) await client.query(`UPDATE ${totals} SET orders = orders + 1 WHERE writer = $1`, [writer])
      // COMMIT of a transaction that failed answers ROLLBACK without an error.
      const commit = await client.query('COMMIT')
      if (commit.command !== 'COMMIT') throw new Error(`COMMIT answered ${commit.command}`)
      return inserted.rowCount === 1
    } catch (err) {
      failure = err as Error
      throw err
    } finally {
      client.release(failure)
    }
  }

  const acknowledged = new Set<string>()
  const attempted = new Set<string>()
  const errors = new Map<string, number>()
  let retries = 0
  let landedUnanswered = 0
  let stopping = false
  // When the leader was killed, and when a write begun after that was first acknowledged.
  const clock: { killedAt?: number; resumedAt?: number } = {}
  const hardDeadline = Date.now() + 5 * 60_000

  async function writer(n: number): Promise<void> {
    for (let seq = 0; !stopping; seq++) {
      // The key is chosen before the first attempt and kept for every retry: a write whose
      // reply was lost may have committed, and the retry must then change nothing.
      const id = `w${n}-${seq}`
      attempted.add(id)
      for (let attempt = 0; ; attempt++) {
        const startedAt = Date.now()
        try {
          const inserted = await insertOnce(n, seq, id)
          if (!inserted && attempt > 0) landedUnanswered++
          acknowledged.add(id)
          if (clock.killedAt !== undefined && startedAt >= clock.killedAt) clock.resumedAt ??= Date.now()
          break
        } catch (err) {
          const key = (err as { code?: string }).code ?? (err as Error).message.slice(0, 60)
          errors.set(key, (errors.get(key) ?? 0) + 1)
          retries++
          if (Date.now() > hardDeadline) throw err
          await sleep(50)
        }
      }
    }
  }

  const writing = Promise.all(Array.from({ length: WRITERS }, (_, n) => writer(n)))
  try {
    await sleep(WRITE_BEFORE_KILL_MS)
    const before = acknowledged.size
    const { member: killed, killedAt } = await c.killLeader()
    clock.killedAt = killedAt
    console.log(`${table}: killed leader ${killed.name} (port ${killed.pgPort}) after ${before} acknowledged writes`)
    while (clock.resumedAt === undefined && Date.now() - killedAt < FAILOVER_BOUND_MS) await sleep(50)
    const pauseMs = clock.resumedAt === undefined ? undefined : clock.resumedAt - killedAt
    if (pauseMs === undefined) throw new Error(`${table}: no write succeeded within ${FAILOVER_BOUND_MS} ms of the kill`)
    await sleep(WRITE_AFTER_RECOVERY_MS)
    return { killed, killedAt, pauseMs, before, acknowledged, attempted, retries, landedUnanswered, errors }
  } finally {
    stopping = true
    await writing
  }
}

/** Prints the run and checks the new leader holds every acknowledged order exactly once; returns its ids. */
async function expectEveryOrderOnce(c: Cluster, run: FailoverRun, leader: Member, table: string): Promise<string[]> {
  const onLeader = await orderIds(c, leader, table)
  const leaderSet = new Set(onLeader)
  const { doubled, totalsOff } = await onMember(c, leader, async (client) => ({
    doubled: (await client.query(`SELECT id FROM ${table} GROUP BY id HAVING count(*) > 1`)).rows,
    totalsOff: (
      await client.query(
        `SELECT t.writer, t.orders, count(o.id)::int AS rows FROM ${table}_totals t LEFT JOIN ${table} o ON o.writer = t.writer
         GROUP BY t.writer, t.orders HAVING t.orders <> count(o.id)`,
      )
    ).rows,
  }))
  console.log(
    [
      `${table}: writes resumed ${run.pauseMs} ms after the kill (first write begun after the kill and acknowledged); new leader ${leader.name}`,
      `${table}: ${run.acknowledged.size} writes acknowledged (${run.before} before the kill), ${onLeader.length} rows on the new leader; ${run.retries} failed attempts retried with the same key`,
      `${table}: ${run.landedUnanswered} retries found their row already committed (the first attempt's reply was lost)`,
      `${table}: errors seen by writers: ${JSON.stringify(Object.fromEntries(run.errors))}`,
    ].join('\n'),
  )
  expect([...run.acknowledged].filter((id) => !leaderSet.has(id)), 'acknowledged orders lost').toEqual([])
  expect(doubled, 'orders doubled').toEqual([])
  expect(onLeader.filter((id) => !run.attempted.has(id)), 'rows nobody wrote').toEqual([])
  expect(totalsOff, 'an effect applied other than once per order').toEqual([])
  expect(run.acknowledged.size).toBeGreaterThan(run.before)
  return onLeader
}

describe('a Patroni cluster', () => {
  it('hands out connections on the primary only, one search for many callers, past a dead host', async () => {
    const c = cluster!
    const leader = (await c.leader())!
    // A dead host first in the list, as after a machine is lost.
    const dead: PgHost = { host: '127.0.0.1', port: 1 }
    const url = parseDatabaseUrl(c.url)
    const pool = new PrimaryPool({ ...url, hosts: [dead, ...url.hosts] }, { waitForPrimaryMillis: 10_000 })
    pools.push(pool)
    const rows = await Promise.all(
      Array.from({ length: 16 }, async () => (await pool.query<{ port: number; recovering: boolean }>('SELECT inet_server_port() AS port, pg_is_in_recovery() AS recovering')).rows[0]),
    )
    for (const row of rows) expect(row).toEqual({ port: leader.pgPort, recovering: false })
    expect(pool.searches).toBe(1)
    expect(pool.primary).toEqual({ host: '127.0.0.1', port: leader.pgPort })
  })

  it('loses and doubles no acknowledged order when the leader is killed under the primary-following pool, and the old leader rejoins with the same rows', async () => {
    const c = cluster!
    const changes: string[] = []
    const pool = new PrimaryPool(parseDatabaseUrl(c.url), {
      max: WRITERS + 2,
      waitForPrimaryMillis: FAILOVER_BOUND_MS,
      onPrimaryChange: (p) => changes.push(p ? `${p.port}` : 'none'),
    })
    pools.push(pool)
    const run = await writeThroughFailover(c, pool, 'orders')

    const newLeader = await c.waitForLeader(30_000)
    expect(newLeader.name).not.toBe(run.killed.name)
    expect(pool.primary?.port).toBe(newLeader.pgPort)
    const onLeader = await expectEveryOrderOnce(c, run, newLeader, 'orders')
    console.log(`orders: primaries the pool followed: ${changes.join(' -> ')}; searches: ${pool.searches}`)

    // The old leader's machine comes back: Patroni rewinds it onto the new timeline and it
    // follows the new leader.
    const restartedAt = Date.now()
    c.restart(run.killed)
    const states = await c.waitForHealthy(90_000)
    const healthyMs = Date.now() - restartedAt
    let rejoinedIds: string[] = []
    while (Date.now() - restartedAt < 90_000) {
      rejoinedIds = await orderIds(c, run.killed, 'orders').catch(() => [])
      if (rejoinedIds.length === onLeader.length) break
      await sleep(200)
    }
    const rejoinMs = Date.now() - restartedAt
    const oldState = states.find((s) => s.name === run.killed.name)
    const leaderState = states.find((s) => s.name === newLeader.name)
    const rewound = /pg_rewind/i.test(c.logTail(run.killed, 400))
    console.log(
      `orders: old leader ${run.killed.name} back as ${oldState?.role} on timeline ${oldState?.timeline} (leader's ${leaderState?.timeline}) ` +
        `${healthyMs} ms after restart, holding the leader's ${onLeader.length} rows after ${rejoinMs} ms; pg_rewind in its log: ${rewound}`,
    )
    expect(oldState?.role).not.toBe('leader')
    expect(oldState?.timeline).toBe(leaderState?.timeline)
    expect(rejoinedIds).toEqual(onLeader)
    // Rejoined as a standby: it refuses writes.
    await expect(onMember(c, run.killed, (client) => client.query(`INSERT INTO orders VALUES ('x', 0, 0, 0)`))).rejects.toMatchObject({ code: '25006' })
  })

  it('follows a switchover: the old primary, demoted, is let go and the new one found', async () => {
    const c = cluster!
    await c.waitForHealthy(90_000)
    const pool = new PrimaryPool(parseDatabaseUrl(c.url), { waitForPrimaryMillis: FAILOVER_BOUND_MS })
    pools.push(pool)
    await pool.query('CREATE TABLE switchover_writes (id int PRIMARY KEY, port int NOT NULL)')
    const first = (await pool.query<{ port: number }>('SELECT inet_server_port() AS port')).rows[0]!.port
    const requestedAt = Date.now()
    const switching = c.switchover()
    // Awaited below; a refusal must not surface as an unhandled rejection meanwhile.
    switching.catch(() => {})
    // One writer goes on through the switchover; each id is retried until acknowledged.
    let id = 0
    let port = first
    let failures = 0
    while (port === first) {
      if (Date.now() - requestedAt > FAILOVER_BOUND_MS) throw new Error(`still writing to ${first} ${FAILOVER_BOUND_MS} ms after the switchover`)
      try {
        const { rows } = await pool.query<{ port: number }>(
          'INSERT INTO switchover_writes VALUES ($1, inet_server_port()) ON CONFLICT (id) DO NOTHING RETURNING port',
          [id],
        )
        port = rows[0]?.port ?? port
        id++
      } catch {
        failures++
        await sleep(50)
      }
    }
    const { from } = await switching
    expect(from.pgPort).toBe(first)
    const leader = await c.waitForLeader(30_000)
    console.log(
      `switchover: writes moved from port ${first} to ${port} ${Date.now() - requestedAt} ms after the request (from the request, not the demotion), ${id} writes; ` +
        `${failures} failed attempts; searches: ${pool.searches}`,
    )
    expect(port).toBe(leader.pgPort)
    expect(pool.primary?.port).toBe(leader.pgPort)
    expect((await pool.query<{ n: number }>('SELECT count(*)::int AS n FROM switchover_writes')).rows[0]!.n).toBe(id)
  })

  it.runIf(fs.existsSync(HAPROXY))('loses and doubles nothing through HAProxy following Patroni, for comparison', async () => {
    const c = cluster!
    await c.waitForHealthy(90_000)
    const router = await c.startHaproxy()
    const connection = clientConfig(parseDatabaseUrl(c.url), router)
    // HAProxy counts every member up until its checks say otherwise, so its first connections
    // can land on a standby: wait until fresh connections keep landing on the primary.
    const started = Date.now()
    for (let onPrimary = 0; onPrimary < 5; ) {
      if (Date.now() - started > 30_000) throw new Error('HAProxy never settled on the primary')
      const client = new pg.Client(connection)
      client.on('error', () => {})
      const recovering = await client
        .connect()
        .then(() => client.query<{ recovering: boolean }>('SELECT pg_is_in_recovery() AS recovering'))
        .then((r) => r.rows[0]?.recovering, () => undefined)
        .finally(() => client.end().catch(() => {}))
      onPrimary = recovering === false ? onPrimary + 1 : 0
      await sleep(200)
    }
    console.log(`orders_haproxy: HAProxy routed every new connection to the primary ${Date.now() - started} ms after it started listening`)
    const pool = new pg.Pool({ ...connection, max: WRITERS + 2, connectionTimeoutMillis: 5_000 })
    // Without these a connection dying under HAProxy kills the process.
    pool.on('error', () => {})
    pool.on('connect', (client) => client.on('error', () => {}))
    pools.push(pool)

    const run = await writeThroughFailover(c, pool, 'orders_haproxy')
    const newLeader = await c.waitForLeader(30_000)
    expect(newLeader.name).not.toBe(run.killed.name)
    await expectEveryOrderOnce(c, run, newLeader, 'orders_haproxy')
  })
})
