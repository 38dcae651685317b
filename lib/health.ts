import 'server-only'
import { sql } from 'drizzle-orm'
import { getDb, write } from '@/db'
import { lockPressure, type LockPressure } from '@/db/guard'
import { schemaVersion } from '@/db/migrate'
import { healthChecks } from '@/db/schema'
import * as backups from './backups'
import { log } from './log'

export type HealthDetails = {
  /** The newest verified backup; null when there is none yet. */
  lastGoodBackup: backups.LastGood
  /** True when that backup is more than two backup intervals old (or missing). */
  isBackupStale: boolean
  /** Write-lock waits over 100 ms and SQLITE_BUSY errors since this process started. */
  locks: LockPressure
}

export type Health =
  | { status: 'ok'; schemaVersion: number; migration: string | null; journalMode: string; pid: number; checkedAt: string; details: HealthDetails | null }
  | { status: 'error'; reason: string; details: HealthDetails | null }

function details(): HealthDetails | null {
  try {
    const lastGoodBackup = backups.lastGood()
    const isBackupStale = !lastGoodBackup || lastGoodBackup.ageSeconds * 1000 > 2 * backups.intervalMs()
    return { lastGoodBackup, isBackupStale, locks: lockPressure() }
  } catch (err) {
    log.warn('health: could not read details', { err })
    return null
  }
}

/**
 * Healthy means: the database opens, every migration this release knows is applied, and a
 * real write commits. Kamal's proxy sends traffic only after this answers 200. A stale
 * backup or lock pressure shows in `details` but never fails the check: taking the shop
 * down would not make a backup happen.
 */
export function check(): Health {
  try {
    const db = getDb()
    const version = schemaVersion(db.$client)
    if (version.pending.length > 0) return { status: 'error', reason: `migrations pending: ${version.pending.join(', ')}`, details: details() }
    const journalMode = String(db.$client.pragma('journal_mode', { simple: true }))
    const now = Date.now()
    write((tx) =>
      tx
        .insert(healthChecks)
        .values({ id: 'up', checkedAt: now, pid: process.pid })
        .onConflictDoUpdate({ target: healthChecks.id, set: { checkedAt: now, pid: process.pid } })
        .run(),
    )
    const row = db.get<{ checked_at: number }>(sql`SELECT checked_at FROM health_checks WHERE id = 'up'`)
    if (!row) return { status: 'error', reason: 'health write did not persist', details: details() }
    return { status: 'ok', schemaVersion: version.schemaVersion, migration: version.latest, journalMode, pid: process.pid, checkedAt: new Date(now).toISOString(), details: details() }
  } catch (err) {
    return { status: 'error', reason: err instanceof Error ? `${err.name}: ${err.message}` : String(err), details: details() }
  }
}
