import { sql, type SQL } from 'drizzle-orm'
import { drizzle } from 'drizzle-orm/node-postgres'
import pg from 'pg'
import { afterAll, afterEach, beforeAll, beforeEach } from 'vitest'
import { getDb } from '@/db'
import { migrate } from '@/db/pg/migrate'
import { postgresEngine } from '@/db/pg/steps'
import { usePostgres } from '@/db/tx'
import { freshStore, type TestDb } from './db'
import { startPostgres, type Postgres } from './postgres'
import { scratchDatabase, SUITE_POSTGRES } from './suite-database'

// The same test body on both engines, for domain code written on db/tx.ts:
//   describe.each(ENGINES)('order notes on %s', (name) => { const engine = useEngine(name); … })
// SQLite: a fresh migrated store per test, as tests/support/db.ts makes them. PostgreSQL: one
// server per describe block (tests/support/postgres.ts), migrated by db/pg/migrate.ts, every
// table emptied before each test, and the domain's bodies run on it through usePostgres().
// Raw SQL in a test is written once with drizzle's sql`…`, which each engine renders its way.
// With DATABASE_URL set for the run (tests/support/suite-database.ts), only the PostgreSQL leg
// runs, each block in a database of its own on that server.

export type EngineName = 'sqlite' | 'postgres'
export const ENGINES: readonly EngineName[] = SUITE_POSTGRES ? ['postgres'] : ['sqlite', 'postgres']

export type TestEngine = {
  name: EngineName
  /** Rows of a raw query (SQLite returns them as written; PostgreSQL's bigint counts come back as text). */
  rows<T = Record<string, unknown>>(query: SQL): Promise<T[]>
  /** `SELECT count(*) AS n …` as a number. */
  count(query: SQL): Promise<number>
  /**
   * PostgreSQL only: the domain's bodies run from now until the test ends on `count` pools of
   * their own, taken in turn, as `count` app servers would run them; end() closes the pools.
   */
  appServers(count: number): { end(): Promise<void> }
}

/** Registers the hooks that give this describe block `name`'s database. */
export function useEngine(name: EngineName): TestEngine {
  let store: TestDb | undefined
  let server: Postgres | undefined
  let url: string | undefined
  let pool: pg.Pool | undefined

  if (name === 'sqlite') {
    beforeEach(() => {
      store = freshStore()
    })
    afterEach(() => store?.close())
  } else {
    beforeAll(async () => {
      if (SUITE_POSTGRES) url = await scratchDatabase()
      else url = (server = await startPostgres()).url
      pool = new pg.Pool({ connectionString: url, max: 8 })
      await migrate(pool)
    })
    beforeEach(async () => {
      // a test may have pointed the domain elsewhere (several app servers' pools)
      usePostgres(postgresEngine(pool!))
      const { rows } = await pool!.query<{ name: string }>(`SELECT quote_ident(tablename) AS name FROM pg_tables WHERE schemaname = 'public'`)
      await pool!.query(`TRUNCATE ${rows.map((r) => r.name).join(', ')} RESTART IDENTITY CASCADE`)
    })
    afterAll(async () => {
      usePostgres(undefined)
      await pool?.end()
      await server?.stop()
    })
  }

  const rows = async <T>(query: SQL): Promise<T[]> => (name === 'sqlite' ? (getDb().all(query) as T[]) : ((await drizzle(pool!).execute(query)).rows as T[]))
  return {
    name,
    rows,
    count: async (query) => Number((await rows<{ n: number | string }>(query))[0]!.n),
    appServers: (count) => {
      if (!url) throw new Error('engines: only the postgres engine has app servers')
      const pools = Array.from({ length: count }, () => new pg.Pool({ connectionString: url, max: 4 }))
      let turn = 0
      // the harness's own engine comes back before the next test
      usePostgres(postgresEngine({ connect: () => pools[turn++ % count]!.connect() }))
      return { end: async () => void (await Promise.all(pools.map((p) => p.end()))) }
    },
  }
}

/** A paid order of 99.00 USD, its session `cs_<key>`, inserted with raw SQL on either engine; its id. */
export async function insertOrder(engine: TestEngine, key: string): Promise<number> {
  const now = Date.now()
  const [row] = await engine.rows<{ id: number | string }>(sql`
    INSERT INTO orders (stripe_checkout_session_id, public_token, status, total_cents, subtotal_cents, currency, email, created_at, updated_at)
    VALUES (${`cs_${key}`}, ${`token_${key}_abcdefghijklmnopqrstuvwx`}, 'paid', 9900, 9900, 'usd', 'shopper@example.com', ${now}, ${now})
    RETURNING id`)
  return Number(row!.id)
}
