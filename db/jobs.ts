import { sql, type SQL } from 'drizzle-orm'
import { LEGACY_LOCK_TIMEOUT_MS, type Claimed } from './job-rules'
import { sqlAll, type Steps } from './tx'

// The job queue's claim, the one statement of lib/jobs whose text differs by engine
// (docs/decisions/047-generator-transactions.md): both engines' text side by side, the runner
// of db/tx.ts choosing. Each is ONE statement that puts every stale running job back in the
// queue and takes the oldest due job (by run_at, then id), queued or stale, for `workerId`;
// the rows it touched come back, the claimed one `running`, the others `queued`.
// - SQLite: one writer at a time (BEGIN IMMEDIATE), so nothing can take a row between the pick
//   and the update. `next` is materialized once, before any row changes.
// - PostgreSQL: several app servers claim at once. `next` locks its row with FOR UPDATE SKIP
//   LOCKED, so a claimer passes over a row another claimer is taking instead of queueing behind
//   it, and two claimers never get the same job; `reclaimed` locks the other stale rows the same
//   way. Under READ COMMITTED a row that changed since the statement began is re-checked on its
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
  const rows = yield* sqlAll<Touched>({
    sqlite: sql`
      WITH next AS MATERIALIZED (
        SELECT id, status AS was FROM jobs WHERE run_at <= ${now} AND (status = 'queued' OR (${stale(now, staleMs)}))
        ORDER BY run_at, id LIMIT 1)
      UPDATE jobs SET
        status = CASE WHEN id = (SELECT id FROM next) THEN 'running' ELSE 'queued' END,
        locked_at = CASE WHEN id = (SELECT id FROM next) THEN ${now} END,
        heartbeat_at = CASE WHEN id = (SELECT id FROM next) THEN ${now} END,
        locked_by = CASE WHEN id = (SELECT id FROM next) THEN ${workerId} END,
        attempts = CASE WHEN id = (SELECT id FROM next) THEN attempts + 1 ELSE attempts END
      WHERE id = (SELECT id FROM next) OR (${stale(now, staleMs)})
      RETURNING id, kind, payload, status, attempts, max_attempts, (SELECT was FROM next) AS was`,
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
  const reclaimed = rows.length - (row ? 1 : 0) + (row?.was === 'running' ? 1 : 0)
  if (!row) return { job: null, reclaimed }
  return { job: { id: Number(row.id), kind: row.kind, payload: JSON.parse(row.payload) as Record<string, unknown>, attempts: row.attempts, maxAttempts: row.max_attempts }, reclaimed }
}
