import type Database from 'better-sqlite3'
import type { SQL } from 'drizzle-orm'
import type pg from 'pg'
import { afterCommit as afterSqliteCommit, getDb, write, writeGrouped, type Db, type Tx } from './index'
import * as schema from './schema'

// The engine-neutral way for the domain to reach the database (docs/decisions/047-generator-
// transactions.md). A body is a generator: it builds a query with drizzle's builder on the
// `tx` and tables it is handed, and `yield*`s it to the runner through get/all/run below. The
// runner of the engine in use executes each query and hands the result back:
// - SQLite: synchronously, inside the one BEGIN IMMEDIATE of write() (decision 001). The body
//   cannot give control to other code between its statements, so it coexists with the
//   synchronous write() that the rest of the domain still uses: nothing can nest into it, and
//   no read on the one connection sees its uncommitted rows. An async body would not: at its
//   first await another request's write() would become a SAVEPOINT of it and commit or roll
//   back with it (tests/unit/db-tx.test.ts shows it).
// - PostgreSQL (db/pg/steps.ts, chosen with usePostgres): each query awaited on the
//   transaction's client, inside db/pg/transaction.ts, which runs the body again from the start
//   after a serialization failure or a deadlock.
// A body awaits nothing but its queries by construction: a generator cannot await.
//
// The body is typed against SQLite's builders and tables (db/schema.ts), the store's first
// engine; on PostgreSQL the runner hands it PostgreSQL's builder and the same-named tables of
// db/pg/schema.ts (tests/unit/schema-parity.test.ts keeps the two alike). So a body must run
// its queries only through get/all/run, never with the builder's own .get()/.all()/.run(),
// which exist on SQLite alone: lint refuses them inside a body (eslint.config.mjs), and
// the converted nouns' tests run on both engines (tests/support/engines.ts).

/** The tables of the store, under the names of db/schema.ts, for the engine in use. */
export type Tables = typeof schema

/** What a body may build queries with: the builders both engines have, nothing that runs SQL text. */
export type Writer = Pick<Tx, 'select' | 'selectDistinct' | 'insert' | 'update' | 'delete' | 'with' | '$with'>
export type Reader = Pick<Db, 'select' | 'selectDistinct' | 'with' | '$with'>

/** One thing a body asks of the runner. */
export type Step =
  | { readonly kind: 'get' | 'all' | 'run'; readonly query: unknown }
  | { readonly kind: 'serialize'; readonly key: string }
  | { readonly kind: 'afterCommit'; readonly key: string; readonly callback: () => void }
  | { readonly kind: 'sql'; readonly mode: 'get' | 'all' | 'run'; readonly text: SqlText }
  | { readonly kind: 'prepared'; readonly mode: 'get' | 'all' | 'run'; readonly statement: Statement<never, unknown>; readonly params: unknown }
  | { readonly kind: 'native'; readonly native: Native<unknown> }

/**
 * One step done each engine's own way on the transaction's connection, for what db/ already
 * has per engine and a `sql` step would do worse: SQLite's statement prepared once per
 * connection (a hot path's), PostgreSQL's function taking the transaction's client (db/pg/).
 * Written in db/ only; the domain yields the db/ generator that wraps it.
 */
export type Native<R> = { readonly sqlite: (client: Database.Database) => R; readonly postgres: (client: pg.ClientBase) => Promise<R> }

/**
 * SQL text for a raw query: one `sql` fragment both engines accept as written, or each engine's
 * own text where they differ (json_each and json_array_elements, group_concat and string_agg,
 * FTS5's MATCH and tsquery). drizzle renders the parameters each engine's way either way. An
 * engine's text is null when that engine has nothing to run for the step, because its text for
 * a neighbouring step does this one's work too (PostgreSQL's claim of a job puts stale jobs back
 * in the same statement, db/jobs.ts): the step then answers no rows, or `{ changes: 0 }`.
 */
export type SqlText = SQL | { readonly sqlite: SQL | null; readonly postgres: SQL | null }

export type Steps<T> = Generator<Step, T, unknown>

export type WriteBody<T> = (tx: Writer, t: Tables) => Steps<T>
export type ReadBody<T> = (db: Reader, t: Tables) => Steps<T>

/** PostgreSQL's runner (db/pg/steps.ts); SQLite's is this file's own. */
export interface Engine {
  transaction<T>(body: WriteBody<T>): Promise<T>
  read<T>(body: ReadBody<T>): Promise<T>
}

/** The first row, or undefined. On PostgreSQL every row is fetched: limit a query that may match many. */
export function* get<R>(query: { get(): R }): Steps<R> {
  return (yield { kind: 'get', query }) as R
}

export function* all<R>(query: { all(): R[] }): Steps<R[]> {
  return (yield { kind: 'all', query }) as R[]
}

/** An insert, update or delete without returning; `changes` is how many rows it touched. */
export function* run(query: { run(): unknown }): Steps<{ changes: number }> {
  return (yield { kind: 'run', query }) as { changes: number }
}

/**
 * Raw SQL's rows, as the engine returns them: columns under the names the SQL gives them, and on
 * PostgreSQL bigint and numeric values as text (node-postgres's default), so a body converts
 * what it reads as numbers with Number(). Raw SQL lives in db/ (one generator per query, both
 * engines' text side by side), not in the domain, unless both engines accept the same text.
 */
export function* sqlAll<R = Record<string, unknown>>(text: SqlText): Steps<R[]> {
  return (yield { kind: 'sql', mode: 'all', text }) as R[]
}

/** The first row of raw SQL, or undefined (sqlAll's caveats). */
export function* sqlGet<R = Record<string, unknown>>(text: SqlText): Steps<R | undefined> {
  return (yield { kind: 'sql', mode: 'get', text }) as R | undefined
}

/** Raw SQL that changes rows; `changes` is how many it touched. */
export function* sqlRun(text: SqlText): Steps<{ changes: number }> {
  return (yield { kind: 'sql', mode: 'run', text }) as { changes: number }
}

/** Runs `native`'s function for the engine in use, in the body's transaction (see Native). */
export function* native<R>(native: Native<R>): Steps<R> {
  return (yield { kind: 'native', native }) as R
}

/**
 * One engine's side of a prepared statement: its SQL text with that engine's placeholders
 * (SQLite: `@name`, bound from an object; PostgreSQL: `$1`, bound from an array), the values
 * for a call's parameters, and each row turned into the shape the domain reads (PostgreSQL
 * returns bigint as text and booleans as booleans, SQLite numbers and 0/1).
 */
export type EngineStatement<P, R> = {
  readonly text: string
  readonly values: (params: P) => Record<string, unknown> | unknown[]
  readonly row: (raw: Record<string, unknown>, params: P) => R
}

/**
 * A read on a hot path (decision 001): prepared once per connection, then only bound and run.
 * On SQLite a better-sqlite3 statement kept per connection; on PostgreSQL a named prepared
 * statement, which node-postgres parses once per pooled client. `name` is unique in the
 * store: PostgreSQL refuses one name for two texts on a connection.
 */
export type Statement<P, R> = { readonly name: string; readonly sqlite: EngineStatement<P, R> | SqliteStatements<P, R>; readonly postgres: EngineStatement<P, R> }

/**
 * SQLite's side as several statements, where one would cost more: each read is a call into the
 * library, so a few small statements can beat one that joins their results (FTS5 inside a
 * CTE measured two to three times its own cost; decision 047). `prepare` gives the statement
 * for a text, prepared once per connection.
 */
type SqliteStatements<P, R> = { readonly run: (prepare: (text: string) => Database.Statement, params: P) => R[] }

/** The rows of a prepared statement, each in the statement's own shape. */
export function* preparedAll<P, R>(statement: Statement<P, R>, params: P): Steps<R[]> {
  return (yield { kind: 'prepared', mode: 'all', statement: statement as unknown as Statement<never, unknown>, params }) as R[]
}

/** The first row of a prepared statement, or undefined. */
export function* preparedGet<P, R>(statement: Statement<P, R>, params: P): Steps<R | undefined> {
  return (yield { kind: 'prepared', mode: 'get', statement: statement as unknown as Statement<never, unknown>, params }) as R | undefined
}

/**
 * A prepared statement that changes rows without returning them (an insert, a conditional
 * update); `changes` is how many it touched. Its `row` is never called.
 */
export function* preparedRun<P>(statement: Statement<P, unknown>, params: P): Steps<{ changes: number }> {
  return (yield { kind: 'prepared', mode: 'run', statement: statement as unknown as Statement<never, unknown>, params }) as { changes: number }
}

/**
 * A Statement from one SQL text both engines accept, its parameters written `@name`: SQLite
 * binds them by name, PostgreSQL gets them as `$1`, `$2`… in the order they first appear (one
 * number per name however often it is used). `postgres` is PostgreSQL's own text, in the same
 * `@name` form, where the two differ (a row lock SQLite has no syntax for, json_each).
 */
export function statementOf<P extends Record<string, unknown>, R = Record<string, unknown>>(
  name: string,
  text: string,
  row: (raw: Record<string, unknown>, params: P) => R = (raw) => raw as R,
  postgres: string = text,
): Statement<P, R> {
  const names: string[] = []
  const numbered = postgres.replace(/@(\w+)/g, (_, key: string) => {
    if (!names.includes(key)) names.push(key)
    return `$${names.indexOf(key) + 1}`
  })
  return {
    name,
    // better-sqlite3 binds by name and passes over the keys the text does not use
    sqlite: { text, values: (params) => params, row },
    postgres: { text: numbered, values: (params) => names.map((key) => params[key]), row },
  }
}

/** The text of `text` for an engine; null when that engine has nothing to run. */
export function sqlFor(text: SqlText, engine: 'sqlite' | 'postgres'): SQL | null {
  return 'getSQL' in text ? text : text[engine]
}

/** What a raw SQL step answers when its engine has no text for it. */
export function nothingRun(mode: 'get' | 'all' | 'run'): unknown {
  return mode === 'run' ? { changes: 0 } : mode === 'all' ? [] : undefined
}

/**
 * Runs `callback` once the transaction commits, and never if it rolls back; one callback per
 * key per transaction (db.afterCommit). On PostgreSQL a callback of an attempt that was retried
 * is dropped with it.
 */
export function* afterCommit(key: string, callback: () => void): Steps<void> {
  yield { kind: 'afterCommit', key, callback }
}

/**
 * Makes the transactions that decide something about `key` take turns until each commits, for a
 * read that decides a later insert, where there is no row yet to lock (`SELECT … FOR UPDATE`
 * needs one). On SQLite this is already so: BEGIN IMMEDIATE runs one writer at a time. On
 * PostgreSQL, under READ COMMITTED, two servers would both read "none" and both insert; there
 * the step takes a transaction-scoped advisory lock on the key's hash.
 */
export function* serialize(key: string): Steps<void> {
  yield { kind: 'serialize', key }
}

// Which engine runs the bodies: SQLite unless usePostgres() named another. Kept on globalThis
// for the same reason as the connection (db/index.ts): Next may evaluate this module twice.
const globalForEngine = globalThis as unknown as { tillEngine?: Engine }

/** Runs every body on PostgreSQL from now on; undefined goes back to SQLite. */
export function usePostgres(engine: Engine | undefined): void {
  globalForEngine.tillEngine = engine
}

/**
 * Runs `body` in one transaction and commits it. On SQLite the transaction is over (committed
 * or rolled back) before this returns its promise.
 */
export function transaction<T>(body: WriteBody<T>): Promise<T> {
  const engine = globalForEngine.tillEngine
  if (engine) return engine.transaction(body)
  try {
    return Promise.resolve(write((tx) => runNow(tx, body)))
  } catch (err) {
    return Promise.reject(err as Error)
  }
}

/**
 * transaction() for a caller that can wait for its commit to be shared (the webhook's intake,
 * docs/decisions/046-webhook-group-commit.md). On SQLite the bodies handed in during one turn
 * of the event loop run in one BEGIN IMMEDIATE, each in its own savepoint, and share one
 * COMMIT (db.writeGrouped); the promise settles after that COMMIT. On PostgreSQL each body is
 * its own transaction: several app servers write at once there, and a commit does not hold
 * the only writer's lock while it waits for its fsync.
 */
export function transactionGrouped<T>(body: WriteBody<T>): Promise<T> {
  const engine = globalForEngine.tillEngine
  if (engine) return engine.transaction(body)
  return writeGrouped((tx) => runNow(tx, body))
}

/** Runs a read outside any transaction: on SQLite on the connection, on PostgreSQL on a pooled client. */
export function read<T>(body: ReadBody<T>): Promise<T> {
  const engine = globalForEngine.tillEngine
  if (engine) return engine.read(body)
  try {
    return Promise.resolve(drive(body(getDb(), schema), sqliteStep))
  } catch (err) {
    return Promise.reject(err as Error)
  }
}

/**
 * Runs `body` at once inside a SQLite write() transaction already open: how code that is still
 * synchronous calls a body written for both engines (`audit.record`), until it is converted too.
 */
export function runNow<T>(tx: Tx, body: WriteBody<T>): T {
  return drive(body(tx, schema), sqliteStep)
}

/**
 * Runs a read body at once on SQLite's connection: how code that is still synchronous reads
 * with a body written for both engines (`inventory.available`), until its callers are converted too.
 */
export function readNow<T>(body: ReadBody<T>): T {
  return drive(body(getDb(), schema), sqliteStep)
}

/** Refuses what is not a generator's steps: an async function or async generator would await. */
export function checkSteps<T>(steps: Steps<T>): Steps<T> {
  if (typeof (steps as { next?: unknown } | null)?.next !== 'function' || Symbol.asyncIterator in steps) {
    throw new Error('db/tx: a body is a generator function (function*), never async: it yields its queries and awaits nothing')
  }
  return steps
}

/**
 * Feeds a body's steps to `execute` until it returns. A step that fails is thrown into the
 * body at its `yield*`, as a synchronous call would throw there, so a body may catch it.
 */
function drive<T>(steps: Steps<T>, execute: (step: Step) => unknown): T {
  checkSteps(steps)
  let next = steps.next()
  while (!next.done) {
    let result: unknown
    try {
      result = execute(next.value)
    } catch (err) {
      next = steps.throw(err)
      continue
    }
    next = steps.next(result)
  }
  return next.value
}

function sqliteStep(step: Step): unknown {
  switch (step.kind) {
    case 'get':
      return (step.query as { get(): unknown }).get()
    case 'all':
      return (step.query as { all(): unknown[] }).all()
    case 'run':
      return { changes: (step.query as { run(): { changes: number } }).run().changes }
    case 'afterCommit':
      afterSqliteCommit(step.key, step.callback)
      return undefined
    case 'serialize':
      if (!getDb().$client.inTransaction) throw new Error('db/tx: serialize() is for a write transaction')
      return undefined
    case 'native':
      // the one connection (decision 001): inside write(), the transaction's
      return step.native.sqlite(getDb().$client)
    case 'sql': {
      // the process has one connection (decision 001): inside write() this is the transaction's
      const db = getDb()
      const text = sqlFor(step.text, 'sqlite')
      if (!text) return nothingRun(step.mode)
      if (step.mode === 'run') return { changes: db.run(text).changes }
      return step.mode === 'get' ? db.get(text) : db.all(text)
    }
    case 'prepared': {
      const client = getDb().$client
      if ('run' in step.statement.sqlite) {
        if (step.mode === 'run') throw new Error('db/tx: preparedRun takes one statement per engine')
        const rows = (step.statement.sqlite as SqliteStatements<unknown, unknown>).run((text) => sqliteStatement(client, text), step.params)
        return step.mode === 'get' ? rows[0] : rows
      }
      const side = step.statement.sqlite as EngineStatement<unknown, unknown>
      const statement = sqliteStatement(client, side.text)
      const values = side.values(step.params)
      const bind = Array.isArray(values) ? values : [values]
      if (step.mode === 'run') return { changes: statement.run(...bind).changes }
      if (step.mode === 'get') {
        const raw = statement.get(...bind) as Record<string, unknown> | undefined
        return raw === undefined ? undefined : side.row(raw, step.params)
      }
      return (statement.all(...bind) as Record<string, unknown>[]).map((raw) => side.row(raw, step.params))
    }
  }
}

// Statements prepared by the prepared steps, per connection (tests and a restore open others)
// and per text: preparing is most of the cost of a small read (decision 001).
const sqliteStatements = new WeakMap<Database.Database, Map<string, Database.Statement>>()

function sqliteStatement(client: Database.Database, text: string): Database.Statement {
  let byText = sqliteStatements.get(client)
  if (!byText) sqliteStatements.set(client, (byText = new Map()))
  let statement = byText.get(text)
  if (!statement) byText.set(text, (statement = client.prepare(text)))
  return statement
}
