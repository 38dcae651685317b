import { sql, type SQL } from 'drizzle-orm'
import { LEGACY_LOCK_TIMEOUT_MS, type Claimed } from './job-rules'
import { sqlAll, sqlRun, type Steps } from './tx'

// The job queue's claim, the one step of lib/jobs whose text differs by engine
// (docs/decisions/047-generator-transactions.md): both engines' text side by side, the runner
// of db/tx.ts choosing. It puts every stale running job back in the queue and takes the oldest
// due job (by run_at, then id) for `workerId`.
// - SQLite: one writer at a time (BEGIN IMMEDIATE), so nothing can take a row between the two
//   statements, or between the pick and the update.
// - PostgreSQL: several app servers claim at once, and one statement does both. `next` locks
//   its row with FOR UPDATE SKIP LOCKED, so a claimer passes over a row another claimer is
//   taking instead of queueing behind it, and two claimers never get the same job; `reclaimed`
//   locks the other stale rows the same way. Under READ COMMITTED a row that changed since the statement began is re-checked on its
//   newest version before it is locked, so a job claimed a moment ago is no longer due (or
//   stale) and is passed over.

/**
 * A running job is stale once its heartbeat is older than `staleMs`, or, for a row claimed by a
 * release that predates heartbeats, once its lock is older than the legacy timeout.
 */
const stale = (now: number, staleMs: number): SQL =>
  sql`status = 'running' AND ((heartbeat_at IS NOT NULL AND heartbeat_at < ${now - staleMs}) OR (heartbeat_at IS NULL AND locked_at < ${now - LEGACY_LOCK_TIMEOUT_MS}))`

// payload as text on both (PostgreSQL's json column would arrive parsed); ids and times are
// bigint on PostgreSQL, text through raw SQL
type Touched = { id: number | string; kind: string; payload: string; status: 'running' | 'queued'; attempts: number; max_attempts: number; was: string | null }

/**
 * Claims the next due job for `workerId` (null when none is due) and takes back the stale ones;
 * `reclaimed` counts the stale jobs, the claimed one included when it was stale.
 */
export function* claimNext(workerId: string, now: number, staleMs: number): Steps<{ job: Claimed | null; reclaimed: number }> {
  // SQLite: the stale jobs go back to the queue first, then the oldest due one is taken. The
  // statements SQLite had before both engines did: two short statements compile and run faster
  // on SQLite than PostgreSQL's one folded into a single UPDATE.
  const back = yield* sqlRun({
    sqlite: sql`UPDATE jobs SET status = 'queued', locked_at = NULL, locked_by = NULL, heartbeat_at = NULL WHERE ${stale(now, staleMs)}`,
    postgres: null,
  })
  const rows = yield* sqlAll<Touched>({
    sqlite: sql`
      UPDATE jobs SET status = 'running', locked_at = ${now}, heartbeat_at = ${now}, locked_by = ${workerId}, attempts = attempts + 1
      WHERE id = (SELECT id FROM jobs WHERE status = 'queued' AND run_at <= ${now} ORDER BY run_at, id LIMIT 1)
      RETURNING id, kind, payload, status, attempts, max_attempts, NULL AS was`,
    // `next` is the oldest due job, queued or stale; `claimed` takes it; `reclaimed` puts the
    // other stale jobs back, as SQLite does, so they read `queued` and their old worker's
    // heartbeat fails.
    postgres: sql`
      WITH next AS MATERIALIZED (
        SELECT id, status AS was FROM jobs WHERE run_at <= ${now} AND (status = 'queued' OR (${stale(now, staleMs)}))
        ORDER BY run_at, id LIMIT 1 FOR UPDATE SKIP LOCKED
      ), claimed AS (
        UPDATE jobs SET status = 'running', locked_at = ${now}, heartbeat_at = ${now}, locked_by = ${workerId}, attempts = attempts + 1
        FROM next WHERE jobs.id = next.id
        RETURNING jobs.id, jobs.kind, jobs.payload::text AS payload, jobs.status, jobs.attempts, jobs.max_attempts, next.was
      ), reclaimed AS (
        UPDATE jobs SET status = 'queued', locked_at = NULL, locked_by = NULL, heartbeat_at = NULL
        WHERE id IN (SELECT id FROM jobs WHERE ${stale(now, staleMs)} AND id NOT IN (SELECT id FROM next) FOR UPDATE SKIP LOCKED)
        RETURNING jobs.id, jobs.kind, jobs.payload::text AS payload, jobs.status, jobs.attempts, jobs.max_attempts, NULL::text AS was
      )
      SELECT * FROM claimed UNION ALL SELECT * FROM reclaimed`,
  })
  const row = rows.find((r) => r.status === 'running')
  const reclaimed = back.changes + rows.filter((r) => r.status === 'queued').length + (row?.was === 'running' ? 1 : 0)
  if (!row) return { job: null, reclaimed }
  return { job: { id: Number(row.id), kind: row.kind, payload: JSON.parse(row.payload) as Record<string, unknown>, attempts: row.attempts, maxAttempts: row.max_attempts }, reclaimed }
}
