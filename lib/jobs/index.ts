import 'server-only'
import crypto from 'node:crypto'
import { Cron } from 'croner'
import { and, eq, lt, sql } from 'drizzle-orm'
import { getDb, write, type Tx } from '@/db'
import { jobs } from '@/db/schema'
import { log } from '@/lib/log'

// A durable queue in the store's own database. Enqueue inside the transaction that causes
// the work (an order and its confirmation email commit together or not at all). A claim is
// one atomic UPDATE … RETURNING; failures retry with exponential backoff; a lock left by a
// process that died is reclaimed; unique keys make a scheduled slot run once across the
// blue and green processes of a deploy.

export type JobHandler = (payload: Record<string, unknown>, job: { id: number; attempts: number }) => Promise<void> | void

const LOCK_TIMEOUT_MS = 5 * 60 * 1000
const workerId = `${process.pid}-${crypto.randomBytes(4).toString('hex')}`

export function enqueue(tx: Tx, kind: string, payload: Record<string, unknown> = {}, options: { uniqueKey?: string; runAt?: number; maxAttempts?: number } = {}): void {
  tx.insert(jobs)
    .values({ kind, payload, uniqueKey: options.uniqueKey ?? null, runAt: options.runAt ?? Date.now(), maxAttempts: options.maxAttempts ?? 8 })
    .onConflictDoNothing({ target: jobs.uniqueKey })
    .run()
}

export function backoffMs(attempts: number): number {
  // 2 s, 4 s, 8 s … capped at one hour
  return Math.min(2 ** attempts * 1000, 3600_000)
}

type Claimed = { id: number; kind: string; payload: Record<string, unknown>; attempts: number; maxAttempts: number }

/** Claims the next due job, or null. Also reclaims jobs whose worker died mid-run. */
export function claim(now = Date.now()): Claimed | null {
  return write((tx) => {
    tx.update(jobs)
      .set({ status: 'queued', lockedAt: null, lockedBy: null })
      .where(and(eq(jobs.status, 'running'), lt(jobs.lockedAt, now - LOCK_TIMEOUT_MS)))
      .run()
    const row = tx.get<{ id: number; kind: string; payload: string; attempts: number; max_attempts: number }>(sql`
      UPDATE jobs SET status = 'running', locked_at = ${now}, locked_by = ${workerId}, attempts = attempts + 1
      WHERE id = (SELECT id FROM jobs WHERE status = 'queued' AND run_at <= ${now} ORDER BY run_at, id LIMIT 1)
      RETURNING id, kind, payload, attempts, max_attempts`)
    if (!row) return null
    return { id: row.id, kind: row.kind, payload: JSON.parse(row.payload) as Record<string, unknown>, attempts: row.attempts, maxAttempts: row.max_attempts }
  })
}

export function complete(id: number): void {
  write((tx) => tx.update(jobs).set({ status: 'done', finishedAt: Date.now(), lockedAt: null, lockedBy: null }).where(eq(jobs.id, id)).run())
}

export function fail(job: Claimed, err: unknown, now = Date.now()): void {
  const message = err instanceof Error ? `${err.name}: ${err.message}` : String(err)
  const isFinal = job.attempts >= job.maxAttempts
  write((tx) =>
    tx
      .update(jobs)
      .set({ status: isFinal ? 'failed' : 'queued', lastError: message.slice(0, 2000), runAt: now + backoffMs(job.attempts), lockedAt: null, lockedBy: null, finishedAt: isFinal ? now : null })
      .where(eq(jobs.id, job.id))
      .run(),
  )
}

/** Runs due jobs until none is left (or `limit`); returns how many ran. */
export async function drain(handlers: Record<string, JobHandler>, limit = 100): Promise<number> {
  let ran = 0
  while (ran < limit) {
    const job = claim()
    if (!job) break
    ran++
    const handler = handlers[job.kind]
    try {
      if (!handler) throw new Error(`no handler for job kind "${job.kind}"`)
      await handler(job.payload, job)
      complete(job.id)
    } catch (err) {
      log.error('jobs: job failed', { id: job.id, kind: job.kind, attempts: job.attempts, err })
      fail(job, err)
    }
  }
  return ran
}

export type Schedule = { kind: string; cron: string; payload?: Record<string, unknown> }

/** Enqueues one job per schedule slot; the slot's unique key dedupes across processes. */
export function scheduleSlot(schedule: Schedule, slot: Date): void {
  write((tx) => enqueue(tx, schedule.kind, schedule.payload ?? {}, { uniqueKey: `${schedule.kind}:${slot.toISOString()}`, maxAttempts: 3 }))
}

const globalForJobs = globalThis as unknown as { tillWorker?: { stop(): void } }

export function startWorker(handlers: Record<string, JobHandler>, schedules: Schedule[], pollMs = 500): { stop(): void } {
  if (globalForJobs.tillWorker) return globalForJobs.tillWorker
  let isRunning = false
  let isStopped = false
  const tick = async () => {
    if (isRunning || isStopped) return
    isRunning = true
    try {
      await drain(handlers)
    } catch (err) {
      log.error('jobs: worker tick failed', { err })
    } finally {
      isRunning = false
    }
  }
  const timer = setInterval(tick, pollMs)
  timer.unref()
  const crons = schedules.map(
    (schedule) =>
      new Cron(schedule.cron, { protect: true, unref: true }, (self: Cron) => {
        const slot = self.currentRun() ?? new Date()
        try {
          scheduleSlot(schedule, slot)
        } catch (err) {
          log.error('jobs: could not schedule', { kind: schedule.kind, err })
        }
      }),
  )
  globalForJobs.tillWorker = {
    stop() {
      isStopped = true
      clearInterval(timer)
      for (const c of crons) c.stop()
      globalForJobs.tillWorker = undefined
    },
  }
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
