import 'server-only'
import { Cron } from 'croner'
import { and, count, desc, eq, sql, type SQL } from 'drizzle-orm'
import { claimNext } from '@/db/jobs'
import { DEFAULT_MAX_ATTEMPTS, failure, STALE_MS, type Claimed, type EnqueueOptions, type Held } from '@/db/job-rules'
import { all, get, read, run, sqlRun, transaction, type Steps, type Tables, type Writer } from '@/db/tx'
import { log } from '@/lib/log'
import * as lease from './lease'

// A durable queue in the store's own database, on either engine (db/tx.ts). Enqueue inside the
// transaction that causes the work (an order and its confirmation email commit together or not
// at all). A claim is atomic (db/jobs.ts), and on PostgreSQL app servers claiming at once
// never get the same job; failures retry with exponential backoff; a running job
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

/**
 * Queues a job, as a step of the transaction that causes it (db/tx.ts); false when one with the
 * same unique key exists already, or is being inserted by a transaction that then commits
 * (nothing was queued). ON CONFLICT, not a read first: on PostgreSQL two app servers enqueuing
 * one key at once would both read "none"; the insert waits for the other's to commit instead.
 */
export function* enqueueing(_tx: Writer, _t: Tables, kind: string, payload: Record<string, unknown> = {}, options: EnqueueOptions = {}): Steps<boolean> {
  // Raw SQL both engines accept: every order, email and scheduled slot enqueues, and building
  // the builder's insert costs more than SQLite's insert itself (decision 001). The payload goes
  // in as JSON text, which PostgreSQL's json column parses.
  const { changes } = yield* sqlRun(sql`
    INSERT INTO jobs (kind, payload, unique_key, run_at, max_attempts)
    VALUES (${kind}, ${JSON.stringify(payload)}, ${options.uniqueKey ?? null}, ${options.runAt ?? Date.now()}, ${options.maxAttempts ?? DEFAULT_MAX_ATTEMPTS})
    ON CONFLICT (unique_key) DO NOTHING`)
  return changes === 1
}

/**
 * Settles a queued job without running it: the reason it was queued stopped being true in the
 * same transaction (an order refunded before its confirmation went out). A job already
 * running or done is left alone.
 */
export function* skipping(_tx: Writer, _t: Tables, uniqueKey: string, why: string, now = Date.now()): Steps<void> {
  yield* sqlRun(sql`UPDATE jobs SET status = 'done', finished_at = ${now}, last_error = ${`skipped: ${why}`} WHERE unique_key = ${uniqueKey} AND status = 'queued'`)
}

/** Empties a job's payload once it is no longer needed (a secret it carried was delivered). */
export async function forgetPayload(id: number): Promise<void> {
  await transaction((tx, t) => run(tx.update(t.jobs).set({ payload: {} }).where(eq(t.jobs.id, id))))
}

/**
 * Claims the next due job, or null. First takes back running jobs whose heartbeat stopped
 * more than `staleMs` ago: their process died mid-run. One statement (db/jobs.ts): on
 * PostgreSQL two app servers claiming at once never get the same job.
 */
export async function claim(now = Date.now(), staleMs = STALE_MS): Promise<Claimed | null> {
  const { job, reclaimed } = await transaction(() => claimNext(workerId, now, staleMs))
  if (reclaimed > 0) log.warn('jobs: reclaimed jobs whose worker stopped', { count: reclaimed })
  return job
}

// Only the attempt this process still holds: if the job was reclaimed meanwhile (by another
// process, or by this one after a stall), the new attempt's outcome stands. A conditional
// update, so it holds on PostgreSQL with several app servers as on SQLite's single writer.
const isHeld = (job: Held) => sql`id = ${job.id} AND status = 'running' AND locked_by = ${workerId} AND attempts = ${job.attempts}`

/** One conditional update in its own transaction; true when it changed a row. */
async function changed(update: SQL): Promise<boolean> {
  const { changes } = await transaction(() => sqlRun(update))
  return changes > 0
}

/**
 * Proves this process is still working on job `id`. False when the job is no longer ours
 * (it was reclaimed). locked_at moves too: a release that predates heartbeats reclaims by
 * locked_at age, and must not take a live job either.
 */
export function heartbeat(job: Held, now = Date.now()): Promise<boolean> {
  return changed(sql`UPDATE jobs SET heartbeat_at = ${now}, locked_at = ${now} WHERE ${isHeld(job)}`)
}

// Finishing touches only the attempt this process still holds (isHeld). False when it was
// taken back.
function releaseHeld(job: Held, set: SQL): Promise<boolean> {
  return changed(sql`UPDATE jobs SET ${set}, locked_at = NULL, locked_by = NULL, heartbeat_at = NULL WHERE ${isHeld(job)}`)
}

export function complete(job: Held, now = Date.now()): Promise<boolean> {
  return releaseHeld(job, sql`status = 'done', finished_at = ${now}`)
}

/** Records a failed attempt: queued again after the backoff, or failed after the last attempt. */
export function fail(job: Claimed, err: unknown, now = Date.now()): Promise<boolean> {
  const f = failure(job, err, now)
  return releaseHeld(job, sql`status = ${f.status}, last_error = ${f.lastError}, run_at = ${f.runAt}, finished_at = ${f.finishedAt}`)
}

/** Puts a job this process holds back in the queue, due now: shutdown ran out of time for it. */
function abandon(job: Held): Promise<boolean> {
  return releaseHeld(job, sql`status = 'queued', run_at = ${Date.now()}`)
}

/**
 * Puts a job this process holds back in the queue until `runAt`, without counting the
 * attempt: it could not start yet (its lease is held elsewhere), which is not a failure.
 */
function defer(job: Held, runAt: number): Promise<boolean> {
  return releaseHeld(job, sql`status = 'queued', run_at = ${runAt}, attempts = attempts - 1`)
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
    heartbeat(job).then(
      (isOurs) => {
        if (isOurs) return
        clearInterval(beat)
        log.warn('jobs: job was reclaimed while this process ran it', { id: job.id, kind: job.kind })
        lost.abort(new Error(`job ${job.id} was reclaimed`))
      },
      // A busy database delays one beat; STALE_MS allows for several.
      (err: unknown) => log.warn('jobs: heartbeat failed', { id: job.id, err }),
    )
  }, heartbeatMs)
  beat.unref()
  try {
    const handler = handlers[job.kind]
    if (!handler) throw new Error(`no handler for job kind "${job.kind}"`)
    await handler(job.payload, { id: job.id, attempts: job.attempts, signal: lost.signal })
    clearInterval(beat)
    await complete(job)
  } catch (err) {
    clearInterval(beat)
    if (err instanceof NotYet) {
      log.info('jobs: deferred', { id: job.id, kind: job.kind, reason: err.message })
      await defer(job, err.retryAt)
      return
    }
    log.error('jobs: job failed', { id: job.id, kind: job.kind, attempts: job.attempts, err })
    await fail(job, err)
  }
}

/** Runs due jobs until none is left (or `limit`); returns how many ran. */
export async function drain(handlers: Record<string, JobHandler>, limit = 100, heartbeatMs = HEARTBEAT_MS): Promise<number> {
  let ran = 0
  while (ran < limit) {
    const job = await claim()
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
export async function scheduleSlot(schedule: Schedule, slot: Date): Promise<void> {
  const at = slot.toISOString()
  await transaction((tx, t) => enqueueing(tx, t, schedule.kind, { ...schedule.payload, slot: at }, { uniqueKey: `${schedule.kind}:${at}`, maxAttempts: 3 }))
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
      const job = await claim(Date.now(), staleMs)
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
        scheduleSlot(schedule, slotOf(self, self.currentRun() ?? new Date())).catch((err: unknown) => log.error('jobs: could not schedule', { kind: schedule.kind, err }))
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
        await abandon(job)
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
  return read(function* (db, t) {
    const q = db.select().from(t.jobs)
    return yield* all(status ? q.where(eq(t.jobs.status, status)) : q)
  })
}

/** Failed jobs, newest first, for the admin. */
export function failed(limit = 100) {
  return read(function* (db, t) {
    return yield* all(db.select().from(t.jobs).where(eq(t.jobs.status, 'failed')).orderBy(desc(t.jobs.finishedAt)).limit(limit))
  })
}

/** Counts by status, for the dashboard. */
export async function counts(): Promise<Record<'queued' | 'running' | 'done' | 'failed', number>> {
  const out = { queued: 0, running: 0, done: 0, failed: 0 }
  const rows = await read(function* (db, t) {
    return yield* all(db.select({ status: t.jobs.status, n: count() }).from(t.jobs).groupBy(t.jobs.status))
  })
  for (const row of rows) out[row.status] = Number(row.n)
  return out
}

/**
 * Puts a failed job back in the queue to run now, with a fresh set of attempts; null when it is
 * not a failed job (a second click finds it queued already).
 */
export function* retrying(tx: Writer, t: Tables, id: number, now = Date.now()): Steps<{ kind: string; lastError: string | null } | null> {
  const row = yield* get(
    tx
      .update(t.jobs)
      .set({ status: 'queued', runAt: now, attempts: 0, finishedAt: null, lockedAt: null, lockedBy: null })
      .where(and(eq(t.jobs.id, id), eq(t.jobs.status, 'failed')))
      .returning({ kind: t.jobs.kind, lastError: t.jobs.lastError }),
  )
  return row ?? null
}

