import pg from 'pg'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { PrimaryPool } from '@/db/pg/primary'
import { parseDatabaseUrl, type PgHost } from '@/db/pg/url'
import { startCluster, type Cluster, type Member } from '../support/patroni'

// A three-member Patroni cluster with synchronous replication, its leader SIGKILLed while
// eight writers insert orders through the primary-following pool: every acknowledged order
// must be on the new leader exactly once, and the old leader must rejoin with the same rows.
// Needs Debian's `postgresql` 15, `patroni` and `etcd-server`; run as root (the cluster runs
// as the `postgres` user). `npm run test:failover:cluster`.

const WRITERS = 8
const WRITE_BEFORE_KILL_MS = 3_000
const WRITE_AFTER_RECOVERY_MS = 3_000
// Not a target: a failover that has not resumed writes by then is broken, and the test
// should fail rather than hang. The measured pause is printed.
const FAILOVER_BOUND_MS = 60_000

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms))

let cluster: Cluster | undefined
const pools: PrimaryPool[] = []

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

function poolFor(c: Cluster, options: ConstructorParameters<typeof PrimaryPool>[1] = {}): PrimaryPool {
  const pool = new PrimaryPool(parseDatabaseUrl(c.url), { waitForPrimaryMillis: FAILOVER_BOUND_MS, ...options })
  pools.push(pool)
  return pool
}

/** One member's own PostgreSQL, leader or standby, for reading what it holds. */
async function onMember<T>(c: Cluster, member: Member, read: (client: pg.Client) => Promise<T>): Promise<T> {
  const url = parseDatabaseUrl(c.url)
  const client = new pg.Client({ ...url.connection, host: '127.0.0.1', port: member.pgPort })
  client.on('error', () => {})
  await client.connect()
  try {
    return await read(client)
  } finally {
    await client.end()
  }
}

async function orderIds(c: Cluster, member: Member): Promise<string[]> {
  return onMember(c, member, async (client) => (await client.query<{ id: string }>('SELECT id FROM orders ORDER BY id')).rows.map((r) => r.id))
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
    const ports = await Promise.all(
      Array.from({ length: 16 }, async () => (await pool.query<{ port: number; recovering: boolean }>('SELECT inet_server_port() AS port, pg_is_in_recovery() AS recovering')).rows[0]),
    )
    for (const row of ports) expect(row).toEqual({ port: leader.pgPort, recovering: false })
    expect(pool.searches).toBe(1)
    expect(pool.primary).toEqual({ host: '127.0.0.1', port: leader.pgPort })
  })

  it('loses and doubles no acknowledged order when the leader is killed, and the old leader rejoins with the same rows', async () => {
    const c = cluster!
    const changes: string[] = []
    const pool = poolFor(c, { max: WRITERS + 2, onPrimaryChange: (p) => changes.push(p ? `${p.port}` : 'none') })
    await pool.query(`CREATE TABLE orders (id text PRIMARY KEY, writer int NOT NULL, seq int NOT NULL, total_cents int NOT NULL)`)
    // An effect of each order, applied once per order: what a double would show up in.
    await pool.query(`CREATE TABLE writer_totals (writer int PRIMARY KEY, orders int NOT NULL)`)
    await pool.query(`INSERT INTO writer_totals SELECT n, 0 FROM generate_series(0, ${WRITERS - 1}) AS n`)

    // Half the writers use one statement through pool.query, half a transaction on a borrowed
    // client (the client the server dies under mid-transaction).
    // True when this attempt inserted the row, false when an earlier one already had.
    async function insertOnce(writer: number, seq: number, id: string): Promise<boolean> {
      if (writer % 2 === 0) {
        const { rows } = await pool.query<{ inserted: number }>(
          `WITH inserted AS (INSERT INTO orders VALUES ($1, $2, $3, 1000) ON CONFLICT (id) DO NOTHING RETURNING id)
           UPDATE writer_totals SET orders = orders + (SELECT count(*) FROM inserted) WHERE writer = $2
           RETURNING (SELECT count(*) FROM inserted)::int AS inserted`,
          [id, writer, seq],
        )
        return rows[0]?.inserted === 1
      }
      const client = await pool.connect()
      let failure: Error | undefined
      try {
        await client.query('BEGIN')
        const inserted = await client.query('INSERT INTO orders VALUES ($1, $2, $3, 1000) ON CONFLICT (id) DO NOTHING', [id, writer, seq])
        if (inserted.rowCount === 1) await client.query('UPDATE writer_totals SET orders = orders + 1 WHERE writer = $1', [writer])
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
    // Retries that found their row already there: the earlier attempt committed, its reply lost.
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
    await sleep(WRITE_BEFORE_KILL_MS)
    const before = acknowledged.size
    const killed = await c.killLeader()
    const { killedAt } = killed
    clock.killedAt = killedAt
    console.log(`failover: killed leader ${killed.member.name} (port ${killed.member.pgPort}) after ${before} acknowledged writes`)

    while (clock.resumedAt === undefined && Date.now() - killedAt < FAILOVER_BOUND_MS) await sleep(50)
    const pauseMs = clock.resumedAt === undefined ? undefined : clock.resumedAt - killedAt
    if (pauseMs !== undefined) await sleep(WRITE_AFTER_RECOVERY_MS)
    stopping = true
    await writing
    expect(pauseMs, `no write succeeded within ${FAILOVER_BOUND_MS} ms of the kill`).toBeDefined()

    const newLeader = await c.waitForLeader(30_000)
    expect(newLeader.name).not.toBe(killed.member.name)
    expect(pool.primary?.port).toBe(newLeader.pgPort)

    const onLeader = await orderIds(c, newLeader)
    const leaderSet = new Set(onLeader)
    const lost = [...acknowledged].filter((id) => !leaderSet.has(id))
    const strangers = onLeader.filter((id) => !attempted.has(id))
    const { doubled, totalsOff } = await onMember(c, newLeader, async (client) => ({
      doubled: (await client.query('SELECT id FROM orders GROUP BY id HAVING count(*) > 1')).rows,
      totalsOff: (
        await client.query(
          `SELECT t.writer, t.orders, count(o.id)::int AS rows FROM writer_totals t LEFT JOIN orders o ON o.writer = t.writer
           GROUP BY t.writer, t.orders HAVING t.orders <> count(o.id)`,
        )
      ).rows,
    }))

    console.log(
      [
        `failover: writes resumed ${pauseMs} ms after the kill (first write begun after the kill and acknowledged)`,
        `failover: ${acknowledged.size} writes acknowledged (${before} before the kill), ${retries} failed attempts retried with the same key`,
        `failover: errors seen by writers: ${JSON.stringify(Object.fromEntries(errors))}`,
        `failover: ${landedUnanswered} retries found their row already committed (the reply to the first attempt was lost)`,
        `failover: primary changes seen by the pool: ${changes.join(' -> ')}; searches: ${pool.searches}`,
      ].join('\n'),
    )
    expect(lost).toEqual([])
    expect(doubled).toEqual([])
    expect(strangers).toEqual([])
    expect(totalsOff).toEqual([])
    expect(acknowledged.size).toBeGreaterThan(before)

    // The old leader's machine comes back: Patroni rewinds it onto the new timeline and it
    // follows the new leader.
    const restartedAt = Date.now()
    c.restart(killed.member)
    const states = await c.waitForHealthy(90_000)
    const healthyMs = Date.now() - restartedAt
    let rejoinedIds: string[] = []
    while (Date.now() - restartedAt < 90_000) {
      rejoinedIds = await orderIds(c, killed.member).catch(() => [])
      if (rejoinedIds.length === onLeader.length) break
      await sleep(200)
    }
    const rejoinMs = Date.now() - restartedAt
    const oldState = states.find((s) => s.name === killed.member.name)
    const leaderState = states.find((s) => s.name === newLeader.name)
    const rewound = /pg_rewind/i.test(c.logTail(killed.member, 400))
    console.log(
      `failover: old leader ${killed.member.name} back as ${oldState?.role} on timeline ${oldState?.timeline} (leader's ${leaderState?.timeline}) ` +
        `${healthyMs} ms after restart, with the leader's ${onLeader.length} rows after ${rejoinMs} ms; pg_rewind in its log: ${rewound}`,
    )
    expect(oldState?.role).not.toBe('leader')
    expect(oldState?.timeline).toBe(leaderState?.timeline)
    expect(rejoinedIds).toEqual(onLeader)
    // Rejoined as a standby: it refuses writes.
    await expect(onMember(c, killed.member, (client) => client.query(`INSERT INTO orders VALUES ('x', 0, 0, 0)`))).rejects.toMatchObject({ code: '25006' })
  })
})
