import path from 'node:path'
import Database from 'better-sqlite3'
import pg from 'pg'
import { databaseOf } from './server'

// A test's own connection to a running server's database: SQLite's locking makes a second
// process safe, exactly like the blue and green releases during a deploy.
export function openStore(storageDir: string): Database.Database {
  const sqlite = new Database(path.join(storageDir, 'store.sqlite3'))
  sqlite.pragma('busy_timeout = 5000')
  sqlite.pragma('foreign_keys = ON')
  return sqlite
}

/**
 * A running store's rows, whichever engine it runs on: its SQLite file, or the PostgreSQL
 * database tests/support/server.ts gave it. SQL is written once with `?` placeholders and
 * quoted camelCase aliases (`AS "priceCents"`: PostgreSQL folds unquoted names to lower case);
 * PostgreSQL's bigint and numeric values come back as numbers, as SQLite's do. Flags are 0/1
 * integers on both engines (db/pg/schema.ts's `flag`), so compare them with `= 1`.
 */
export type StoreRows = {
  engine: 'sqlite' | 'postgres'
  all<T = Record<string, unknown>>(text: string, ...params: unknown[]): Promise<T[]>
  get<T = Record<string, unknown>>(text: string, ...params: unknown[]): Promise<T | undefined>
  run(text: string, ...params: unknown[]): Promise<number>
  close(): Promise<void>
}

export function storeRows(storageDir: string): StoreRows {
  const url = databaseOf(storageDir)
  if (!url) {
    const sqlite = openStore(storageDir)
    // booleans as SQLite keeps them (0/1) would differ from PostgreSQL's: bind them as 0/1
    const bind = (params: unknown[]) => params.map((p) => (typeof p === 'boolean' ? Number(p) : p))
    return {
      engine: 'sqlite',
      all: async <T>(text: string, ...params: unknown[]) => sqlite.prepare(text).all(...bind(params)) as T[],
      get: async <T>(text: string, ...params: unknown[]) => sqlite.prepare(text).get(...bind(params)) as T | undefined,
      run: async (text, ...params) => sqlite.prepare(text).run(...bind(params)).changes,
      close: async () => void sqlite.close(),
    }
  }
  const numbers = { getTypeParser: (oid: number, format?: string) => (oid === 20 || oid === 1700 ? Number : pg.types.getTypeParser(oid, format as 'text')) }
  const pool = new pg.Pool({ connectionString: url, max: 2, types: numbers as pg.CustomTypesConfig })
  const query = async <T>(text: string, params: unknown[]) => {
    let n = 0
    return pool.query(text.replace(/\?/g, () => `$${++n}`), params) as Promise<pg.QueryResult<T & pg.QueryResultRow>>
  }
  return {
    engine: 'postgres',
    all: async <T>(text: string, ...params: unknown[]) => (await query<T>(text, params)).rows as T[],
    get: async <T>(text: string, ...params: unknown[]) => (await query<T>(text, params)).rows[0] as T | undefined,
    run: async (text, ...params) => (await query(text, params)).rowCount ?? 0,
    close: () => pool.end(),
  }
}
