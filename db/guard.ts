import fs from 'node:fs'
import type Database from 'better-sqlite3'

// Guards around the one connection a process holds on the store database.
//
// SQLite keeps writing through the file descriptors it opened. If someone deletes or
// replaces store.sqlite3 or its -wal under a live process (a careless `rm`, a restore by
// file copy, a volume re-mounted), that process goes on committing into a file nobody else
// can see: every "committed" order is gone when it exits, and a process that opens the new
// file meanwhile works from a different -shm, which corrupts the database. So the write
// path compares the identity (device + inode) of the paths with what was opened, right
// before each commit, and refuses for good once they differ.
//
// It also counts lock pressure: writers that waited more than SLOW_WAIT_MS for the write
// lock, and SQLITE_BUSY errors that escaped busy_timeout (a writer that gave up).

const SLOW_WAIT_MS = 100

type Identity = { dev: number; ino: number }
type Opened = { file: string; db: Identity; wal: Identity | null; lostReason: string | null }

// On globalThis: Next may evaluate this module more than once, and every copy must see the
// identity recorded by whichever copy opened the connection.
const state = globalThis as unknown as {
  tillOpenedFiles?: WeakMap<Database.Database, Opened>
  tillLockPressure?: LockPressure
}
const opened = (state.tillOpenedFiles ??= new WeakMap())

// The data layer has no logger of its own; boot hands it the app's (setLogger). Until then,
// and in scripts that never boot, reports go to stderr.
type Logger = { warn(message: string, context?: Record<string, unknown>): void; error(message: string, context?: Record<string, unknown>): void }
const stderrLogger: Logger = {
  warn: (message, context) => console.warn(`WARN ${message}`, context ?? ''),
  error: (message, context) => console.error(`ERROR ${message}`, context ?? ''),
}
const logs = globalThis as unknown as { tillDbLogger?: Logger }
const log: Logger = {
  warn: (message, context) => (logs.tillDbLogger ?? stderrLogger).warn(message, context),
  error: (message, context) => (logs.tillDbLogger ?? stderrLogger).error(message, context),
}

/** Hands the data layer the app's logger; undefined goes back to stderr. */
export function setLogger(logger: Logger | undefined): void {
  logs.tillDbLogger = logger
}

/** A fault the data layer survives but someone should read (an after-commit listener that threw). */
export function reportError(message: string, context?: Record<string, unknown>): void {
  log.error(message, context)
}

export type LockPressure = { slowWaits: number; busyErrors: number; maxWaitMs: number; lastSlowWaitAt: string | null; lastBusyAt: string | null }

function pressure(): LockPressure {
  return (state.tillLockPressure ??= { slowWaits: 0, busyErrors: 0, maxWaitMs: 0, lastSlowWaitAt: null, lastBusyAt: null })
}

function identity(file: string): Identity | null {
  try {
    const st = fs.statSync(file)
    return { dev: st.dev, ino: st.ino }
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return null
    throw err
  }
}

const same = (a: Identity | null, b: Identity | null) => a !== null && b !== null && a.dev === b.dev && a.ino === b.ino

class DatabaseFileLost extends Error {
  constructor(message: string) {
    super(message)
    this.name = 'DatabaseFileLost'
  }
}

export class StorageRefused extends Error {
  constructor(message: string) {
    super(message)
    this.name = 'StorageRefused'
  }
}

/**
 * Checks a freshly opened connection (WAL mode is required: without it readers block the
 * writer and two releases cannot share the file) and records which files it opened.
 * `file` is the database path the connection was opened on.
 */
export function recordOpened(sqlite: Database.Database, file: string): void {
  const mode = String(sqlite.pragma('journal_mode', { simple: true })).toLowerCase()
  if (mode !== 'wal') {
    throw new StorageRefused(`${file} is in journal_mode=${mode}, not WAL. SQLite cannot switch it (another process may hold it in another mode, or the filesystem lacks shared memory); Till will not run on it.`)
  }
  // A read opens the -wal file, so its identity exists from now on.
  sqlite.prepare('SELECT count(*) FROM sqlite_master').get()
  const db = identity(file)
  if (!db) throw new StorageRefused(`${file} vanished while it was being opened`)
  opened.set(sqlite, { file, db, wal: identity(`${file}-wal`), lostReason: null })
}

/**
 * Throws once the files this connection opened are no longer the ones at their paths.
 * Sticky: a process that has written into a ghost must not carry on as if it had not.
 */
export function assertFilesUnchanged(sqlite: Database.Database): void {
  const entry = opened.get(sqlite)
  if (!entry) return
  if (!entry.lostReason) {
    const db = identity(entry.file)
    const wal = identity(`${entry.file}-wal`)
    if (!same(db, entry.db)) entry.lostReason = db ? `${entry.file} was replaced by another file` : `${entry.file} was deleted`
    else if (entry.wal === null) entry.wal = wal
    else if (!same(wal, entry.wal)) entry.lostReason = wal ? `${entry.file}-wal was replaced by another file` : `${entry.file}-wal was deleted`
    if (entry.lostReason) {
      log.error('db: the database file this process opened is gone; refusing every write until restarted', { reason: entry.lostReason, pid: process.pid })
    }
  }
  if (entry.lostReason) {
    throw new DatabaseFileLost(`${entry.lostReason} while this process had it open; refusing to write into a file nobody else can see. Restart the process (and restore from a backup if data is missing).`)
  }
}

export function noteLockWait(waitedMs: number): void {
  const p = pressure()
  p.maxWaitMs = Math.max(p.maxWaitMs, Math.round(waitedMs))
  if (waitedMs <= SLOW_WAIT_MS) return
  p.slowWaits++
  p.lastSlowWaitAt = new Date().toISOString()
  log.warn('db: slow wait for the write lock', { waitedMs: Math.round(waitedMs), slowWaits: p.slowWaits })
}

export function isBusyError(err: unknown): boolean {
  const code = (err as { code?: unknown } | null)?.code
  return typeof code === 'string' && code.startsWith('SQLITE_BUSY')
}

export function noteBusy(err: unknown, waitedMs: number): void {
  const p = pressure()
  p.busyErrors++
  p.lastBusyAt = new Date().toISOString()
  log.error('db: SQLITE_BUSY escaped busy_timeout; the write was not applied', { waitedMs: Math.round(waitedMs), busyErrors: p.busyErrors, err })
}

/** Lock-pressure counters since this process started. */
export function lockPressure(): LockPressure {
  return { ...pressure() }
}
