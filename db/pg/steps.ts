import { sql } from 'drizzle-orm'
import { drizzle, type NodePgDatabase } from 'drizzle-orm/node-postgres'
import type pg from 'pg'
import { runCommitted } from '../index'
import { checkSteps, nothingRun, sqlFor, type Engine, type EngineStatement, type ReadBody, type Reader, type Step, type Steps, type Tables, type WriteBody, type Writer } from '../tx'
import { isNotPrimaryError } from './primary'
import * as pgSchema from './schema'
import { transaction, type Connects, type TransactionOptions } from './transaction'

// PostgreSQL's runner for the bodies of db/tx.ts (docs/decisions/047-generator-transactions.md):
// each query a body yields is awaited on the transaction's client, and its result handed back.
// A body is run by db/pg/transaction.ts, so a serialization failure or a deadlock runs it
// again from the start (a new generator: nothing of the failed attempt is kept, its
// after-commit callbacks included).

// The body is typed against SQLite's tables; these have the same export names and columns
// (tests/unit/schema-parity.test.ts), PostgreSQL's types and driver mappings.
const tables = pgSchema as unknown as Tables

/** Runs the domain's bodies on `pool` (a pg.Pool, or the PrimaryPool that follows a cluster's primary). */
export function postgresEngine(pool: Connects, options: TransactionOptions = {}): Engine {
  return {
    async transaction<T>(body: WriteBody<T>): Promise<T> {
      let callbacks = new Map<string, () => void>()
      const result = await transaction(
        pool,
        (client) => {
          callbacks = new Map()
          const tx = drizzle(client)
          return drive(body(tx as unknown as Writer, tables), (step) => execute(step, tx, callbacks))
        },
        options,
      )
      runCommitted(callbacks)
      return result
    },

    async read<T>(body: ReadBody<T>): Promise<T> {
      const client = await pool.connect()
      // A server that dies while this client is out must fail the read, not the process.
      const onError = () => {}
      client.on('error', onError)
      let failure: unknown
      try {
        const db = drizzle(client)
        return await drive(body(db as unknown as Reader, tables), (step) => execute(step, db, null))
      } catch (err) {
        failure = err
        throw err
      } finally {
        const isBroken = failure !== undefined && isNotPrimaryError(failure)
        if (!isBroken) client.off('error', onError)
        // a broken client is closed rather than given to the next caller (and tells a
        // PrimaryPool to look for the primary again)
        client.release(isBroken ? (failure as Error) : undefined)
      }
    },
  }
}

/** db/tx.ts's drive, awaiting each step: the body itself still cannot await anything else. */
async function drive<T>(steps: Steps<T>, execute: (step: Step) => Promise<unknown>): Promise<T> {
  checkSteps(steps)
  let next = steps.next()
  while (!next.done) {
    let result: unknown
    try {
      result = await execute(next.value)
    } catch (err) {
      next = steps.throw(err)
      continue
    }
    next = steps.next(result)
  }
  return next.value
}

/** `callbacks` is null outside a transaction (a read). */
async function execute(step: Step, db: NodePgDatabase & { $client: pg.ClientBase }, callbacks: Map<string, () => void> | null): Promise<unknown> {
  switch (step.kind) {
    case 'get':
      return (await (step.query as PromiseLike<unknown[]>))[0]
    case 'all':
      return await (step.query as PromiseLike<unknown[]>)
    case 'run':
      // a query without returning resolves to node-postgres's own result
      return { changes: (await (step.query as PromiseLike<pg.QueryResult>)).rowCount ?? 0 }
    case 'afterCommit':
      if (!callbacks) throw new Error('db.afterCommit: called outside a write transaction')
      if (!callbacks.has(step.key)) callbacks.set(step.key, step.callback)
      return undefined
    case 'serialize':
      if (!callbacks) throw new Error('db/tx: serialize() is for a write transaction')
      // held until COMMIT or ROLLBACK; 64 bits of the key's hash, so unrelated keys rarely share a lock
      await db.execute(sql`SELECT pg_advisory_xact_lock(hashtextextended(${step.key}, 0))`)
      return undefined
    case 'native':
      // drizzle() keeps the client it was given (the transaction's, or the read's pooled one) as $client
      return await step.native.postgres((db as unknown as { $client: pg.ClientBase }).$client)
    case 'sql': {
      const text = sqlFor(step.text, 'postgres')
      if (!text) return nothingRun(step.mode)
      const result = await db.execute(text)
      if (step.mode === 'run') return { changes: result.rowCount ?? 0 }
      return step.mode === 'get' ? result.rows[0] : result.rows
    }
    case 'prepared': {
      const side = step.statement.postgres as EngineStatement<unknown, unknown>
      const values = side.values(step.params)
      // named: node-postgres parses it once per client and then only binds and executes
      const { rows, rowCount } = await db.$client.query<Record<string, unknown>>({ name: step.statement.name, text: side.text, values: Array.isArray(values) ? values : Object.values(values) })
      if (step.mode === 'run') return { changes: rowCount ?? 0 }
      if (step.mode === 'get') return rows[0] === undefined ? undefined : side.row(rows[0], step.params)
      return rows.map((raw) => side.row(raw, step.params))
    }
  }
}
