import { sql } from 'drizzle-orm'
import { afterAll, afterEach, describe, expect, it } from 'vitest'
import { all, read, sqlRun, transaction } from '@/db/tx'
import * as jobs from '@/lib/jobs'
import { ENGINES, useEngine, type EngineName, type TestEngine } from '../support/engines'

// The job queue and its leases (lib/jobs) on both engines, through the same API the worker
// uses: the queue's rules step by step (unique keys, skips, fail → backoff → retry → failed, a
// stale job taken back), the worker loop, and on PostgreSQL what SQLite's single writer gave
// for free: app servers claiming at once never share a job, a unique key enqueued at once from
// two of them queues one job, and of several lease acquirers exactly one wins.

const enqueue = (kind: string, payload: Record<string, unknown> = {}, options: Parameters<typeof jobs.enqueueing>[4] = {}) =>
  transaction((tx, t) => jobs.enqueueing(tx, t, kind, payload, options))

const ROWS = sql`SELECT id, kind, CAST(payload AS TEXT) AS payload, status, unique_key, run_at, attempts, max_attempts, locked_at, locked_by, heartbeat_at, last_error, finished_at FROM jobs ORDER BY id`
const BIGINTS = ['id', 'run_at', 'locked_at', 'heartbeat_at', 'finished_at']
// PostgreSQL's bigint comes back from raw SQL as text
const numbered = (row: Record<string, unknown>) => Object.fromEntries(Object.entries(row).map(([k, v]) => [k, BIGINTS.includes(k) && v !== null ? Number(v) : v]))
const rowsOf = async (engine: TestEngine) => (await engine.rows<Record<string, unknown>>(ROWS)).map(numbered)
// PostgreSQL spends an identity value on an insert that ON CONFLICT drops, SQLite does not:
// ids may differ, so the trace names jobs by kind (one job per kind here), in id order.
const withoutId = ({ id: _, ...rest }: Record<string, unknown>) => rest

/** The queue's rules, step by step, with fixed times; the rows after every step. */
async function scenario(engine: TestEngine): Promise<{ step: string; result: unknown; rows: Record<string, unknown>[] }[]> {
  const trace: { step: string; result: unknown; rows: Record<string, unknown>[] }[] = []
  const step = async (name: string, result: unknown) => {
    const named = result && typeof result === 'object' && 'id' in result ? withoutId(result as Record<string, unknown>) : result
    trace.push({ step: name, result: named, rows: (await rowsOf(engine)).map(withoutId) })
  }
  const skip = (uniqueKey: string, why: string, now: number) => transaction((tx, t) => jobs.skipping(tx, t, uniqueKey, why, now))
  const T = 1_700_000_000_000
  const stale = 30_000

  await step('enqueue flaky', await enqueue('flaky', { kind: 'flaky' }, { runAt: T, maxAttempts: 3 }))
  await step('enqueue slot', await enqueue('slot', { kind: 'slot' }, { runAt: T + 5, uniqueKey: 'reconcile:08:05' }))
  await step('enqueue slot again', await enqueue('slot', { kind: 'slot' }, { runAt: T + 6, uniqueKey: 'reconcile:08:05' }))
  await step('enqueue later', await enqueue('later', { kind: 'later' }, { runAt: T + 10 }))
  await step('enqueue mail', await enqueue('mail', { kind: 'mail' }, { runAt: T + 1, uniqueKey: 'mail:1' }))
  await step('skip mail', await skip('mail:1', 'refunded', T + 2))
  await step('skip mail again', await skip('mail:1', 'twice', T + 3))

  // flaky fails three times, each time after its backoff, then is failed for good
  let flaky = (await jobs.claim(T, stale))!
  await step('claim 1', flaky)
  await step('fail 1', await jobs.fail(flaky, new Error('boom 1'), T + 100))
  // the two older jobs are claimed next (their worker will die holding them)
  await step('claim slot', await jobs.claim(T + 100, stale))
  await step('claim later', await jobs.claim(T + 100, stale))
  for (let attempt = 2; attempt <= 3; attempt++) {
    const due = (await rowsOf(engine)).find((r) => r.kind === 'flaky')!.run_at as number
    await step(`claim ${attempt} before due`, await jobs.claim(due - 1, stale))
    flaky = (await jobs.claim(due, stale))!
    await step(`claim ${attempt}`, flaky)
    await step(`fail ${attempt}`, await jobs.fail(flaky, attempt === 3 ? 'a string thrown' : new TypeError(`boom ${attempt}`), due + 50))
  }
  const last = (await rowsOf(engine)).find((r) => r.kind === 'flaky')!.run_at as number
  await step('claim after failed', await jobs.claim(last, stale))

  // two running jobs whose worker died; one claim takes the older back and requeues the other
  const rows = await rowsOf(engine)
  await step('running', rows.filter((r) => r.status === 'running').map((r) => r.kind))
  const lastBeat = Math.max(...rows.filter((r) => r.status === 'running').map((r) => r.heartbeat_at as number))
  await step('claim not yet stale', await jobs.claim(lastBeat + stale, stale))
  const reclaimed = (await jobs.claim(lastBeat + stale + 1, stale))!
  await step('claim stale', reclaimed)
  await step('heartbeat', await jobs.heartbeat(reclaimed, lastBeat + stale + 2))
  await step('complete', await jobs.complete(reclaimed, lastBeat + stale + 3))
  await step('complete again', await jobs.complete(reclaimed, lastBeat + stale + 4))
  return trace
}

const traces = new Map<EngineName, unknown[]>()

describe.each(ENGINES)('the job queue on %s', (name) => {
  const engine = useEngine(name)

  it('unique keys, skips, fail → backoff → retry → failed, and a stale job taken back, by the queue’s rules', async () => {
    const trace = await scenario(engine)
    traces.set(name, trace)
    const T = 1_700_000_000_000
    const final = trace.at(-1)!.rows
    // attempts 1, 2, 3 failed at T+100, then at each due time + 50: backoff 2 s, 4 s, 8 s
    const due2 = T + 100 + 2_000
    const due3 = due2 + 50 + 4_000
    expect(final.find((r) => r.kind === 'flaky')).toMatchObject({ status: 'failed', attempts: 3, last_error: 'a string thrown', run_at: due3 + 50 + 8_000, finished_at: due3 + 50, locked_by: null })
    expect(final.filter((r) => r.kind === 'slot')).toHaveLength(1)
    expect(final.find((r) => r.kind === 'mail')).toMatchObject({ status: 'done', last_error: 'skipped: refunded', finished_at: T + 2 })
    const steps = Object.fromEntries(trace.map((s) => [s.step, s]))
    expect(steps['enqueue slot again']!.result).toBe(false)
    expect(steps['claim 1']!.result).toEqual({ kind: 'flaky', payload: { kind: 'flaky' }, attempts: 1, maxAttempts: 3 })
    expect(steps['fail 1']!.rows.find((r) => r.kind === 'flaky')).toMatchObject({ status: 'queued', attempts: 1, last_error: 'Error: boom 1', run_at: T + 100 + 2_000, locked_by: null, heartbeat_at: null })
    expect(steps['claim 2 before due']!.result).toBeNull()
    expect(steps['running']!.result).toEqual(['slot', 'later'])
    expect(steps['claim not yet stale']!.result).toBeNull()
    expect(steps['claim stale']!.result).toMatchObject({ kind: 'slot', attempts: 2 })
    // the other stale job went back to the queue in the same claim, its dead worker's lock cleared
    expect(steps['claim stale']!.rows.find((r) => r.kind === 'later')).toMatchObject({ status: 'queued', locked_by: null, heartbeat_at: null, attempts: 1 })
    expect(steps['heartbeat']!.result).toBe(true)
    expect(steps['complete']!.result).toBe(true)
    expect(steps['complete again']!.result).toBe(false)
  })

  it('a stale claim is taken back; the old holder’s heartbeat, complete and fail then change nothing', async () => {
    const staleMs = 1_000
    const t0 = 2_000_000
    await enqueue('mail', { to: 'a@b.test' }, { runAt: t0 })
    const first = (await jobs.claim(t0, staleMs))!
    expect(first).toMatchObject({ kind: 'mail', payload: { to: 'a@b.test' }, attempts: 1, maxAttempts: 8 })
    // it never beats: until staleMs has passed the job stays its own
    expect(await jobs.claim(t0 + staleMs - 1, staleMs)).toBeNull()
    const second = (await jobs.claim(t0 + staleMs + 1, staleMs))!
    expect(second).toMatchObject({ id: first.id, attempts: 2 })
    expect(await jobs.heartbeat(first, t0 + staleMs + 2)).toBe(false)
    expect(await jobs.complete(first, t0 + staleMs + 3)).toBe(false)
    expect(await jobs.fail(first, new Error('late'), t0 + staleMs + 3)).toBe(false)
    expect((await rowsOf(engine))[0]).toMatchObject({ status: 'running', attempts: 2, heartbeat_at: t0 + staleMs + 1, last_error: null, finished_at: null })

    // the new holder's heartbeat keeps it: not stale at its own beat + staleMs
    expect(await jobs.heartbeat(second, t0 + 5 * staleMs)).toBe(true)
    expect(await jobs.claim(t0 + 6 * staleMs - 1, staleMs)).toBeNull()
    expect(await jobs.complete(second, t0 + 6 * staleMs)).toBe(true)
    expect((await rowsOf(engine))[0]).toMatchObject({ status: 'done', attempts: 2, finished_at: t0 + 6 * staleMs, locked_by: null })
    // done is done: a stale threshold long past takes nothing
    expect(await jobs.claim(t0 + 100 * staleMs, staleMs)).toBeNull()

    // a job another process took back and holds: this one's calls leave it alone
    await enqueue('work', {}, { runAt: t0 })
    const lost = (await jobs.claim(t0 + 100 * staleMs, staleMs))!
    await engine.rows(sql`UPDATE jobs SET locked_by = 'another-process' WHERE id = ${lost.id} RETURNING id`)
    expect(await jobs.heartbeat(lost)).toBe(false)
    expect(await jobs.complete(lost)).toBe(false)
    expect(await jobs.fail(lost, new Error('late'))).toBe(false)
    expect((await rowsOf(engine)).find((r) => r.kind === 'work')).toMatchObject({ status: 'running', locked_by: 'another-process', last_error: null })
  })

  it('keeps the five-minute rule for a row claimed by a release without heartbeats', async () => {
    const t0 = 1_000_000
    await enqueue('work', {}, { runAt: t0 })
    await engine.rows(sql`UPDATE jobs SET status = 'running', locked_at = ${t0}, locked_by = 'old-release', attempts = 1 RETURNING id`)
    expect(await jobs.claim(t0 + 60_000)).toBeNull()
    expect(await jobs.claim(t0 + 5 * 60 * 1000 + 1)).toMatchObject({ attempts: 2 })
  })

  it('the worker loop runs jobs, retries a failure after its backoff and keeps the last error', async () => {
    await enqueue('flaky', { n: 1 }, { maxAttempts: 2 })
    await enqueue('fine', { n: 2 })
    const seen: unknown[] = []
    let calls = 0
    const handlers = {
      flaky: () => {
        throw new Error(`boom ${++calls}`)
      },
      fine: (payload: Record<string, unknown>) => void seen.push(payload),
    }
    expect(await jobs.drain(handlers)).toBe(2)
    expect(seen).toEqual([{ n: 2 }])
    expect(await jobs.counts()).toEqual({ queued: 1, running: 0, done: 1, failed: 0 })
    const [queued] = await jobs.list('queued')
    expect(queued).toMatchObject({ kind: 'flaky', attempts: 1, lastError: 'Error: boom 1', lockedBy: null, heartbeatAt: null })
    expect(queued!.runAt).toBeGreaterThan(Date.now())
    // not due yet: nothing runs
    expect(await jobs.drain(handlers)).toBe(0)
    await engine.rows(sql`UPDATE jobs SET run_at = 0 WHERE kind = 'flaky' RETURNING id`)
    expect(await jobs.drain(handlers)).toBe(1)
    expect(await jobs.failed()).toMatchObject([{ kind: 'flaky', status: 'failed', attempts: 2, lastError: 'Error: boom 2' }])
    expect(await jobs.counts()).toEqual({ queued: 0, running: 0, done: 1, failed: 1 })
  })

  it('the admin puts a failed job back in the queue with a fresh set of attempts, once', async () => {
    await enqueue('mail', {}, { runAt: 0, maxAttempts: 1 })
    const job = (await jobs.claim())!
    expect(await jobs.fail(job, new Error('SMTP said no'), 1_000)).toBe(true)
    const retry = () => transaction((tx, t) => jobs.retrying(tx, t, job.id, 5_000))
    expect(await retry()).toEqual({ kind: 'mail', lastError: 'Error: SMTP said no' })
    expect((await rowsOf(engine))[0]).toMatchObject({ status: 'queued', attempts: 0, run_at: 5_000, finished_at: null, locked_by: null })
    // a second click finds it queued: nothing to retry
    expect(await retry()).toBeNull()
    expect(await jobs.claim()).toMatchObject({ id: job.id, attempts: 1 })
  })

  it('a payload is forgotten once delivered', async () => {
    await enqueue('mail.admin_invite', { token: 'secret' })
    const job = (await jobs.claim())!
    await jobs.forgetPayload(job.id)
    expect((await jobs.list())[0]!.payload).toEqual({})
  })

  it('leases: one holder at a time; an expired one is taken over, and its old holder can neither renew nor release it', async () => {
    const now = 1_000_000
    const a = (await jobs.lease.tryAcquire('reconcile', 1_000, now))!
    expect(a).toEqual({ name: 'reconcile', holder: expect.stringMatching(new RegExp(`^${jobs.lease.processId}#\\d+$`)), expiresAt: now + 1_000 })
    expect(await jobs.lease.tryAcquire('reconcile', 1_000, now + 999)).toBeNull()
    expect(await jobs.lease.renew(a, 1_000, now + 500)).toBe(true)
    expect(a.expiresAt).toBe(now + 1_500)
    expect(await jobs.lease.tryAcquire('reconcile', 1_000, now + 1_499)).toBeNull()
    const b = (await jobs.lease.tryAcquire('reconcile', 1_000, now + 1_500))!
    expect(b).not.toBeNull()
    expect(await jobs.lease.renew(a, 1_000, now + 1_600)).toBe(false)
    await jobs.lease.release(a)
    expect(await jobs.lease.holderOf('reconcile')).toEqual({ holder: b.holder, expiresAt: now + 2_500 })
    // expired but not taken: its holder may still renew it (nobody else started the work)
    expect(await jobs.lease.renew(b, 1_000, now + 3_000)).toBe(true)
    await jobs.lease.release(b)
    expect(await jobs.lease.holderOf('reconcile')).toBeUndefined()
  })

  it('of 10 lease acquirers at once exactly one wins', async () => {
    const servers = name === 'postgres' ? engine.appServers(2) : null
    try {
      const now = Date.now()
      const taken = await Promise.all(Array.from({ length: 10 }, () => jobs.lease.tryAcquire('backup', 10_000, now)))
      const holders = taken.filter((l) => l !== null)
      expect(holders).toHaveLength(1)
      expect(await jobs.lease.holderOf('backup')).toEqual({ holder: holders[0]!.holder, expiresAt: now + 10_000 })
    } finally {
      await servers?.end()
    }
  })

  describe.runIf(name === 'postgres')('several app servers', () => {
    it('2 app servers × 3 claimers: 300 jobs, each claimed and completed exactly once', async () => {
      await transaction(function* (tx, t) {
        for (let n = 0; n < 300; n++) yield* jobs.enqueueing(tx, t, 'work', { n }, { runAt: 0 })
      })
      const servers = engine.appServers(2)
      const claims = new Map<number, number>()
      const lateCompletes: number[] = []
      try {
        const claimer = async () => {
          for (;;) {
            const job = await jobs.claim()
            if (!job) return
            claims.set(job.id, (claims.get(job.id) ?? 0) + 1)
            if (!(await jobs.complete(job))) lateCompletes.push(job.id)
          }
        }
        await Promise.all(Array.from({ length: 6 }, claimer))
      } finally {
        await servers.end()
      }
      expect(claims.size).toBe(300)
      expect([...claims.values()].filter((n) => n !== 1)).toEqual([])
      expect(lateCompletes).toEqual([])
      // the database agrees: every row done after exactly one claim
      expect(await engine.count(sql`SELECT count(*) AS n FROM jobs WHERE status = 'done' AND attempts = 1 AND locked_by IS NULL`)).toBe(300)
      expect(await engine.count(sql`SELECT count(*) AS n FROM jobs`)).toBe(300)
    })

    it('a claim passes over a job another transaction has locked instead of waiting for it', async () => {
      await enqueue('first', {}, { runAt: 1 })
      await enqueue('second', {}, { runAt: 2 })
      const servers = engine.appServers(2)
      try {
        const order: string[] = []
        // another server's transaction holds the oldest job's row lock for a while
        const holding = transaction(function* () {
          yield* sqlRun(sql`SELECT id FROM jobs WHERE kind = 'first' FOR UPDATE`)
          yield* sqlRun(sql`SELECT pg_sleep(1.5)`)
        }).then(() => order.push('lock released'))
        await expect.poll(() => engine.count(sql`SELECT count(*) AS n FROM pg_stat_activity WHERE query LIKE '%pg_sleep(1.5)%' AND state = 'active' AND query NOT LIKE '%pg_stat_activity%'`)).toBe(1)
        const claimed = await jobs.claim()
        order.push('claimed')
        // with a plain FOR UPDATE it would have waited for the lock, then taken 'first'
        expect(claimed).toMatchObject({ kind: 'second', attempts: 1 })
        expect(await jobs.claim()).toBeNull()
        await holding
        expect(order).toEqual(['claimed', 'lock released'])
        // once the lock is gone, the job it covered is claimable as usual
        expect(await jobs.claim()).toMatchObject({ kind: 'first' })
      } finally {
        await servers.end()
      }
    })

    it('20 enqueues of one unique key at once from 2 app servers queue one job', async () => {
      const servers = engine.appServers(2)
      try {
        const queued = await Promise.all(Array.from({ length: 20 }, (_, n) => enqueue('reconcile', { n }, { uniqueKey: 'reconcile:2026-12-06T08:05:00.000Z' })))
        expect(queued.filter(Boolean)).toHaveLength(1)
      } finally {
        await servers.end()
      }
      expect(await engine.count(sql`SELECT count(*) AS n FROM jobs WHERE unique_key = 'reconcile:2026-12-06T08:05:00.000Z'`)).toBe(1)
    })

    it('an enqueue waits for an uncommitted insert of its key: nothing if that commits, queued if it rolls back', async () => {
      for (const outcome of ['commit', 'rollback'] as const) {
        await engine.rows(sql`DELETE FROM jobs RETURNING id`)
        const servers = engine.appServers(2)
        try {
          const first = transaction(function* (tx, t) {
            yield* jobs.enqueueing(tx, t, 'mail', { from: 'first' }, { uniqueKey: 'mail:order-1' })
            yield* sqlRun(sql`SELECT pg_sleep(0.5)`)
            if (outcome === 'rollback') throw new Error('rolled back')
          }).catch((err: unknown) => err)
          await expect.poll(() => engine.count(sql`SELECT count(*) AS n FROM pg_stat_activity WHERE query LIKE '%pg_sleep(0.5)%' AND state = 'active' AND query NOT LIKE '%pg_stat_activity%'`)).toBe(1)
          const second = enqueue('mail', { from: 'second' }, { uniqueKey: 'mail:order-1' })
          // the second insert is parked on the first's key until that transaction ends
          expect(await second).toBe(outcome === 'rollback')
          await first
        } finally {
          await servers.end()
        }
        const rows = await rowsOf(engine)
        expect(rows.map((r) => JSON.parse(r.payload as string) as unknown)).toEqual([{ from: outcome === 'commit' ? 'first' : 'second' }])
      }
    })
  })
})

// only when the run has both legs (with DATABASE_URL set it runs on PostgreSQL alone)
describe.runIf(ENGINES.includes('sqlite') && ENGINES.includes('postgres'))('the same queue on both engines', () => {
  afterAll(() => traces.clear())

  it('leaves the same rows after every step of the scenario', () => {
    expect(traces.get('sqlite')).toBeDefined()
    expect(traces.get('postgres')).toEqual(traces.get('sqlite'))
  })
})

// The queue as the app drives it, case by case (moved from the unit tests): scheduled slots,
// the default stale threshold, live heartbeats, leased kinds, stopping the worker, and the
// leases' withLease.
describe.each(ENGINES)('the job queue in use on %s', (name) => {
  const engine = useEngine(name)
  // registered after useEngine: runs before its teardown, while the database is still there
  afterEach(async () => {
    await jobs.currentWorker()?.stop(0)
  })

  const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms))
  const allJobs = () => read((db, t) => all(db.select().from(t.jobs).orderBy(t.jobs.id)))
  /** A job's row as the domain reads it (the first one without an id). */
  const row = async (id?: number) => (await allJobs()).find((j) => id === undefined || j.id === id)!
  async function until(predicate: () => Promise<boolean>, timeoutMs = 5000): Promise<void> {
    const deadline = Date.now() + timeoutMs
    while (!(await predicate())) {
      if (Date.now() > deadline) throw new Error('condition not met in time')
      await sleep(10)
    }
  }

  it('unique keys enqueue a scheduled slot once', async () => {
    const slot = new Date('2026-11-24T08:05:00Z')
    await jobs.scheduleSlot({ kind: 'reconcile', cron: '*/5 * * * *' }, slot)
    await jobs.scheduleSlot({ kind: 'reconcile', cron: '*/5 * * * *' }, slot)
    expect(await allJobs()).toHaveLength(1)
    expect(await row()).toMatchObject({ uniqueKey: 'reconcile:2026-11-24T08:05:00.000Z', payload: { slot: '2026-11-24T08:05:00.000Z' } })
  })

  it('two processes’ timers fired apart for one slot enqueue it once', async () => {
    // the slot each timer computes is a unit test (tests/unit/jobs.test.ts)
    const fired = ['2026-11-24T08:05:00.000Z', '2026-11-24T08:05:00.347Z', '2026-11-24T08:06:12.010Z'].map((at) => new Date(at))
    for (const firedAt of fired) await jobs.scheduleSlot({ kind: 'reconcile', cron: '*/5 * * * *' }, jobs.slotOf('*/5 * * * *', firedAt))
    expect(await allJobs()).toHaveLength(1)
  })

  it('reclaims a running job once its heartbeat has stopped for STALE_MS, not before', async () => {
    await enqueue('work')
    const now = Date.now()
    const claimed = await jobs.claim(now)
    expect(claimed).not.toBeNull()
    expect(await row(claimed!.id)).toMatchObject({ status: 'running', heartbeatAt: now })
    expect(await jobs.claim(now)).toBeNull()
    // six minutes of running alone is no reason: the old fixed lock age is gone
    expect(await jobs.heartbeat(claimed!, now + 6 * 60 * 1000)).toBe(true)
    expect(await jobs.claim(now + 6 * 60 * 1000 + jobs.STALE_MS - 1)).toBeNull()
    // the heartbeat stops: after STALE_MS the job is taken back and run again
    const again = await jobs.claim(now + 6 * 60 * 1000 + jobs.STALE_MS + 1)
    expect(again?.id).toBe(claimed!.id)
    expect(again?.attempts).toBe(2)
  })

  it('does not reclaim a long job whose heartbeat is live; does reclaim one whose heartbeat stopped', async () => {
    await enqueue('long')
    let release!: () => void
    const handlerDone = new Promise<void>((r) => (release = r))
    // the handler runs far longer than the stale threshold; the heartbeat keeps it ours
    // (generous against a loaded machine: a stalled event loop delays beats and checks alike)
    const staleMs = 400
    const running = jobs.drain({ long: () => handlerDone }, 1, 25)
    await until(async () => (await row()).status === 'running')
    const started = Date.now()
    let checks = 0
    while (Date.now() - started < staleMs * 4) {
      expect(await jobs.claim(Date.now(), staleMs)).toBeNull()
      checks++
      await sleep(30)
    }
    expect(checks).toBeGreaterThan(5)
    expect(await row()).toMatchObject({ status: 'running', attempts: 1 })
    expect(Date.now() - (await row()).heartbeatAt!).toBeLessThan(staleMs)
    release()
    await running
    expect(await row()).toMatchObject({ status: 'done', attempts: 1, heartbeatAt: null })

    // a claim with no handler beating for it: its process died right after claiming
    await enqueue('orphan')
    const orphan = (await jobs.claim(Date.now(), staleMs))!
    expect(await jobs.claim(Date.now(), staleMs)).toBeNull()
    await sleep(staleMs + 50)
    const reclaimed = await jobs.claim(Date.now(), staleMs)
    expect(reclaimed).toMatchObject({ id: orphan.id, attempts: 2 })
  })

  it('runs a scheduled kind under its lease, and skips a slot while another holder has it', async () => {
    let runs = 0
    const handlers = jobs.underLeases({ tidy: () => void runs++ }, ['tidy'], 10_000)
    const other = await jobs.lease.tryAcquire('tidy', 10_000)
    expect(other).not.toBeNull()
    await jobs.scheduleSlot({ kind: 'tidy', cron: '* * * * *' }, new Date('2026-11-24T08:05:00Z'))
    await jobs.drain(handlers)
    expect(runs).toBe(0)
    expect(await row()).toMatchObject({ status: 'done' })
    await jobs.lease.release(other!)
    await jobs.scheduleSlot({ kind: 'tidy', cron: '* * * * *' }, new Date('2026-11-24T08:06:00Z'))
    await jobs.drain(handlers)
    expect(runs).toBe(1)
    // released afterwards: the next slot need not wait for the TTL
    expect(await jobs.lease.holderOf('tidy')).toBeUndefined()
  })

  it('a leased kind enqueued for its own reason (the boot reconcile) waits for the lease instead of skipping', async () => {
    let runs = 0
    const handlers = jobs.underLeases({ tidy: () => void runs++ }, ['tidy'], 10_000)
    const other = (await jobs.lease.tryAcquire('tidy', 10_000))!
    await enqueue('tidy', { reason: 'boot' })
    await jobs.drain(handlers)
    expect(runs).toBe(0)
    // back in the queue until the holder's lease would expire; the attempt is not counted
    expect(await row()).toMatchObject({ status: 'queued', attempts: 0, runAt: other.expiresAt, lastError: null })
    await jobs.lease.release(other)
    await engine.rows(sql`UPDATE jobs SET run_at = 0 RETURNING id`)
    await jobs.drain(handlers)
    expect(runs).toBe(1)
    expect(await row()).toMatchObject({ status: 'done', attempts: 1 })
  })

  it('stop() lets the job in hand finish and claims nothing after it', async () => {
    let release!: () => void
    const gate = new Promise<void>((r) => (release = r))
    const ran: number[] = []
    await enqueue('slow', { n: 1 })
    await enqueue('slow', { n: 2 })
    const worker = jobs.startWorker({ slow: async (payload) => void (await gate, ran.push(Number(payload.n))) }, [], { pollMs: 10 })
    await until(async () => (await row()).status === 'running')
    const stopping = worker.stop(5000)
    await sleep(50)
    release()
    expect(await stopping).toEqual({ finished: true })
    expect(ran).toEqual([1])
    expect(await jobs.list('done')).toHaveLength(1)
    expect(await jobs.list('queued')).toHaveLength(1)
  })

  it('stop() hands a job that outlives the timeout back to the queue, due now', async () => {
    let release!: () => void
    const gate = new Promise<void>((r) => (release = r))
    await enqueue('stuck')
    const worker = jobs.startWorker({ stuck: () => gate }, [], { pollMs: 10 })
    await until(async () => (await row()).status === 'running')
    expect(await worker.stop(100)).toEqual({ finished: false })
    const job = await row()
    expect(job).toMatchObject({ status: 'queued', lockedBy: null, heartbeatAt: null, attempts: 1 })
    expect(job.runAt).toBeLessThanOrEqual(Date.now())
    // when the abandoned handler does return, it finds the job no longer its own
    release()
    await sleep(20)
    expect(await row()).toMatchObject({ status: 'queued' })
  })

  it('withLease renews while the work runs, excludes overlapping runs, and releases at the end', async () => {
    const { lease } = jobs
    const ttlMs = 400
    let blocked = 0
    const result = await lease.withLease('backup', ttlMs, async () => {
      // several TTLs long: only renewal keeps others out
      for (let i = 0; i < 6; i++) {
        expect(await lease.tryAcquire('backup', ttlMs)).toBeNull()
        const overlapping = await lease.withLease('backup', ttlMs, () => 'ran')
        expect(overlapping.acquired).toBe(false)
        blocked++
        await sleep(ttlMs / 2)
      }
      return 'done'
    })
    expect(result).toEqual({ acquired: true, value: 'done' })
    expect(blocked).toBe(6)
    expect(await lease.holderOf('backup')).toBeUndefined()
  })

  it('withLease aborts its signal when the lease is taken over', async () => {
    const { lease } = jobs
    const result = await lease.withLease('backup', 150, async (signal) => {
      // this process stalled past the TTL and someone else took the task over
      await engine.rows(sql`UPDATE leases SET holder = 'intruder' WHERE name = 'backup' RETURNING name`)
      await until(async () => signal.aborted, 2000)
      return signal.reason instanceof Error ? signal.reason.message : String(signal.reason)
    })
    expect(result).toEqual({ acquired: true, value: 'lease "backup" was taken over' })
    // the intruder's row is left alone
    expect((await lease.holderOf('backup'))?.holder).toBe('intruder')
  })
})
