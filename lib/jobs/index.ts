import 'server-only'
import { Cron } from 'croner'
import { and, eq, sql, type SQL } from 'drizzle-orm'
import { getDb, prepared, write, type Tx } from '@/db'
import { DEFAULT_MAX_ATTEMPTS, failure, LEGACY_LOCK_TIMEOUT_MS, STALE_MS, type Claimed, type EnqueueOptions, type Held } from '@/db/job-rules'
import { jobs } from '@/db/schema'
import { log } from '@/lib/log'
import * as lease from './lease'

// A durable queue in the store's own database. Enqueue inside the transaction that causes
// the work (an order and its confirmation email commit together or not at all). A claim is
// one atomic UPDATE … RETURNING; failures retry with exponential backoff; a running job
// renews heartbeat_at while its handler works and is reclaimed only once that stops (its
// process died or froze), never merely for running long. Scheduled slots are keyed by the
// slot's own time, so the blue and green processes of a deploy enqueue one job per slot, and
// each scheduled kind runs under a lease, so two runs of it never overlap.

export { lease }
// The rules both engines share (db/job-rules.ts), exported here as the queue's own.
export { backoffMs, STALE_MS, type Claimed } from '@/db/job-rules'

type JobContext = {
  id: number
  attempts: number
  /** Aborts when this process lost the job (it was reclaimed) or its lease: stop at the next step. */
  signal: AbortSignal
}
export type JobHandler = (payload: Record<string, unknown>, job: JobContext) => Promise<void> | void

/** How often a running job proves its process is alive. */
const HEARTBEAT_MS = 5_000
/**
 * The lease on a scheduled kind. Kept below STALE_MS - HEARTBEAT_MS so that by the time a
 * dead process's job is reclaimed, its lease has expired too and the retry is not skipped.
 */
export const LEASE_TTL_MS = 20_000

const workerId = lease.processId

/** Queues a job; false when one with the same unique key exists already (nothing was queued). */
export function enqueue(tx: Tx, kind: string, payload: Record<string, unknown> = {}, options: EnqueueOptions = {}): boolean {
  // In `tx`: the prepared insert runs on the same connection, inside its transaction.
  const { changes } = insertJob().run({ kind, payload, uniqueKey: options.uniqueKey ?? null, runAt: options.runAt ?? Date.now(), maxAttempts: options.maxAttempts ?? DEFAULT_MAX_ATTEMPTS })
  return changes === 1
}

// Every order, email and scheduled slot enqueues: built once (db.prepared), not per call.
const insertJob = () =>
  prepared('jobs.insert', (db) =>
    db
      .insert(jobs)
      .values({ kind: sql.placeholder('kind'), payload: sql.placeholder('payload'), uniqueKey: sql.placeholder('uniqueKey'), runAt: sql.placeholder('runAt'), maxAttempts: sql.placeholder('maxAttempts') })
      .onConflictDoNothing({ target: jobs.uniqueKey })
      .prepare(),
  )

/**
 * Settles a queued job without running it: the reason it was queued stopped being true in the
 * same transaction (an order refunded before its confirmation went out). A job already
 * running or done is left alone.
 */
export function skipQueued(tx: Tx, uniqueKey: string, why: string, now = Date.now()): void {
  tx.update(jobs)
    .set({ status: 'done', finishedAt: now, lastError: `skipped: ${why}` })
    .where(and(eq(jobs.uniqueKey, uniqueKey), eq(jobs.status, 'queued')))
    .run()
}

/** Empties a job's payload once it is no longer needed (a secret it carried was delivered). */
export function forgetPayload(id: number): void {
  write((tx) => tx.update(jobs).set({ payload: {} }).where(eq(jobs.id, id)).run())
}

/**
 * Claims the next due job, or null. First takes back running jobs whose heartbeat stopped
 * more than `staleMs` ago: their process died mid-run.
 */
export function claim(now = Date.now(), staleMs = STALE_MS): Claimed | null {
  return write((tx) => {
    const reclaimed = tx.run(sql`
      UPDATE jobs SET status = 'queued', locked_at = NULL, locked_by = NULL, heartbeat_at = NULL
      WHERE status = 'running' AND (
        (heartbeat_at IS NOT NULL AND heartbeat_at < ${now - staleMs})
        OR (heartbeat_at IS NULL AND locked_at < ${now - LEGACY_LOCK_TIMEOUT_MS}))`)
    if (reclaimed.changes > 0) log.warn('jobs: reclaimed jobs whose worker stopped', { count: reclaimed.changes })
    const row = tx.get<{ id: number; kind: string; payload: string; attempts: number; max_attempts: number }>(sql`
      UPDATE jobs SET status = 'running', locked_at = ${now}, heartbeat_at = ${now}, locked_by = ${workerId}, attempts = attempts + 1
      WHERE id = (SELECT id FROM jobs WHERE status = 'queued' AND run_at <= ${now} ORDER BY run_at, id LIMIT 1)
      RETURNING id, kind, payload, attempts, max_attempts`)
    if (!row) return null
    return { id: row.id, kind: row.kind, payload: JSON.parse(row.payload) as Record<string, unknown>, attempts: row.attempts, maxAttempts: row.max_attempts }
  })
}

/**
 * Proves this process is still working on job `id`. False when the job is no longer ours
 * (it was reclaimed). locked_at moves too: a release that predates heartbeats reclaims by
 * locked_at age, and must not take a live job either.
 */
export function heartbeat(job: Held, now = Date.now()): boolean {
  const result = write((tx) =>
    tx.run(sql`UPDATE jobs SET heartbeat_at = ${now}, locked_at = ${now} WHERE id = ${job.id} AND status = 'running' AND locked_by = ${workerId} AND attempts = ${job.attempts}`),
  )
  return result.changes > 0
}

// Finishing touches only the attempt this process still holds: if the job was reclaimed
// meanwhile (by another process, or by this one after a stall), the new attempt's outcome
// stands. False when it was.
function releaseHeld(job: Held, set: SQL): boolean {
  const result = write((tx) =>
    tx.run(sql`UPDATE jobs SET ${set}, locked_at = NULL, locked_by = NULL, heartbeat_at = NULL
      WHERE id = ${job.id} AND status = 'running' AND locked_by = ${workerId} AND attempts = ${job.attempts}`),
  )
  return result.changes > 0
}

export function complete(job: Held): boolean {
  return releaseHeld(job, sql`status = 'done', finished_at = ${Date.now()}`)
}

export function fail(job: Claimed, err: unknown, now = Date.now()): boolean {
  const f = failure(job, err, now)
  return releaseHeld(job, sql`status = ${f.status}, last_error = ${f.lastError}, run_at = ${f.runAt}, finished_at = ${f.finishedAt}`)
}

/** Puts a job this process holds back in the queue, due now: shutdown ran out of time for it. */
function abandon(job: Held): boolean {
  return releaseHeld(job, sql`status = 'queued', run_at = ${Date.now()}`)
}

/**
 * Puts a job this process holds back in the queue until `runAt`, without counting the
 * attempt: it could not start yet (its lease is held elsewhere), which is not a failure.
 */
function defer(job: Held, runAt: number): boolean {
  const result = write((tx) =>
    tx.run(sql`UPDATE jobs SET status = 'queued', run_at = ${runAt}, attempts = attempts - 1, locked_at = NULL, locked_by = NULL, heartbeat_at = NULL
      WHERE id = ${job.id} AND status = 'running' AND locked_by = ${workerId} AND attempts = ${job.attempts}`),
  )
  return result.changes > 0
}

/** Thrown by a handler that cannot start before `retryAt`; the job is deferred, not failed. */
class NotYet extends Error {
  constructor(
    message: string,
    readonly retryAt: number,
  ) {
    super(message)
    this.name = 'NotYet'
  }
}

/** Runs one claimed job to completion, renewing its heartbeat every `heartbeatMs` meanwhile. */
async function runJob(handlers: Record<string, JobHandler>, job: Claimed, heartbeatMs = HEARTBEAT_MS): Promise<void> {
  const lost = new AbortController()
  const beat = setInterval(() => {
    try {
      if (!heartbeat(job)) {
        clearInterval(beat)
        log.warn('jobs: job was reclaimed while this process ran it', { id: job.id, kind: job.kind })
        lost.abort(new Error(`job ${job.id} was reclaimed`))
      }
    } catch (err) {
      // A busy database delays one beat; STALE_MS allows for several.
      log.warn('jobs: heartbeat failed', { id: job.id, err })
    }
  }, heartbeatMs)
  beat.unref()
  try {
    const handler = handlers[job.kind]
    if (!handler) throw new Error(`no handler for job kind "${job.kind}"`)
    await handler(job.payload, { id: job.id, attempts: job.attempts, signal: lost.signal })
    clearInterval(beat)
    complete(job)
  } catch (err) {
    clearInterval(beat)
    if (err instanceof NotYet) {
      log.info('jobs: deferred', { id: job.id, kind: job.kind, reason: err.message })
      defer(job, err.retryAt)
      return
    }
    log.error('jobs: job failed', { id: job.id, kind: job.kind, attempts: job.attempts, err })
    fail(job, err)
  }
}

/** Runs due jobs until none is left (or `limit`); returns how many ran. */
export async function drain(handlers: Record<string, JobHandler>, limit = 100, heartbeatMs = HEARTBEAT_MS): Promise<number> {
  let ran = 0
  while (ran < limit) {
    const job = claim()
    if (!job) break
    ran++
    await runJob(handlers, job, heartbeatMs)
  }
  return ran
}

export type Schedule = { kind: string; cron: string; payload?: Record<string, unknown> }

/**
 * The slot a cron firing at `firedAt` belongs to: the schedule's own latest time at or before
 * it (08:05:00.000 for a five-minute cron that fired at 08:05:00.004). Timers fire a few
 * milliseconds late, and differently in each process, so the firing time itself never makes
 * a shared key.
 */
export function slotOf(cron: Cron | string, firedAt: Date): Date {
  const pattern = typeof cron === 'string' ? new Cron(cron) : cron
  // previousRuns excludes its reference instant; one millisecond later includes a firing
  // exactly on the slot.
  return pattern.previousRuns(1, new Date(firedAt.getTime() + 1))[0] ?? firedAt
}

/** Enqueues the job of one schedule slot; the slot's unique key dedupes across processes. */
export function scheduleSlot(schedule: Schedule, slot: Date): void {
  const at = slot.toISOString()
  write((tx) => enqueue(tx, schedule.kind, { ...schedule.payload, slot: at }, { uniqueKey: `${schedule.kind}:${at}`, maxAttempts: 3 }))
}

/**
 * Wraps each scheduled kind's handler in a lease named after the kind. A slot's run that
 * finds the lease held skips: scheduled work is catch-up work (reconcile, cleanups, backups),
 * and the run in progress, or the next slot, covers what this one would have done. A job of
 * that kind enqueued for a reason of its own (the boot reconcile) waits for the lease instead.
 */
export function underLeases(handlers: Record<string, JobHandler>, kinds: Iterable<string>, ttlMs = LEASE_TTL_MS): Record<string, JobHandler> {
  const wrapped = { ...handlers }
  for (const kind of kinds) {
    const handler = handlers[kind]
    if (!handler) continue
    wrapped[kind] = async (payload, job) => {
      const result = await lease.withLease(kind, ttlMs, (leaseLost) => handler(payload, { ...job, signal: AbortSignal.any([job.signal, leaseLost]) }))
      if (result.acquired) return
      if (typeof payload.slot !== 'string') throw new NotYet(`lease "${kind}" is held by ${result.holder ?? 'another process'}`, result.expiresAt ?? Date.now() + 1000)
      log.info('jobs: skipped, this task is already running', { kind, id: job.id, slot: payload.slot, holder: result.holder })
    }
  }
  return wrapped
}

export type WorkerOptions = {
  /** How often to look for due jobs. */
  pollMs?: number
  heartbeatMs?: number
  staleMs?: number
  leaseTtlMs?: number
}

export type Worker = {
  /**
   * Stops claiming and firing schedules, then waits up to `timeoutMs` for the job in hand.
   * A job still running then goes back to the queue, due now, for the next process.
   */
  stop(timeoutMs?: number): Promise<{ finished: boolean }>
}

const globalForJobs = globalThis as unknown as { tillWorker?: Worker }

export function startWorker(handlers: Record<string, JobHandler>, schedules: Schedule[], options: WorkerOptions = {}): Worker {
  if (globalForJobs.tillWorker) return globalForJobs.tillWorker
  const { pollMs = 500, heartbeatMs = HEARTBEAT_MS, staleMs = STALE_MS, leaseTtlMs = LEASE_TTL_MS } = options
  const runnable = underLeases(handlers, new Set(schedules.map((s) => s.kind)), leaseTtlMs)
  let isStopping = false
  let inHand: Claimed | null = null
  let ticking: Promise<void> | null = null

  const tick = async () => {
    // Re-checked before every claim: once shutdown starts, the job in hand is the last one.
    while (!isStopping) {
      const job = claim(Date.now(), staleMs)
      if (!job) return
      inHand = job
      try {
        await runJob(runnable, job, heartbeatMs)
      } finally {
        inHand = null
      }
    }
  }
  const poll = () => {
    if (ticking || isStopping) return
    ticking = tick()
      .catch((err: unknown) => log.error('jobs: worker tick failed', { err }))
      .finally(() => {
        ticking = null
      })
  }
  const timer = setInterval(poll, pollMs)
  timer.unref()
  const crons = schedules.map(
    (schedule) =>
      new Cron(schedule.cron, { protect: true, unref: true }, (self: Cron) => {
        if (isStopping) return
        try {
          scheduleSlot(schedule, slotOf(self, self.currentRun() ?? new Date()))
        } catch (err) {
          log.error('jobs: could not schedule', { kind: schedule.kind, err })
        }
      }),
  )

  const worker: Worker = {
    async stop(timeoutMs = 25_000) {
      isStopping = true
      clearInterval(timer)
      for (const c of crons) c.stop()
      if (globalForJobs.tillWorker === worker) globalForJobs.tillWorker = undefined
      if (!ticking) return { finished: true }
      let timeout: NodeJS.Timeout | undefined
      const finished = await Promise.race([
        ticking.then(() => true),
        new Promise<boolean>((resolve) => {
          timeout = setTimeout(() => resolve(false), timeoutMs)
        }),
      ])
      clearTimeout(timeout)
      const job = inHand as Claimed | null
      if (!finished && job) {
        log.warn('jobs: shutdown timed out; job handed back to the queue', { id: job.id, kind: job.kind })
        abandon(job)
      }
      return { finished }
    },
  }
  globalForJobs.tillWorker = worker
  return worker
}

/** The worker this process runs, if any (shutdown stops it). */
export function currentWorker(): Worker | undefined {
  return globalForJobs.tillWorker
}

export function list(status?: 'queued' | 'running' | 'done' | 'failed') {
  const q = getDb().select().from(jobs)
  return (status ? q.where(eq(jobs.status, status)) : q).all()
}

/** Failed jobs, newest first, for the admin. */
export function failed(limit = 100) {
  return getDb().select().from(jobs).where(eq(jobs.status, 'failed')).orderBy(sql`${jobs.finishedAt} DESC`).limit(limit).all()
}

/** Counts by status, for the dashboard. */
export function counts(): Record<'queued' | 'running' | 'done' | 'failed', number> {
  const out = { queued: 0, running: 0, done: 0, failed: 0 }
  for (const row of getDb().select({ status: jobs.status, n: sql<number>`count(*)` }).from(jobs).groupBy(jobs.status).all()) out[row.status] = Number(row.n)
  return out
}

/** Puts a failed job back in the queue to run now, with a fresh set of attempts. */
export function retry(tx: Tx, id: number): { kind: string; lastError: string | null } | null {
  const row = tx
    .update(jobs)
    .set({ status: 'queued', runAt: Date.now(), attempts: 0, finishedAt: null, lockedAt: null, lockedBy: null })
    .where(and(eq(jobs.id, id), eq(jobs.status, 'failed')))
    .returning({ kind: jobs.kind, lastError: jobs.lastError })
    .get()
  return row ?? null
}
