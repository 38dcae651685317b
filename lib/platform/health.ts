import 'server-only'
import crypto from 'node:crypto'
import { eq } from 'drizzle-orm'
import { getDb } from '@/db'
import { lockPressure, type LockPressure } from '@/db/guard'
import { readingSchemaVersion } from '@/db/schema-version'
import { get, read, run, transaction } from '@/db/tx'
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

type Engine = 'sqlite' | 'postgres'

/**
 * `journalMode` and `details` (backups into STORAGE_DIR, SQLite's lock statistics) are
 * SQLite's: on PostgreSQL they are absent and null (its backups are its own, decision 045).
 */
export type Health =
  | { status: 'ok'; engine: Engine; schemaVersion: number; migration: string | null; journalMode?: string; pid: number; checkedAt: string; details: HealthDetails | null }
  | { status: 'error'; engine: Engine; reason: string; details: HealthDetails | null }

const engine = (): Engine => (getEnv().databaseUrl ? 'postgres' : 'sqlite')

function details(): HealthDetails | null {
  if (engine() === 'postgres') return null
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
 * real write commits and reads back, on either engine (through db/tx.ts). Kamal's proxy sends
 * traffic only after this answers 200. A stale backup or lock pressure shows in `details`
 * but never fails the check: taking the shop down would not make a backup happen.
 */
export async function check(): Promise<Health> {
  const on = engine()
  try {
    const version = await read(function* () {
      return yield* readingSchemaVersion()
    })
    if (version.pending.length > 0) return { status: 'error', engine: on, reason: `migrations pending: ${version.pending.join(', ')}`, details: details() }
    const now = Date.now()
    await transaction(function* (tx, t) {
      yield* run(
        tx
          .insert(t.healthChecks)
          .values({ id: 'up', checkedAt: now, pid: process.pid })
          .onConflictDoUpdate({ target: t.healthChecks.id, set: { checkedAt: now, pid: process.pid } }),
      )
    })
    const row = await read(function* (db, t) {
      return yield* get(db.select({ checkedAt: t.healthChecks.checkedAt }).from(t.healthChecks).where(eq(t.healthChecks.id, 'up')).limit(1))
    })
    if (!row) return { status: 'error', engine: on, reason: 'health write did not persist', details: details() }
    const journalMode = on === 'sqlite' ? { journalMode: String(getDb().$client.pragma('journal_mode', { simple: true })) } : {}
    return { status: 'ok', engine: on, schemaVersion: version.schemaVersion, migration: version.latest, ...journalMode, pid: process.pid, checkedAt: new Date(now).toISOString(), details: details() }
  } catch (err) {
    return { status: 'error', engine: on, reason: reasonOf(err), details: details() }
  }
}

/**
 * The driver's own words: drizzle wraps a failed query around them ("Failed query: <the SQL>")
 * with the driver's error as `cause`. A PostgreSQL refusal is said with its SQLSTATE.
 */
function reasonOf(err: unknown): string {
  let e = err
  while (e instanceof Error && e.message.startsWith('Failed query:') && e.cause instanceof Error) e = e.cause
  if (!(e instanceof Error)) return String(e)
  const code = (e as { code?: unknown }).code
  if (typeof code === 'string' && /^[0-9A-Z]{5}$/.test(code)) return `PostgreSQL refused the health check (SQLSTATE ${code}): ${e.message}`
  return `${e.name}: ${e.message}`
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
/**
 * How long a check may take before it counts as failed: SQLite's busy_timeout, the longest a
 * healthy store makes a write wait. On PostgreSQL a pool waits for a primary through a
 * failover (PrimaryPool, 30 s), far longer than a load balancer waits for /up; on SQLite the
 * write blocks the process for at most busy_timeout and ends before this can fire.
 */
const CHECK_TIMEOUT_MS = 5000

type Latest = { result: Health; at: number }
const globalForHealth = globalThis as unknown as {
  tillHealth?: { latest: Latest | null; timer?: NodeJS.Timeout; pending?: Promise<Health>; isChecking?: boolean }
}
const state = (globalForHealth.tillHealth ??= { latest: null })

/**
 * Checks now and keeps the result. One check runs at a time: callers meanwhile share its
 * answer, and a check still hanging past its timeout (a database that does not answer) is
 * not joined by another, it is reported.
 */
function refresh(): Promise<Health> {
  if (state.pending) return state.pending
  const keep = (result: Health) => {
    state.latest = { result, at: Date.now() }
    return result
  }
  if (state.isChecking) return Promise.resolve(keep(unanswered()))
  state.isChecking = true
  const checked = check().finally(() => (state.isChecking = false))
  let timer: NodeJS.Timeout | undefined
  const timedOut = new Promise<Health>((resolve) => {
    timer = setTimeout(() => resolve(unanswered()), CHECK_TIMEOUT_MS)
  })
  state.pending = Promise.race([checked, timedOut])
    .then(keep)
    .finally(() => {
      clearTimeout(timer)
      state.pending = undefined
    })
  return state.pending
}

function unanswered(): Health {
  const on = engine()
  const hosts = getEnv().databaseUrl?.hosts.map((h) => `${h.host}:${h.port}`).join(', ')
  const reason =
    on === 'postgres'
      ? `the database did not answer within ${CHECK_TIMEOUT_MS} ms: no writable PostgreSQL at ${hosts} (unreachable, starting, or read-only)`
      : `the database did not answer within ${CHECK_TIMEOUT_MS} ms`
  return { status: 'error', engine: on, reason, details: details() }
}

/** Checks now and then once a second until stop; the timer never keeps the process alive. */
export async function startChecking(): Promise<void> {
  if (state.timer) return
  state.timer = setInterval(() => void refresh(), CHECK_INTERVAL_MS)
  state.timer.unref()
  await refresh()
}

export function stopChecking(): void {
  clearInterval(state.timer)
  state.timer = undefined
}

/** The latest result of the self-check, checking first when there is none recent enough. */
function latest(now = Date.now()): Promise<Health> {
  const last = state.latest
  if (last && now - last.at < (state.timer ? MAX_AGE_MS : CHECK_INTERVAL_MS)) return Promise.resolve(last.result)
  return refresh()
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
export async function forRequest(h: HeaderSource, now = Date.now()): Promise<{ status: number; body: Health | { status: Health['status'] } }> {
  const result = await latest(now)
  return { status: result.status === 'ok' ? 200 : 503, body: mayShowDetails(h) ? result : { status: result.status } }
}
