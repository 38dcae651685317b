import fs from 'node:fs'
import path from 'node:path'
import Database from 'better-sqlite3'
import { drizzle, type BetterSQLite3Database } from 'drizzle-orm/better-sqlite3'
import * as guard from './guard'
import * as schema from './schema'

export type Db = BetterSQLite3Database<typeof schema> & { $client: Database.Database }
export type Tx = Parameters<Parameters<Db['transaction']>[0]>[0]

export const STORE_FILE = 'store.sqlite3'

/**
 * Opens a store database with the pragmas SQLite needs for a web server:
 * WAL so readers never block the writer, synchronous=FULL so a commit survives power loss
 * (a paid order is worth an fsync), a busy timeout so concurrent writers queue instead of
 * failing, and foreign keys on (they are off by default, per connection).
 */
export function openDatabase(file: string, options: { readonly?: boolean } = {}): Db {
  if (file !== ':memory:') fs.mkdirSync(path.dirname(file), { recursive: true })
  const sqlite = new Database(file, { readonly: options.readonly ?? false })
  if (!options.readonly) sqlite.pragma('journal_mode = WAL')
  sqlite.pragma('synchronous = FULL')
  sqlite.pragma('busy_timeout = 5000')
  sqlite.pragma('foreign_keys = ON')
  if (!options.readonly && file !== ':memory:') guard.recordOpened(sqlite, file)
  const db = drizzle(withStatementCache(sqlite), { schema }) as Db
  // Code that prepares its own statements (and may set pluck or raw on them) gets the
  // connection itself, never a statement shared with drizzle.
  db.$client = sqlite
  return db
}

// Enough for every distinct query the app issues; past it the least recently used goes.
const STATEMENT_CACHE_SIZE = 500

/**
 * The connection as drizzle sees it: the same database, but a query it has prepared before
 * gets that statement back instead of being parsed and planned again (drizzle prepares every
 * query it runs; under webhook load that alone was 7% of the CPU). drizzle turns a
 * statement's raw mode on for some reads and never off, so it is reset on the way out; a
 * statement still stepping through rows (an iterator) is not shared, a new one is made.
 */
function withStatementCache(sqlite: Database.Database): Database.Database {
  const cache = new Map<string, Database.Statement>()
  const prepare = (source: string): Database.Statement => {
    const cached = cache.get(source)
    if (cached && !cached.busy) {
      cache.delete(source)
      cache.set(source, cached)
      if (cached.reader) cached.raw(false)
      return cached
    }
    const statement = sqlite.prepare(source)
    if (!cached) {
      cache.set(source, statement)
      if (cache.size > STATEMENT_CACHE_SIZE) cache.delete(cache.keys().next().value!)
    }
    return statement
  }
  // Everything else (transactions, pragmas, close) is the connection's own.
  return Object.create(sqlite, { prepare: { value: prepare } }) as Database.Database
}

// One connection per process. Next may evaluate this module more than once (route bundles,
// dev reloads), so the connection and the folder it lives in are kept on globalThis.
// The data layer depends on nothing above it: boot tells it where the storage folder is.
const globalForDb = globalThis as unknown as { tillDb?: Db; tillStorageDir?: string; tillDbClosed?: boolean; tillSqliteRefused?: string }

/** Where the store's database lives; called once at boot, before the first getDb(). */
export function configure(storageDir: string): void {
  globalForDb.tillStorageDir = storageDir
}

/**
 * The store runs on PostgreSQL (DATABASE_URL): this process has no SQLite store, and getDb()
 * throws `reason` instead of opening one in the storage folder. Code not yet on db/tx.ts then
 * fails where it runs, saying so, rather than write orders into a file nobody reads.
 */
export function refuseSqlite(reason: string | undefined): void {
  globalForDb.tillSqliteRefused = reason
}

export function getDb(): Db {
  if (!globalForDb.tillDb) {
    if (globalForDb.tillSqliteRefused) throw new Error(`db: ${globalForDb.tillSqliteRefused}`)
    if (globalForDb.tillDbClosed) throw new Error('db: the database was closed (the process is shutting down)')
    const dir = globalForDb.tillStorageDir
    if (!dir) throw new Error('db: no storage folder configured (boot calls configure(storageDir) first)')
    globalForDb.tillDb = openDatabase(path.join(/*turbopackIgnore: true*/ dir, STORE_FILE))
  }
  return globalForDb.tillDb
}

/**
 * Closes this process's connection for good (graceful shutdown); later getDb() calls throw
 * instead of quietly opening it again. When the last connection to the file closes, SQLite
 * checkpoints the WAL into the database and removes the -wal file.
 */
export function closeDb(): void {
  const db = globalForDb.tillDb
  globalForDb.tillDb = undefined
  globalForDb.tillDbClosed = true
  db?.$client.close()
}

/** Tests and scripts point the process at another database. */
export function setDb(db: Db | undefined): void {
  globalForDb.tillDb = db
}

/**
 * The one way to write: a synchronous BEGIN IMMEDIATE transaction. IMMEDIATE takes the write
 * lock up front, so two writers queue on busy_timeout instead of one failing with
 * SQLITE_BUSY when it upgrades a read lock. The body must be synchronous: better-sqlite3
 * would commit at the first await, so a promise returned from the body is refused.
 */
export function write<T>(fn: (tx: Tx) => T): T {
  const outer = pending
  const callbacks = new Map<string, () => void>()
  pending = callbacks
  const db = getDb()
  const started = performance.now()
  let result: T
  try {
    result = db.transaction((tx) => {
      // The body starts once BEGIN IMMEDIATE holds the lock: the time until now was the wait.
      guard.noteLockWait(performance.now() - started)
      const value = fn(tx)
      if (value instanceof Promise) {
        throw new Error('db.write: transaction bodies must be synchronous (no await inside a transaction)')
      }
      // Last thing before COMMIT: a write into a deleted or replaced file must not count.
      guard.assertFilesUnchanged(db.$client)
      return value
    }, { behavior: 'immediate' })
  } catch (err) {
    if (guard.isBusyError(err)) guard.noteBusy(err, performance.now() - started)
    throw err
  } finally {
    pending = outer
  }
  if (outer) {
    // A nested write is part of the outer transaction: its effects announce when that commits.
    for (const [key, callback] of callbacks) if (!outer.has(key)) outer.set(key, callback)
  } else {
    runCommitted(callbacks)
  }
  return result
}

/**
 * Runs the callbacks a transaction registered, once it has committed: write()'s own, and
 * PostgreSQL's runner's (db/pg/steps.ts), whose transactions are not write()'s.
 */
export function runCommitted(callbacks: ReadonlyMap<string, () => void>): void {
  for (const [key, callback] of callbacks) runCallback(key, callback)
}

/**
 * write() for a caller that can wait for its commit: the bodies handed in during one turn of
 * the event loop run in one BEGIN IMMEDIATE transaction, each in its own SAVEPOINT, and
 * share its COMMIT, so under load many effects pay for one fsync (synchronous=FULL) instead
 * of one each (docs/decisions/046-webhook-group-commit.md). A body that throws is rolled back
 * to its savepoint and its promise rejects; the others are not touched. Every promise
 * settles only after the shared COMMIT has returned, so a caller that answers on resolve
 * (the webhook's 200) never acknowledges an effect that is not durable; a crash before that
 * COMMIT loses the whole group, none of which was acknowledged. Bodies must be synchronous,
 * as in write(); a body also gets no answer before the others of its group have run.
 */
export function writeGrouped<T>(fn: (tx: Tx) => T): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    queued.push({ fn, resolve: resolve as (value: unknown) => void, reject })
    if (queued.length === 1) setImmediate(commitGroup)
  })
}

type Member = { fn: (tx: Tx) => unknown; resolve: (value: unknown) => void; reject: (err: unknown) => void }
let queued: Member[] = []
// A bound on one transaction's length: the write lock is held while it runs, and the other
// release's writers wait for it (busy_timeout).
const MAX_GROUP = 64

/** SQLite rolled the whole transaction back (an I/O error, a full disk): no member's effect survives. */
class GroupRolledBack extends Error {}

function commitGroup(): void {
  const members = queued.slice(0, MAX_GROUP)
  queued = queued.slice(MAX_GROUP)
  if (queued.length > 0) setImmediate(commitGroup)
  const outcomes: ({ ok: true; value: unknown } | { ok: false; err: unknown })[] = []
  try {
    write(() => {
      for (const member of members) {
        try {
          // A nested write(): a SAVEPOINT, its after-commit callbacks kept only if it succeeds.
          outcomes.push({ ok: true, value: write(member.fn) })
        } catch (err) {
          // Some errors make SQLite abandon the transaction itself; what ran before is gone
          // too, and what runs after would commit statement by statement.
          if (!getDb().$client.inTransaction) throw new GroupRolledBack('db.writeGrouped: the transaction was rolled back', { cause: err })
          outcomes.push({ ok: false, err })
        }
      }
    })
  } catch (err) {
    const cause = err instanceof GroupRolledBack ? err.cause : err
    for (const member of members) member.reject(cause)
    return
  }
  members.forEach((member, i) => {
    const outcome = outcomes[i]!
    if (outcome.ok) member.resolve(outcome.value)
    else member.reject(outcome.err)
  })
}

// Callbacks registered by the write transaction now running. Bodies are synchronous, so at
// most one transaction is open per process at a time and a module variable is enough.
let pending: Map<string, () => void> | null = null

/**
 * Runs `callback` once the current write transaction commits, and never if it rolls back;
 * one callback per key per transaction. This is how an effect (stock moved, say) announces
 * itself without every caller having to remember to.
 */
export function afterCommit(key: string, callback: () => void): void {
  if (!pending) throw new Error('db.afterCommit: called outside a write transaction')
  if (!pending.has(key)) pending.set(key, callback)
}

function runCallback(key: string, callback: () => void) {
  try {
    callback()
  } catch (err) {
    // The transaction has committed; a failing listener must not turn that into an error. It
    // is logged through the app's logger (LOG_LEVEL, one line), not dumped with its stack.
    guard.reportError('db: after-commit callback failed', { key, err })
  }
}

