import 'server-only'
import { sql } from 'drizzle-orm'
import { getDb, write } from '@/db'
import { schemaVersion } from '@/db/migrate'
import { healthChecks } from '@/db/schema'

export type Health =
  | { status: 'ok'; schemaVersion: number; migration: string | null; journalMode: string; pid: number; checkedAt: string }
  | { status: 'error'; reason: string }

/**
 * Healthy means: the database opens, every migration this release knows is applied, and a
 * real write commits. Kamal's proxy sends traffic only after this answers 200.
 */
export function check(): Health {
  try {
    const db = getDb()
    const version = schemaVersion(db.$client)
    if (version.pending.length > 0) return { status: 'error', reason: `migrations pending: ${version.pending.join(', ')}` }
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
    if (!row) return { status: 'error', reason: 'health write did not persist' }
    return { status: 'ok', schemaVersion: version.schemaVersion, migration: version.latest, journalMode, pid: process.pid, checkedAt: new Date(now).toISOString() }
  } catch (err) {
    return { status: 'error', reason: err instanceof Error ? `${err.name}: ${err.message}` : String(err) }
  }
}
