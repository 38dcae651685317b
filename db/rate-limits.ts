import { sql } from 'drizzle-orm'
import { sqlRun, type Steps } from './tx'

/**
 * Deletes up to `batch` rate-limit windows that ended by `now`, as a step of the caller's
 * transaction. On PostgreSQL the rows another transaction holds are skipped (SKIP LOCKED):
 * that one is counting a hit in them, and a prune that waited for it could deadlock with it.
 * SQLite has one writer at a time and no row locks (or FOR UPDATE) to skip.
 */
export function* pruneRateLimits(now: number, batch: number): Steps<{ changes: number }> {
  return yield* sqlRun({
    sqlite: sql`DELETE FROM rate_limits WHERE key IN (SELECT key FROM rate_limits WHERE expires_at <= ${now} LIMIT ${batch})`,
    postgres: sql`DELETE FROM rate_limits WHERE key IN (SELECT key FROM rate_limits WHERE expires_at <= ${now} LIMIT ${batch} FOR UPDATE SKIP LOCKED)`,
  })
}
