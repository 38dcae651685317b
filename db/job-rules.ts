// The job queue's and the leases' rules that do not depend on the engine: how long a running
// job may go without a heartbeat, how a failure is recorded and when the job runs again, how a
// lease holder is named. The queue (lib/jobs) and its per-engine claim (db/jobs.ts) take them
// from here. Pure: no connection, no clock of its own.

/** A running job whose heartbeat is older than this is taken back (six missed beats). */
export const STALE_MS = 30_000
/** Rows claimed by a release that predates heartbeats carry none: for those, the old rule. */
export const LEGACY_LOCK_TIMEOUT_MS = 5 * 60 * 1000
/** Attempts a job gets unless its enqueue says otherwise (the column's default too). */
export const DEFAULT_MAX_ATTEMPTS = 8

export type EnqueueOptions = { uniqueKey?: string; runAt?: number; maxAttempts?: number }

export type Claimed = { id: number; kind: string; payload: Record<string, unknown>; attempts: number; maxAttempts: number }
/**
 * A claim as its worker holds it: the job and the attempt it is on. Heartbeats and outcomes are
 * guarded by both, so a worker that took its own stale job back (a stall past STALE_MS, then
 * a new claim) cannot finish the new attempt with the old one's outcome.
 */
export type Held = Pick<Claimed, 'id' | 'attempts'>

export type Lease = { name: string; holder: string; expiresAt: number }

export function backoffMs(attempts: number): number {
  // 2 s, 4 s, 8 s … capped at one hour
  return Math.min(2 ** attempts * 1000, 3600_000)
}

/**
 * What a failed attempt writes: back in the queue after the backoff, or failed for good once
 * it was the last attempt (run_at moves either way, as it always has).
 */
export function failure(job: Pick<Claimed, 'attempts' | 'maxAttempts'>, err: unknown, now: number) {
  const message = err instanceof Error ? `${err.name}: ${err.message}` : String(err)
  const isFinal = job.attempts >= job.maxAttempts
  return {
    status: isFinal ? ('failed' as const) : ('queued' as const),
    lastError: message.slice(0, 2000),
    runAt: now + backoffMs(job.attempts),
    finishedAt: isFinal ? now : null,
  }
}

let acquisitions = 0

/**
 * A new holder name for one acquisition by process `processId`. Each acquisition gets its
 * own, so two overlapping calls in one process exclude each other too.
 */
export function leaseHolder(processId: string): string {
  return `${processId}#${++acquisitions}`
}
