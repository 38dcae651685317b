import pg from 'pg'
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it, vi } from 'vitest'
import { write } from '@/db'
import type { Claimed, Held } from '@/db/job-rules'
import * as pgJobs from '@/db/pg/jobs'
import { migrate } from '@/db/pg/migrate'
import { transaction } from '@/db/pg/transaction'
import * as jobs from '@/lib/jobs'
import { freshDb, type TestDb } from '../support/db'
import { startPostgres, type Postgres } from '../support/postgres'

// db/pg/jobs.ts against a real PostgreSQL, each pg.Pool standing for one app server: claims
// racing across servers, a worker that dies mid-job, the same scenario run through lib/jobs
// on SQLite giving the same rows, unique keys and leases under concurrent callers.

const SERVERS = 4
const CLAIMERS_PER_SERVER = 3

let server: Postgres
let pools: pg.Pool[]
let pool: pg.Pool

beforeAll(async () => {
  server = await startPostgres()
  pools = Array.from({ length: SERVERS }, () => new pg.Pool({ connectionString: server.url, max: CLAIMERS_PER_SERVER }))
  pool = pools[0]!
  await migrate(pool)
})

afterAll(async () => {
  await Promise.all((pools ?? []).map((p) => p.end()))
  await server?.stop()
})

beforeEach(async () => {
  await pool.query('TRUNCATE jobs, leases RESTART IDENTITY')
})

const enqueue = (p: pg.Pool, kind: string, payload: Record<string, unknown> = {}, options: Parameters<typeof pgJobs.enqueue>[3] = {}) =>
  transaction(p, (client) => pgJobs.enqueue(client, kind, payload, options))

const count = async (where = 'true', values: unknown[] = []) => Number((await pool.query<{ n: string }>(`SELECT count(*) AS n FROM jobs WHERE ${where}`, values)).rows[0]!.n)

/** Rejects if `promise` has not settled within `ms`: what waiting on a lock would look like. */
function within<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined
  const late = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what} did not answer within ${ms} ms`)), ms)
  })
  return Promise.race([promise, late]).finally(() => clearTimeout(timer))
}

describe('claiming on PostgreSQL', () => {
  it(`${SERVERS} app servers × ${CLAIMERS_PER_SERVER} claimers: 500 jobs, each claimed and completed exactly once`, async () => {
    await transaction(pool, async (client) => {
      for (let n = 0; n < 500; n++) await pgJobs.enqueue(client, 'work', { n }, { runAt: 0 })
    })
    const claims = new Map<number, string[]>()
    const lateCompletes: number[] = []
    const claimer = async (p: pg.Pool, worker: string) => {
      for (;;) {
        const job = await pgJobs.claim(p, worker)
        if (!job) return
        claims.set(job.id, [...(claims.get(job.id) ?? []), worker])
        if (!(await pgJobs.complete(p, worker, job))) lateCompletes.push(job.id)
      }
    }
    const started = performance.now()
    await Promise.all(pools.flatMap((p, s) => Array.from({ length: CLAIMERS_PER_SERVER }, () => claimer(p, `server-${s}`))))
    const millis = performance.now() - started

    expect(claims.size).toBe(500)
    expect([...claims.values()].filter((workers) => workers.length !== 1)).toEqual([])
    expect(lateCompletes).toEqual([])
    // the database agrees: every row done after exactly one claim, nothing left running or queued
    expect(await count(`status = 'done' AND attempts = 1 AND locked_by IS NULL`)).toBe(500)
    expect(await count()).toBe(500)
    // every server took part
    const perServer = new Map<string, number>()
    for (const [worker] of claims.values()) perServer.set(worker!, (perServer.get(worker!) ?? 0) + 1)
    expect(perServer.size).toBe(SERVERS)
    console.info(`pg-jobs: 500 jobs claimed and completed by ${SERVERS * CLAIMERS_PER_SERVER} claimers in ${Math.round(millis)} ms`, Object.fromEntries(perServer))
  })

  it('a claim passes over a job another server has locked instead of waiting for it', async () => {
    await enqueue(pool, 'first', {}, { runAt: 1 })
    await enqueue(pool, 'second', {}, { runAt: 2 })
    // another server's claim is mid-way: it holds the oldest job's row lock
    const other = await pools[1]!.connect()
    try {
      await other.query('BEGIN')
      await other.query(`SELECT id FROM jobs WHERE kind = 'first' FOR UPDATE`)
      const job = await within(pgJobs.claim(pools[2]!, 'server-2'), 10_000, 'a claim while another server holds a row')
      expect(job).toMatchObject({ kind: 'second', attempts: 1 })
      expect(await within(pgJobs.claim(pools[3]!, 'server-3'), 10_000, 'a claim with every due row taken or locked')).toBeNull()
    } finally {
      await other.query('ROLLBACK')
      other.release()
    }
    // once the lock is gone, the job it covered is claimable as usual
    expect(await pgJobs.claim(pools[3]!, 'server-3')).toMatchObject({ kind: 'first' })
  })

  it('a worker that dies after claiming: after staleMs another server claims the job, and the dead worker’s late calls change nothing', async () => {
    const staleMs = 1_000
    const t0 = 1_000_000
    await enqueue(pool, 'mail', { to: 'a@b.test' }, { runAt: t0 })
    const dead = (await pgJobs.claim(pools[0]!, 'dead', t0, staleMs))!
    expect(dead).toMatchObject({ kind: 'mail', payload: { to: 'a@b.test' }, attempts: 1, maxAttempts: 8 })
    // it never beats: until staleMs has passed the job stays its own
    expect(await pgJobs.claim(pools[1]!, 'alive', t0 + staleMs - 1, staleMs)).toBeNull()
    const again = await pgJobs.claim(pools[1]!, 'alive', t0 + staleMs + 1, staleMs)
    expect(again).toMatchObject({ id: dead.id, attempts: 2 })

    // the dead worker wakes up late: it no longer holds the job
    expect(await pgJobs.heartbeat(pools[0]!, 'dead', dead, t0 + staleMs + 2)).toBe(false)
    expect(await pgJobs.complete(pools[0]!, 'dead', dead, t0 + staleMs + 3)).toBe(false)
    expect(await pgJobs.fail(pools[0]!, 'dead', dead, new Error('late'), t0 + staleMs + 3)).toBe(false)
    const held = (await pool.query('SELECT status, locked_by, heartbeat_at, last_error, finished_at FROM jobs WHERE id = $1', [dead.id])).rows[0]
    expect(held).toEqual({ status: 'running', locked_by: 'alive', heartbeat_at: String(t0 + staleMs + 1), last_error: null, finished_at: null })

    // the live worker's heartbeat keeps it: not stale at its own beat + staleMs
    expect(await pgJobs.heartbeat(pools[1]!, 'alive', again!, t0 + 5 * staleMs)).toBe(true)
    expect(await pgJobs.claim(pools[2]!, 'third', t0 + 6 * staleMs - 1, staleMs)).toBeNull()
    expect(await pgJobs.complete(pools[1]!, 'alive', again!, t0 + 6 * staleMs)).toBe(true)
    expect((await pool.query('SELECT status, attempts, finished_at, locked_by FROM jobs WHERE id = $1', [dead.id])).rows[0]).toEqual({
      status: 'done',
      attempts: 2,
      finished_at: String(t0 + 6 * staleMs),
      locked_by: null,
    })
    // done is done: a stale threshold long past takes nothing
    expect(await pgJobs.claim(pools[2]!, 'third', t0 + 100 * staleMs, staleMs)).toBeNull()
  })

  it('a worker that took its own stale job back cannot finish the new attempt with the old one', async () => {
    const staleMs = 1_000
    const t0 = 2_000_000
    await enqueue(pool, 'mail', {}, { runAt: t0 })
    const first = (await pgJobs.claim(pools[0]!, 'stalled', t0, staleMs))!
    // the same worker stalls past staleMs, then claims again: the job is its own, attempt 2
    const second = (await pgJobs.claim(pools[1]!, 'stalled', t0 + staleMs + 1, staleMs))!
    expect(second).toMatchObject({ id: first.id, attempts: 2 })
    // the first attempt's late heartbeat and outcome change nothing
    expect(await pgJobs.heartbeat(pools[0]!, 'stalled', first, t0 + staleMs + 2)).toBe(false)
    expect(await pgJobs.fail(pools[0]!, 'stalled', first, new Error('late'), t0 + staleMs + 3)).toBe(false)
    expect(await pgJobs.complete(pools[0]!, 'stalled', first, t0 + staleMs + 3)).toBe(false)
    expect((await pool.query('SELECT status, attempts, last_error FROM jobs WHERE id = $1', [first.id])).rows[0]).toEqual({ status: 'running', attempts: 2, last_error: null })
    expect(await pgJobs.complete(pools[1]!, 'stalled', second, t0 + staleMs + 4)).toBe(true)
    expect((await pool.query('SELECT status FROM jobs WHERE id = $1', [first.id])).rows[0]).toEqual({ status: 'done' })
  })

  it('keeps the five-minute rule for a row claimed by a release without heartbeats', async () => {
    const t0 = 1_000_000
    await enqueue(pool, 'work', {}, { runAt: t0 })
    await pool.query(`UPDATE jobs SET status = 'running', locked_at = $1, locked_by = 'old-release', attempts = 1`, [t0])
    expect(await pgJobs.claim(pool, 'new', t0 + 60_000)).toBeNull()
    expect(await pgJobs.claim(pool, 'new', t0 + 5 * 60 * 1000 + 1)).toMatchObject({ attempts: 2 })
  })
})

// One scenario, run through lib/jobs on SQLite and through db/pg/jobs.ts on PostgreSQL with
// the same inputs (times included); the rows after every step must be the same.
type Engine = {
  enqueue(kind: string, options: Parameters<typeof pgJobs.enqueue>[3]): Promise<boolean>
  skipQueued(uniqueKey: string, why: string, now: number): Promise<void>
  claim(now: number, staleMs: number): Promise<Claimed | null>
  heartbeat(job: Held, now: number): Promise<boolean>
  complete(job: Held, now: number): Promise<boolean>
  fail(job: Claimed, err: unknown, now: number): Promise<boolean>
  rows(): Promise<Record<string, unknown>[]>
}

const ROWS = `SELECT id, kind, CAST(payload AS TEXT) AS payload, status, unique_key, run_at, attempts, max_attempts, locked_at, locked_by, heartbeat_at, last_error, finished_at FROM jobs ORDER BY id`
const BIGINTS = ['id', 'run_at', 'locked_at', 'heartbeat_at', 'finished_at']
const numbered = (row: Record<string, unknown>) => Object.fromEntries(Object.entries(row).map(([k, v]) => [k, BIGINTS.includes(k) && v !== null ? Number(v) : v]))
// PostgreSQL spends an identity value on an insert that ON CONFLICT drops, SQLite does not:
// ids may differ, so the trace names jobs by kind (one job per kind here), in id order.
const withoutId = ({ id: _, ...rest }: Record<string, unknown>) => rest

function sqliteEngine(t: TestDb): Engine {
  return {
    enqueue: async (kind, options) => write((tx) => jobs.enqueue(tx, kind, { kind }, options)),
    skipQueued: async (uniqueKey, why, now) => write((tx) => jobs.skipQueued(tx, uniqueKey, why, now)),
    claim: async (now, staleMs) => jobs.claim(now, staleMs),
    heartbeat: async (job, now) => jobs.heartbeat(job, now),
    // lib/jobs stamps finished_at with the clock; the clock is set to the scenario's time
    complete: async (job, now) => {
      vi.useFakeTimers({ toFake: ['Date'], now })
      try {
        return jobs.complete(job)
      } finally {
        vi.useRealTimers()
      }
    },
    fail: async (job, err, now) => jobs.fail(job, err, now),
    rows: async () => (t.db.$client.prepare(ROWS).all() as Record<string, unknown>[]).map(numbered),
  }
}

function postgresEngine(): Engine {
  // the worker id lib/jobs uses on SQLite, so locked_by reads the same on both
  const worker = jobs.lease.processId
  return {
    enqueue: (kind, options) => enqueue(pools[1]!, kind, { kind }, options),
    skipQueued: (uniqueKey, why, now) => transaction(pools[2]!, (client) => pgJobs.skipQueued(client, uniqueKey, why, now)),
    claim: (now, staleMs) => pgJobs.claim(pools[3]!, worker, now, staleMs),
    heartbeat: (job, now) => pgJobs.heartbeat(pool, worker, job, now),
    complete: (job, now) => pgJobs.complete(pool, worker, job, now),
    fail: (job, err, now) => pgJobs.fail(pool, worker, job, err, now),
    rows: async () => (await pool.query<Record<string, unknown>>(ROWS)).rows.map(numbered),
  }
}

async function scenario(engine: Engine): Promise<unknown[]> {
  const trace: unknown[] = []
  const step = async (name: string, result: unknown) => {
    const named = result && typeof result === 'object' && 'id' in result ? withoutId(result as Record<string, unknown>) : result
    trace.push({ step: name, result: named, rows: (await engine.rows()).map(withoutId) })
  }
  const T = 1_700_000_000_000
  const stale = 30_000

  await step('enqueue flaky', await engine.enqueue('flaky', { runAt: T, maxAttempts: 3 }))
  await step('enqueue slot', await engine.enqueue('slot', { runAt: T + 5, uniqueKey: 'reconcile:08:05' }))
  await step('enqueue slot again', await engine.enqueue('slot', { runAt: T + 6, uniqueKey: 'reconcile:08:05' }))
  await step('enqueue later', await engine.enqueue('later', { runAt: T + 10 }))
  await step('enqueue mail', await engine.enqueue('mail', { runAt: T + 1, uniqueKey: 'mail:1' }))
  await step('skip mail', await engine.skipQueued('mail:1', 'refunded', T + 2))
  await step('skip mail again', await engine.skipQueued('mail:1', 'twice', T + 3))

  // flaky fails three times, each time after its backoff, then is failed for good
  let flaky = (await engine.claim(T, stale))!
  await step('claim 1', flaky)
  await step('fail 1', await engine.fail(flaky, new Error('boom 1'), T + 100))
  // the two older jobs are claimed next (their workers will die holding them)
  await step('claim slot', await engine.claim(T + 100, stale))
  await step('claim later', await engine.claim(T + 100, stale))
  for (let attempt = 2; attempt <= 3; attempt++) {
    const due = (await engine.rows()).find((r) => r.kind === 'flaky')!.run_at as number
    await step(`claim ${attempt} before due`, await engine.claim(due - 1, stale))
    flaky = (await engine.claim(due, stale))!
    await step(`claim ${attempt}`, flaky)
    await step(`fail ${attempt}`, await engine.fail(flaky, attempt === 3 ? 'a string thrown' : new TypeError(`boom ${attempt}`), due + 50))
  }
  const last = (await engine.rows()).find((r) => r.kind === 'flaky')!.run_at as number
  await step('claim after failed', await engine.claim(last, stale))

  // two running jobs whose worker died; one claim takes the older back and requeues the other
  const rows = await engine.rows()
  const running = rows.filter((r) => r.status === 'running').map((r) => r.kind)
  await step('running', running)
  const lastBeat = Math.max(...rows.filter((r) => r.status === 'running').map((r) => r.heartbeat_at as number))
  await step('claim not yet stale', await engine.claim(lastBeat + stale, stale))
  const reclaimed = (await engine.claim(lastBeat + stale + 1, stale))!
  await step('claim stale', reclaimed)
  await step('heartbeat', await engine.heartbeat(reclaimed, lastBeat + stale + 2))
  await step('complete', await engine.complete(reclaimed, lastBeat + stale + 3))
  await step('complete again', await engine.complete(reclaimed, lastBeat + stale + 4))
  return trace
}

describe('the same scenario on SQLite (lib/jobs) and PostgreSQL', () => {
  let t: TestDb
  afterEach(() => t?.close())

  it('leaves the same rows after every step: unique keys, skips, fail → backoff → retry → failed, a stale reclaim', async () => {
    t = freshDb()
    const onSqlite = await scenario(sqliteEngine(t))
    const onPostgres = await scenario(postgresEngine())
    expect(onPostgres).toEqual(onSqlite)

    // and what both did is the queue's rule
    const T = 1_700_000_000_000
    const final = (onSqlite.at(-1) as { rows: Record<string, unknown>[] }).rows
    const flaky = final.find((r) => r.kind === 'flaky')!
    // attempts 1, 2, 3 failed at T+100, then at each due time + 50: backoff 2 s, 4 s, 8 s
    const due2 = T + 100 + 2_000
    const due3 = due2 + 50 + 4_000
    expect(flaky).toMatchObject({ status: 'failed', attempts: 3, last_error: 'a string thrown', run_at: due3 + 50 + 8_000, finished_at: due3 + 50, locked_by: null })
    expect(final.filter((r) => r.kind === 'slot')).toHaveLength(1)
    expect(final.find((r) => r.kind === 'mail')).toMatchObject({ status: 'done', last_error: 'skipped: refunded', finished_at: T + 2 })
    const steps = Object.fromEntries((onSqlite as { step: string; result: unknown; rows: Record<string, unknown>[] }[]).map((s) => [s.step, s]))
    expect(steps['enqueue slot again']!.result).toBe(false)
    expect(steps['running']!.result).toEqual(['slot', 'later'])
    expect(steps['claim not yet stale']!.result).toBeNull()
    expect(steps['claim stale']!.result).toMatchObject({ kind: 'slot', attempts: 2 })
    // the other stale job went back to the queue in the same claim, its dead worker's lock cleared
    expect(steps['claim stale']!.rows.find((r) => r.kind === 'later')).toMatchObject({ status: 'queued', locked_by: null, heartbeat_at: null, attempts: 1 })
    expect(steps['complete again']!.result).toBe(false)
  })
})

describe('unique keys on PostgreSQL', () => {
  it('20 concurrent enqueues of one key across 4 servers queue one job', async () => {
    const queued = await Promise.all(Array.from({ length: 20 }, (_, i) => enqueue(pools[i % SERVERS]!, 'reconcile', { n: i }, { uniqueKey: 'reconcile:2026-12-06T08:05:00.000Z' })))
    expect(queued.filter(Boolean)).toHaveLength(1)
    expect(await count('unique_key = $1', ['reconcile:2026-12-06T08:05:00.000Z'])).toBe(1)
  })

  it('an enqueue waits for an uncommitted insert of its key: nothing if that commits, queued if it rolls back', async () => {
    for (const outcome of ['COMMIT', 'ROLLBACK'] as const) {
      await pool.query('TRUNCATE jobs')
      const first = await pools[0]!.connect()
      try {
        await first.query('BEGIN')
        expect(await pgJobs.enqueue(first, 'mail', {}, { uniqueKey: 'mail:order-1' })).toBe(true)
        const second = enqueue(pools[1]!, 'mail', {}, { uniqueKey: 'mail:order-1' })
        // the second insert is parked on the first's key until that transaction ends
        await expect.poll(async () => Number((await pool.query(`SELECT count(*) AS n FROM pg_stat_activity WHERE wait_event_type = 'Lock'`)).rows[0].n)).toBe(1)
        await first.query(outcome)
        expect(await second).toBe(outcome === 'ROLLBACK')
      } finally {
        first.release()
      }
      expect(await count(`unique_key = 'mail:order-1'`)).toBe(1)
    }
  })
})

describe('leases on PostgreSQL', () => {
  it('10 concurrent acquirers on 4 servers: exactly one holder', async () => {
    const now = Date.now()
    const taken = await Promise.all(Array.from({ length: 10 }, (_, i) => pgJobs.tryAcquire(pools[i % SERVERS]!, `server-${i % SERVERS}`, 'backup', 10_000, now)))
    const holders = taken.filter((l) => l !== null)
    expect(holders).toHaveLength(1)
    expect(await pgJobs.holderOf(pool, 'backup')).toEqual({ holder: holders[0]!.holder, expiresAt: now + 10_000 })
  })

  it('after the TTL another server takes it over; a non-holder can neither renew nor release it', async () => {
    const now = 1_000_000
    const a = (await pgJobs.tryAcquire(pools[0]!, 'server-0', 'reconcile', 1_000, now))!
    expect(a).toEqual({ name: 'reconcile', holder: expect.stringMatching(/^server-0#\d+$/), expiresAt: now + 1_000 })
    expect(await pgJobs.tryAcquire(pools[1]!, 'server-1', 'reconcile', 1_000, now + 999)).toBeNull()
    expect(await pgJobs.renew(pools[0]!, a, 1_000, now + 500)).toBe(true)
    expect(a.expiresAt).toBe(now + 1_500)
    expect(await pgJobs.tryAcquire(pools[1]!, 'server-1', 'reconcile', 1_000, now + 1_499)).toBeNull()
    // a stops renewing: once expired, b takes over, and a can no longer renew
    const b = (await pgJobs.tryAcquire(pools[1]!, 'server-1', 'reconcile', 1_000, now + 1_500))!
    expect(b).not.toBeNull()
    expect(await pgJobs.renew(pools[0]!, a, 1_000, now + 1_600)).toBe(false)
    expect(await pgJobs.renew(pools[2]!, { name: 'reconcile', holder: 'server-2#1', expiresAt: 0 }, 1_000, now + 1_600)).toBe(false)
    await pgJobs.release(pools[0]!, a)
    expect(await pgJobs.holderOf(pool, 'reconcile')).toEqual({ holder: b.holder, expiresAt: now + 2_500 })
    // expired but not taken: its holder may still renew it (nobody else started the work)
    expect(await pgJobs.renew(pools[1]!, b, 1_000, now + 3_000)).toBe(true)
    await pgJobs.release(pools[1]!, b)
    expect(await pgJobs.holderOf(pool, 'reconcile')).toBeUndefined()
    expect(await pgJobs.tryAcquire(pools[2]!, 'server-2', 'reconcile', 1_000, now + 3_001)).not.toBeNull()
  })
})
