import 'server-only'
import crypto from 'node:crypto'
import { sql } from 'drizzle-orm'
import { getDb, write } from '@/db'
import { lockPressure, type LockPressure } from '@/db/guard'
import { schemaVersion } from '@/db/migrate'
import { healthChecks } from '@/db/schema'
import * as backups from './backups'
import * as clientAddress from '@/lib/request/client-address'
import { getEnv } from '@/lib/env'
import { log } from '@/lib/log'

type HealthDetails = {
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

// ---------------------------------------------------------------------------------------
// /up answers from memory. Every check is a write transaction; run per request, anyone
// could make hundreds a second compete with checkout and webhook writes. The process checks
// itself once a second (startChecking, at boot) and /up hands out the latest result; a
// result too old to vouch for the process (no timer yet, or the event loop stalled) is
// replaced by a check made there and then, at most once a second whatever the traffic.

/** How often the process checks itself. */
export const CHECK_INTERVAL_MS = 1000
/** A result older than this is not handed out; /up checks again first. */
const MAX_AGE_MS = 3 * CHECK_INTERVAL_MS

type Latest = { result: Health; at: number }
const globalForHealth = globalThis as unknown as { tillHealth?: { latest: Latest | null; timer?: NodeJS.Timeout } }
const state = (globalForHealth.tillHealth ??= { latest: null })

function refresh(now = Date.now()): Health {
  const result = check()
  state.latest = { result, at: now }
  return result
}

/** Checks now and then once a second until stop; the timer never keeps the process alive. */
export function startChecking(): void {
  if (state.timer) return
  refresh()
  state.timer = setInterval(() => refresh(), CHECK_INTERVAL_MS)
  state.timer.unref()
}

export function stopChecking(): void {
  clearInterval(state.timer)
  state.timer = undefined
}

/** The latest result of the self-check, checking first when there is none recent enough. */
function latest(now = Date.now()): Health {
  const last = state.latest
  if (last && now - last.at < (state.timer ? MAX_AGE_MS : CHECK_INTERVAL_MS)) return last.result
  return refresh(now)
}

type HeaderSource = { get(name: string): string | null }

const isLoopback = (address: string | null) => !!address && (address === '::1' || /^127\./.test(address))

/**
 * Whether a request may see the details (process id, schema, backup age, lock statistics,
 * the reason of a failure): it comes from this host itself (the real socket peer, never a
 * header a client writes), or carries HEALTH_TOKEN as `Authorization: Bearer <token>`.
 */
function mayShowDetails(h: HeaderSource): boolean {
  if (isLoopback(clientAddress.peerOf(h))) return true
  const token = getEnv().healthToken
  const given = /^Bearer (.+)$/.exec(h.get('authorization') ?? '')?.[1]
  if (!token || !given) return false
  const a = crypto.createHash('sha256').update(given).digest()
  const b = crypto.createHash('sha256').update(token).digest()
  return crypto.timingSafeEqual(a, b)
}

/** What /up shows: everything to the host itself or a holder of the token, else only the status. */
export function forRequest(h: HeaderSource, now = Date.now()): { status: number; body: Health | { status: Health['status'] } } {
  const result = latest(now)
  return { status: result.status === 'ok' ? 200 : 503, body: mayShowDetails(h) ? result : { status: result.status } }
}
