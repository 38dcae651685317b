import pg from 'pg'
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest'
import { transaction, TransactionRolledBack, type RetryInfo, type TransactionOptions } from '@/db/pg/transaction'
import { startPostgres, type Postgres } from '../support/postgres'

// db/pg/transaction.ts against a real PostgreSQL: several writers at once under READ
// COMMITTED, a real deadlock, a real serialization failure, a real lost connection.

let server: Postgres
let pool: pg.Pool

beforeAll(async () => {
  server = await startPostgres()
  pool = new pg.Pool({ connectionString: server.url, max: 10 })
  await pool.query(`
    CREATE TABLE items (id int PRIMARY KEY, stock int NOT NULL CHECK (stock >= 0));
    CREATE TABLE sales (id serial PRIMARY KEY, item_id int NOT NULL, writer int NOT NULL);`)
})

afterAll(async () => {
  await pool?.end()
  await server?.stop()
})

beforeEach(async () => {
  await pool.query('TRUNCATE items, sales')
  await pool.query('INSERT INTO items (id, stock) VALUES (1, 5), (2, 5)')
})

const stockOf = async (id: number) => (await pool.query<{ stock: number }>('SELECT stock FROM items WHERE id = $1', [id])).rows[0]!.stock
const salesCount = async () => Number((await pool.query<{ n: string }>('SELECT count(*) AS n FROM sales')).rows[0]!.n)

/** Runs `body` through transaction(), counting its runs (`call` is 1 the first time) and its retries. */
function counted<T>(body: (client: pg.PoolClient, call: number) => Promise<T>, options: TransactionOptions = {}) {
  const stats = { calls: 0, retries: [] as RetryInfo[] }
  const result = transaction(pool, (client) => body(client, ++stats.calls), { ...options, onRetry: (info) => stats.retries.push(info) })
  return { result, stats }
}

const codeOf = (info: RetryInfo) => (info.err as { code?: string }).code

describe('db/pg transaction', () => {
  it('8 writers take 1 each from a stock of 5 with a conditional update: exactly 5 succeed, stock ends at 0', async () => {
    const writers = Array.from({ length: 8 }, (_, writer) =>
      counted(async (client) => {
        const { rowCount } = await client.query('UPDATE items SET stock = stock - 1 WHERE id = $1 AND stock >= 1', [1])
        if (rowCount === 0) return false
        await client.query('INSERT INTO sales (item_id, writer) VALUES (1, $1)', [writer])
        return true
      }),
    )
    const outcomes = await Promise.all(writers.map((w) => w.result))
    expect(outcomes.filter(Boolean)).toHaveLength(5)
    expect(await stockOf(1)).toBe(0)
    expect(await salesCount()).toBe(5)
    // a row lock queues the writers; READ COMMITTED re-checks the condition on the new row, so nothing is retried
    expect(writers.flatMap((w) => w.stats.retries)).toEqual([])
  })

  it('retries the victim of a real deadlock (two rows locked in opposite order); both commit', async () => {
    const lockBoth = (name: string, first: number, second: number) =>
      counted(async (client, call) => {
        await client.query('SET LOCAL deadlock_timeout = 50')
        await client.query('UPDATE items SET stock = stock - 1 WHERE id = $1', [first])
        if (call === 1) {
          // The first time, wait (in the database) until the other transaction has written
          // too, so each holds the row the other wants next: a deadlock, not a race.
          await client.query(`DO $$ BEGIN
            FOR i IN 1..1000 LOOP
              EXIT WHEN (SELECT count(*) FROM pg_locks WHERE locktype = 'transactionid' AND mode = 'ExclusiveLock') >= 2;
              PERFORM pg_sleep(0.01);
            END LOOP; END $$`)
        }
        await client.query('UPDATE items SET stock = stock - 1 WHERE id = $1', [second])
        return name
      })
    const both = [lockBoth('a', 1, 2), lockBoth('b', 2, 1)]
    expect(await Promise.all(both.map((t) => t.result))).toEqual(['a', 'b'])
    const retried = both.flatMap((t) => t.stats.retries)
    expect(retried.map((r) => [r.reason, codeOf(r)])).toEqual([['deadlock', '40P01']])
    expect(both.map((t) => t.stats.calls).sort()).toEqual([1, 2])
    // each committed once: 5 - 2 on both rows
    expect([await stockOf(1), await stockOf(2)]).toEqual([3, 3])
  })

  it('rolls back and rethrows an error of the body, without a retry', async () => {
    const failing = counted(async (client) => {
      await client.query('UPDATE items SET stock = 0 WHERE id = 1')
      throw new Error('the body failed')
    })
    await expect(failing.result).rejects.toThrow('the body failed')
    expect(failing.stats).toEqual({ calls: 1, retries: [] })
    expect(await stockOf(1)).toBe(5)
    // a check violation is the database refusing, not a race: not retried either
    const refused = counted((client) => client.query('UPDATE items SET stock = -1 WHERE id = 1'))
    await expect(refused.result).rejects.toMatchObject({ code: '23514' })
    expect(refused.stats).toEqual({ calls: 1, retries: [] })
  })

  it('retries a serialization failure under REPEATABLE READ', async () => {
    const body = async (client: pg.PoolClient, call: number) => {
      const before = (await client.query<{ stock: number }>('SELECT stock FROM items WHERE id = 1')).rows[0]!.stock
      // Another writer commits a change to the row after this transaction's first read.
      if (call === 1) await pool.query('UPDATE items SET stock = stock + 10 WHERE id = 1')
      await client.query('UPDATE items SET stock = stock - 1 WHERE id = 1')
      return before
    }
    const repeatable = counted(body, { isolation: 'repeatable read' })
    expect(await repeatable.result).toBe(15)
    expect(repeatable.stats.retries.map((r) => [r.attempt, r.reason, codeOf(r)])).toEqual([[1, 'serialization failure', '40001']])
    expect(await stockOf(1)).toBe(14)
    // READ COMMITTED, the default, takes the other writer's row instead of failing
    const readCommitted = counted(body)
    expect(await readCommitted.result).toBe(14)
    expect(readCommitted.stats).toEqual({ calls: 1, retries: [] })
    expect(await stockOf(1)).toBe(23)
  })

  it('retries when the connection is lost before COMMIT, without crashing the process', async () => {
    const lost = counted(async (client, call) => {
      await client.query('INSERT INTO sales (item_id, writer) VALUES (1, $1)', [call])
      // the server ends this backend, as a failover or a restart would
      if (call === 1) await client.query('SELECT pg_terminate_backend(pg_backend_pid())')
      return call
    })
    expect(await lost.result).toBe(2)
    expect(lost.stats.retries.map((r) => r.reason)).toEqual(['connection lost'])
    expect((await pool.query('SELECT writer FROM sales')).rows).toEqual([{ writer: 2 }])
  })

  it('refuses a COMMIT that answers ROLLBACK (a failed statement swallowed by the body)', async () => {
    const swallowing = counted(async (client) => {
      await client.query('INSERT INTO sales (item_id, writer) VALUES (1, 1)')
      await client.query('UPDATE items SET stock = -1 WHERE id = 1').catch(() => {})
    })
    await expect(swallowing.result).rejects.toBeInstanceOf(TransactionRolledBack)
    expect(swallowing.stats).toEqual({ calls: 1, retries: [] })
    expect(await salesCount()).toBe(0)
  })

  it('gives up after maxAttempts', async () => {
    const alwaysLoses = counted(
      (client) => client.query(`DO $$ BEGIN RAISE EXCEPTION 'lost a race' USING ERRCODE = 'serialization_failure'; END $$`),
      { maxAttempts: 3, backoffMs: 1 },
    )
    await expect(alwaysLoses.result).rejects.toMatchObject({ code: '40001' })
    expect(alwaysLoses.stats.calls).toBe(3)
    expect(alwaysLoses.stats.retries.map((r) => r.attempt)).toEqual([1, 2])
  })
})
