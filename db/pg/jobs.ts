import type pg from 'pg'
import { DEFAULT_MAX_ATTEMPTS, failure, leaseHolder, LEGACY_LOCK_TIMEOUT_MS, STALE_MS, type Claimed, type EnqueueOptions, type Held, type Lease } from '../job-rules'
import { transaction, type Connects } from './transaction'

// The job queue and the leases on PostgreSQL, with the semantics of lib/jobs on SQLite: the
// same columns, states, staleness rule, backoff and holder guards (the engine-free rules are
// db/job-rules.ts). What SQLite's single writer gave for free is in the statements here,
// because several app servers claim at once:
// - a claim is ONE statement: the oldest due job is picked with FOR UPDATE SKIP LOCKED, so a
//   claimer passes over a row another claimer is taking instead of queueing behind it, and
//   two claimers never get the same job;
// - a unique key is an `INSERT … ON CONFLICT DO NOTHING`, which waits for a concurrent insert
//   of the same key to commit or roll back; a read-then-insert would let both through;
// - heartbeat, complete and fail are conditional updates on `locked_by`, as on SQLite, so a
//   worker whose job was taken back cannot touch the new holder's claim;
// - a lease is a conditional upsert: the conflicting row is locked and its expiry re-checked
//   on its newest version, so of several acquirers exactly one wins.
// `workerId` is the app server's process id (lib/jobs/lease.ts `processId` on SQLite).

// bigint arrives from node-postgres as a string; ids and times are far below 2^53.
type JobRow = { id: string; kind: string; payload: Record<string, unknown>; attempts: number; max_attempts: number }

/**
 * Queues a job inside the caller's transaction (`client` is the transaction's own); false when
 * one with the same unique key exists already, or is being inserted by a transaction that
 * then commits (nothing was queued).
 */
export async function enqueue(client: pg.ClientBase, kind: string, payload: Record<string, unknown> = {}, options: EnqueueOptions = {}): Promise<boolean> {
  const { rowCount } = await client.query(
    `INSERT INTO jobs (kind, payload, unique_key, run_at, max_attempts) VALUES ($1, $2, $3, $4, $5)
     ON CONFLICT (unique_key) DO NOTHING`,
    [kind, JSON.stringify(payload), options.uniqueKey ?? null, options.runAt ?? Date.now(), options.maxAttempts ?? DEFAULT_MAX_ATTEMPTS],
  )
  return rowCount === 1
}

/**
 * Settles a queued job without running it, in the caller's transaction (lib/jobs skipQueued).
 * A job already running or done is left alone.
 */
export async function skipQueued(client: pg.ClientBase, uniqueKey: string, why: string, now = Date.now()): Promise<void> {
  await client.query(`UPDATE jobs SET status = 'done', finished_at = $1, last_error = $2 WHERE unique_key = $3 AND status = 'queued'`, [now, `skipped: ${why}`, uniqueKey])
}

// A running job is stale once its heartbeat is older than staleMs, or, for a row claimed by a
// release that predates heartbeats, once its lock is older than the legacy timeout.
const STALE = `status = 'running' AND ((heartbeat_at IS NOT NULL AND heartbeat_at < $3) OR (heartbeat_at IS NULL AND locked_at < $4))`

/**
 * Claims the next due job for `workerId`, or null. SQLite's claim first puts every stale
 * running job back in the queue, then takes the oldest due one (by run_at, then id); this
 * statement does both at once. `next` is that oldest due job, queued or stale; `claimed`
 * takes it; `reclaimed` puts the other stale jobs back, as SQLite does, so they read
 * `queued` and their old worker's heartbeat fails. Both lock with SKIP LOCKED: rows another
 * claimer holds are passed over, never waited for. Under READ COMMITTED a row that changed
 * since the statement began is re-checked on its newest version before it is locked, so a job
 * claimed a moment ago is no longer due (or stale) and is skipped.
 */
export async function claim(pool: Connects, workerId: string, now = Date.now(), staleMs = STALE_MS): Promise<Claimed | null> {
  const { rows } = await transaction(pool, (client) =>
    client.query<JobRow>(
      `WITH next AS MATERIALIZED (
         SELECT id FROM jobs WHERE run_at <= $1 AND (status = 'queued' OR (${STALE}))
         ORDER BY run_at, id LIMIT 1 FOR UPDATE SKIP LOCKED
       ), claimed AS (
         UPDATE jobs SET status = 'running', locked_at = $1, heartbeat_at = $1, locked_by = $2, attempts = attempts + 1
         FROM next WHERE jobs.id = next.id
         RETURNING jobs.id, jobs.kind, jobs.payload, jobs.attempts, jobs.max_attempts
       ), reclaimed AS (
         UPDATE jobs SET status = 'queued', locked_at = NULL, locked_by = NULL, heartbeat_at = NULL
         WHERE id IN (SELECT id FROM jobs WHERE ${STALE} AND id NOT IN (SELECT id FROM next) FOR UPDATE SKIP LOCKED)
       )
       SELECT * FROM claimed`,
      [now, workerId, now - staleMs, now - LEGACY_LOCK_TIMEOUT_MS],
    ),
  )
  const row = rows[0]
  if (!row) return null
  return { id: Number(row.id), kind: row.kind, payload: row.payload, attempts: row.attempts, maxAttempts: row.max_attempts }
}

/** One conditional update in its own transaction; true when it changed a row. */
async function changed(pool: Connects, text: string, values: unknown[]): Promise<boolean> {
  const { rowCount } = await transaction(pool, (client) => client.query(text, values))
  return (rowCount ?? 0) > 0
}

/**
 * Proves `workerId` is still working on job `id`. False when the job is no longer its own (it
 * was taken back). locked_at moves too, so the legacy rule never takes a live job either.
 */
export function heartbeat(pool: Connects, workerId: string, job: Held, now = Date.now()): Promise<boolean> {
  return changed(pool, `UPDATE jobs SET heartbeat_at = $1, locked_at = $1 WHERE id = $2 AND ${held(3)}`, [now, job.id, workerId, job.attempts])
}

// Finishing touches only the attempt `workerId` still holds: if the job was taken back
// meanwhile (by another worker, or by this one after a stall), the new attempt's outcome
// stands. The guard is lib/jobs' own: the worker and the attempt, parameters `at` and `at + 1`.
const RELEASE = `locked_at = NULL, locked_by = NULL, heartbeat_at = NULL`
const held = (at: number) => `status = 'running' AND locked_by = $${at} AND attempts = $${at + 1}`

export function complete(pool: Connects, workerId: string, job: Held, now = Date.now()): Promise<boolean> {
  return changed(pool, `UPDATE jobs SET status = 'done', finished_at = $1, ${RELEASE} WHERE id = $2 AND ${held(3)}`, [now, job.id, workerId, job.attempts])
}

/** Records a failed attempt: queued again after the backoff, or failed after the last attempt. */
export function fail(pool: Connects, workerId: string, job: Claimed, err: unknown, now = Date.now()): Promise<boolean> {
  const f = failure(job, err, now)
  return changed(pool, `UPDATE jobs SET status = $1, last_error = $2, run_at = $3, finished_at = $4, ${RELEASE} WHERE id = $5 AND ${held(6)}`, [
    f.status,
    f.lastError,
    f.runAt,
    f.finishedAt,
    job.id,
    workerId,
    job.attempts,
  ])
}

/**
 * Takes the lease `name` for `ttlMs` for process `processId` when it is free or expired; null
 * while someone else holds it. Of several servers asking at once exactly one gets it: the
 * upsert waits for a concurrent insert of the name, then re-checks the expiry on the row that
 * committed.
 */
export async function tryAcquire(pool: Connects, processId: string, name: string, ttlMs: number, now = Date.now()): Promise<Lease | null> {
  const holder = leaseHolder(processId)
  const { rows } = await transaction(pool, (client) =>
    client.query<{ holder: string; expires_at: string }>(
      `INSERT INTO leases (name, holder, acquired_at, expires_at) VALUES ($1, $2, $3, $4)
       ON CONFLICT (name) DO UPDATE SET holder = excluded.holder, acquired_at = excluded.acquired_at, expires_at = excluded.expires_at
         WHERE leases.expires_at <= excluded.acquired_at
       RETURNING holder, expires_at`,
      [name, holder, now, now + ttlMs],
    ),
  )
  const row = rows[0]
  return row?.holder === holder ? { name, holder, expiresAt: Number(row.expires_at) } : null
}

/**
 * Extends a held lease by `ttlMs` from now. False when it was taken over; a lease that
 * expired but was not taken is renewed (nobody else has started the work).
 */
export async function renew(pool: Connects, lease: Lease, ttlMs: number, now = Date.now()): Promise<boolean> {
  const { rows } = await transaction(pool, (client) =>
    client.query<{ expires_at: string }>(`UPDATE leases SET expires_at = $1 WHERE name = $2 AND holder = $3 RETURNING expires_at`, [now + ttlMs, lease.name, lease.holder]),
  )
  const row = rows[0]
  if (!row) return false
  lease.expiresAt = Number(row.expires_at)
  return true
}

/** Gives the lease up so the next taker need not wait for it to expire. */
export async function release(pool: Connects, lease: Lease): Promise<void> {
  await transaction(pool, (client) => client.query(`DELETE FROM leases WHERE name = $1 AND holder = $2`, [lease.name, lease.holder]))
}

/** Who holds `name` and until when (expired rows included), for operators and tests. */
export async function holderOf(pool: Connects, name: string): Promise<{ holder: string; expiresAt: number } | undefined> {
  const { rows } = await transaction(pool, (client) => client.query<{ holder: string; expires_at: string }>(`SELECT holder, expires_at FROM leases WHERE name = $1`, [name]))
  const row = rows[0]
  return row && { holder: row.holder, expiresAt: Number(row.expires_at) }
}
