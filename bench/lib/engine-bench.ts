import { performance } from 'node:perf_hooks'
import pg from 'pg'
import { moveToPostgres } from '@/db/pg/move'
import { postgresEngine } from '@/db/pg/steps'
// named so: React's hooks lint reads any use… call as a hook
import { usePostgres as runBodiesOn } from '@/db/tx'
import * as notes from '@/lib/orders/notes'
import * as search from '@/lib/search'
import { startPostgres } from '../../tests/support/postgres'
import { percentiles, QUERIES, searchStore } from './search-bench'

// `npm run bench -- --engine postgres`: what the move to PostgreSQL costs on one box, for the
// parts of the store that already run on both engines (docs/decisions/047). One store is made
// as the search bench makes it (the demo catalog grown to `size` products), copied into a
// fresh PostgreSQL on this machine by db/pg/move.ts (the code behind npm run
// db:move-to-postgres), and then the same calls are timed on each engine in this process,
// alternating, so both see the same machine:
// - search: lib/search on each engine (SQLite's FTS5, PostgreSQL's full text in
//   db/pg/search.ts) for the same queries;
// - a write transaction through db/tx.ts: an order note and its audit row (lib/orders/notes),
//   one at a time, and on PostgreSQL also from 8 connections at once, as several requests or
//   app servers would write.
// PostgreSQL runs durable, as a shop would run it (fsync, full_page_writes, synchronous_commit
// on), with no replica: a synchronous standby adds a network round trip to every commit.

export type EngineFigures = {
  products: number
  moveMs: number
  rowsMoved: number
  search: { sqlite: { p50: number; p99: number }; postgres: { p50: number; p99: number }; queries: number }
  note: { sqliteMs: number; postgresMs: number; postgresConcurrentPerSecond: number; writes: number }
}

const time = async (fn: () => unknown) => {
  const start = performance.now()
  await fn()
  return performance.now() - start
}

export async function engineBench(size: number, rounds: number, writes: number, progress: (line: string) => void): Promise<EngineFigures> {
  const store = searchStore(size)
  const server = await startPostgres({ settings: { fsync: 'on', full_page_writes: 'on', synchronous_commit: 'on', shared_buffers: '128MB' } })
  const pool = new pg.Pool({ connectionString: server.url, max: 8 })
  try {
    // an order and its owner to write notes on, in SQLite before the move, so both have them
    const { id: adminId } = store.db.$client.prepare(`INSERT INTO admin_users (email, password_hash) VALUES ('bench@example.com', 'x') RETURNING id`).get() as { id: number }
    const { id: orderId } = store.db.$client
      .prepare(`INSERT INTO orders (stripe_checkout_session_id, public_token, status, total_cents, subtotal_cents, currency, email, created_at, updated_at) VALUES ('cs_bench', 'token_bench_abcdefghijklmnopqrstuvwx', 'paid', 100, 100, 'usd', 'b@example.com', 1, 1) RETURNING id`)
      .get() as { id: number }
    progress(`engines: moving ${store.count} products into PostgreSQL…`)
    const moved = await moveToPostgres(store.db.$client, pool)
    const postgres = postgresEngine(pool)
    const on = (engine: 'sqlite' | 'postgres') => runBodiesOn(engine === 'postgres' ? postgres : undefined)
    const actor = { id: adminId, email: 'bench@example.com' }

    progress('engines: search…')
    const onSqlite: number[] = []
    const onPostgres: number[] = []
    for (const q of QUERIES) {
      on('sqlite')
      await search.search(q)
      on('postgres')
      await search.search(q)
    }
    for (let r = 0; r < rounds; r++) {
      for (const q of QUERIES) {
        on('sqlite')
        onSqlite.push(await time(() => search.search(q)))
        on('postgres')
        onPostgres.push(await time(() => search.search(q)))
      }
    }

    progress('engines: write transactions…')
    let sqliteMs = 0
    let postgresMs = 0
    for (let i = 0; i < writes; i++) {
      on('sqlite')
      sqliteMs += await time(() => notes.add(actor, orderId, `note ${i}`))
      on('postgres')
      postgresMs += await time(() => notes.add(actor, orderId, `note ${i}`))
    }
    on('postgres')
    const start = performance.now()
    let next = 0
    await Promise.all(
      Array.from({ length: 8 }, async () => {
        while (next < writes) await notes.add(actor, orderId, `concurrent ${next++}`)
      }),
    )
    const concurrentSeconds = (performance.now() - start) / 1000

    return {
      products: store.count,
      moveMs: moved.millis,
      rowsMoved: moved.rows,
      search: { sqlite: percentiles(onSqlite), postgres: percentiles(onPostgres), queries: onSqlite.length },
      note: { sqliteMs: sqliteMs / writes, postgresMs: postgresMs / writes, postgresConcurrentPerSecond: writes / concurrentSeconds, writes },
    }
  } finally {
    runBodiesOn(undefined)
    await pool.end()
    await server.stop()
    store.close()
  }
}
