import path from 'node:path'
import pg from 'pg'
import { openDatabase, setDb } from '@/db'
import { CHANGES_CHANNEL } from '@/db/pg/changes'
import { postgresEngine } from '@/db/pg/steps'
import { usePostgres } from '@/db/tx'
import { databaseOf, tempStorage } from './server'
import { openStore, storeRows, type StoreRows } from './store-file'
import { scratchDatabase, SUITE_POSTGRES } from './suite-database'

// What the tests of a running store (and of the npm scripts an operator runs beside it) need
// on either engine: the store's rows through store-file's storeRows, the variables a script
// needs to reach the same database, and the few rows those tests write. With DATABASE_URL set
// for the run every store is on PostgreSQL (tests/support/suite-database.ts), otherwise SQLite.

/**
 * A database for a store that several servers start on together: its DATABASE_URL when the
 * run is on PostgreSQL, nothing on SQLite, where the folder is the store.
 */
export async function sharedDatabase(): Promise<Record<string, string>> {
  return SUITE_POSTGRES ? { DATABASE_URL: await scratchDatabase() } : {}
}

/**
 * A storage folder for npm scripts run with no server, its rows and the variables that reach
 * them: on PostgreSQL a scratch database of its own (empty until a script migrates it).
 */
export async function scriptStore(prefix: string): Promise<{ storageDir: string; env: Record<string, string>; rows: StoreRows }> {
  const storageDir = tempStorage(prefix)
  if (!SUITE_POSTGRES) return { storageDir, env: { STORAGE_DIR: storageDir }, rows: lazyRows(() => storeRows(storageDir)) }
  const url = await scratchDatabase()
  // bigint and numeric as numbers, as SQLite gives them
  const types = { getTypeParser: (oid: number, format?: string) => ([20, 1700].includes(oid) ? Number : pg.types.getTypeParser(oid, format as 'text')) }
  const pool = new pg.Pool({ connectionString: url, max: 1, types: types as pg.CustomTypesConfig })
  const query = (text: string, params: unknown[]) => {
    let n = 0
    return pool.query(text.replace(/\?/g, () => `$${++n}`), params)
  }
  const rows: StoreRows = {
    engine: 'postgres',
    all: async <T>(text: string, ...params: unknown[]) => (await query(text, params)).rows as T[],
    get: async <T>(text: string, ...params: unknown[]) => (await query(text, params)).rows[0] as T | undefined,
    run: async (text, ...params) => (await query(text, params)).rowCount ?? 0,
    close: () => pool.end(),
  }
  return { storageDir, env: { STORAGE_DIR: storageDir, DATABASE_URL: url }, rows }
}

/** SQLite's file exists only once a script has migrated it: opened at the first query. */
function lazyRows(open: () => StoreRows): StoreRows {
  let rows: StoreRows | undefined
  const the = () => (rows ??= open())
  return {
    engine: 'sqlite',
    all: (text, ...params) => the().all(text, ...params),
    get: (text, ...params) => the().get(text, ...params),
    run: (text, ...params) => the().run(text, ...params),
    close: async () => rows?.close(),
  }
}

export type SomeVariant = { id: number; priceCents: number; productId: number; slug: string }

/** The first active variant in stock, and its product's slug (on either engine). */
export async function someVariant(db: StoreRows): Promise<SomeVariant> {
  const variant = await db.get<SomeVariant>(
    `SELECT v.id, v.price_cents AS "priceCents", v.product_id AS "productId", p.slug FROM variants v JOIN products p ON p.id = v.product_id
     WHERE p.status = 'active' AND v.stock > 0 ORDER BY v.id LIMIT 1`,
  )
  if (!variant) throw new Error('running-store: no active variant in stock')
  return variant
}

/** A cart with these lines, as a shopper's adds leave it; its id (a valid cart cookie). */
export async function makeCart(db: StoreRows, lines: { variantId: number; quantity: number }[]): Promise<string> {
  const id = `t${Math.random().toString(36).slice(2)}${Math.random().toString(36).slice(2)}`.padEnd(43, '0')
  await db.run('INSERT INTO carts (id) VALUES (?)', id)
  for (const line of lines) await db.run('INSERT INTO cart_lines (cart_id, variant_id, quantity) VALUES (?, ?, ?)', id, line.variantId, line.quantity)
  return id
}

/** `SELECT count(*) AS n …` as a number. */
export async function count(db: StoreRows, text: string, ...params: unknown[]): Promise<number> {
  return Number((await db.get<{ n: number }>(text, ...params))!.n)
}

/**
 * Statements committed together by a process other than the store's servers, as the other
 * release of a deploy writes. On PostgreSQL, `announcing` adds what the store's own recording
 * of a catalog change adds (db/pg/changes.ts): a notification, sent on commit, that every app
 * server's change listener waits for; SQLite's servers see any commit by the file's version.
 */
export async function commitElsewhere(storageDir: string, statements: [text: string, ...params: unknown[]][], announcing?: string): Promise<void> {
  const url = databaseOf(storageDir)
  if (!url) {
    const sqlite = openStore(storageDir)
    try {
      sqlite.transaction(() => statements.forEach(([text, ...params]) => sqlite.prepare(text).run(...params))).immediate()
    } finally {
      sqlite.close()
    }
    return
  }
  const client = new pg.Client({ connectionString: url })
  await client.connect()
  try {
    await client.query('BEGIN')
    for (const [text, ...params] of statements) {
      let n = 0
      await client.query(text.replace(/\?/g, () => `$${++n}`), params)
    }
    if (announcing !== undefined) await client.query('SELECT pg_notify($1, $2)', [CHANGES_CHANNEL, announcing])
    await client.query('COMMIT')
  } finally {
    await client.end()
  }
}

/**
 * Points this test process's domain code (db/tx.ts) at the store in `storageDir`, as a second
 * app server on the same database would run it; the function it answers points it away again.
 */
export function runDomainOn(storageDir: string): () => Promise<void> {
  const url = databaseOf(storageDir)
  if (!url) {
    const db = openDatabase(path.join(storageDir, 'store.sqlite3'))
    setDb(db)
    return async () => {
      setDb(undefined)
      db.$client.close()
    }
  }
  const pool = new pg.Pool({ connectionString: url, max: 4 })
  usePostgres(postgresEngine(pool))
  return async () => {
    usePostgres(undefined)
    await pool.end()
  }
}
