import fs from 'node:fs'
import path from 'node:path'
import Database from 'better-sqlite3'
import { drizzle, type BetterSQLite3Database } from 'drizzle-orm/better-sqlite3'
import { getEnv } from '@/lib/env'
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
  return drizzle(sqlite, { schema }) as Db
}

// One connection per process. Next may evaluate this module more than once (route bundles,
// dev reloads), so the connection lives on globalThis.
const globalForDb = globalThis as unknown as { tillDb?: Db }

export function getDb(): Db {
  if (!globalForDb.tillDb) {
    globalForDb.tillDb = openDatabase(path.join(getEnv().storageDir, STORE_FILE))
  }
  return globalForDb.tillDb
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
  const db = getDb()
  const started = performance.now()
  try {
    return db.transaction((tx) => {
      // The body starts once BEGIN IMMEDIATE holds the lock: the time until now was the wait.
      guard.noteLockWait(performance.now() - started)
      const result = fn(tx)
      if (result instanceof Promise) {
        throw new Error('db.write: transaction bodies must be synchronous (no await inside a transaction)')
      }
      // Last thing before COMMIT: a write into a deleted or replaced file must not count.
      guard.assertFilesUnchanged(db.$client)
      return result
    }, { behavior: 'immediate' })
  } catch (err) {
    if (guard.isBusyError(err)) guard.noteBusy(err, performance.now() - started)
    throw err
  }
}

export { schema }
