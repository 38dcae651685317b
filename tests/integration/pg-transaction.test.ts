import pg from 'pg'
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest'
import { transaction, TransactionRolledBack, type RetryInfo } from '@/db/pg/transaction'
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

/** Collects the retries of one call. */
function retries() {
  const seen: RetryInfo[] = []
  return { seen, onRetry: (info: RetryInfo) => seen.push(info) }
}

describe('db/pg transaction', () => {
  it('8 writers take 1 each from a stock of 5 with a conditional update: exactly 5 succeed, stock ends at 0', async () => {
    const counter = retries()
    const take = (writer: number) =>
      transaction(
        pool,
        async (client) => {
          const { rowCount } = await client.query('UPDATE items SET stock = stock - 1 WHERE id = $1 AND stock >= 1', [1])
          if (rowCount === 0) return false
          await client.query('INSERT INTO sales (item_id, writer) VALUES (1, $1)', [writer])
          return true
        },
        { onRetry: counter.onRetry },
      )
    const outcomes = await Promise.all(Array.from({ length: 8 }, (_, i) => take(i)))
    expect(outcomes.filter(Boolean)).toHaveLength(5)
    expect(await stockOf(1)).toBe(0)
    expect(await salesCount()).toBe(5)
    // a row lock queues the writers; READ COMMITTED re-checks the condition on the new row, so nothing is retried
    expect(counter.seen).toEqual([])
  })

  it('retries the victim of a real deadlock (two rows locked in opposite order); both commit', async () => {
    const counter = retries()
    const attempts = { a: 0, b: 0 }
    const lockBoth = (name: 'a' | 'b', first: number, second: number) =>
      transaction(
        pool,
        async (client) => {
          attempts[name]++
          await client.query('SET LOCAL deadlock_timeout = 50')
          await client.query('UPDATE items SET stock = stock - 1 WHERE id = $1', [first])
          if (attempts[name] === 1) {
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
        },
        { onRetry: counter.onRetry },
      )
    expect(await Promise.all([lockBoth('a', 1, 2), lockBoth('b', 2, 1)])).toEqual(['a', 'b'])
    expect(counter.seen.map((r) => [r.reason, (r.err as { code?: string }).code])).toEqual([['deadlock', '40P01']])
    expect(attempts.a + attempts.b).toBe(3)
    // each committed once: 5 - 2 on both rows
    expect([await stockOf(1), await stockOf(2)]).toEqual([3, 3])
  })

  it('rolls back and rethrows an error of the body, without a retry', async () => {
    const counter = retries()
    let calls = 0
    const failing = transaction(
      pool,
      async (client) => {
        calls++
        await client.query('UPDATE items SET stock = 0 WHERE id = 1')
        throw new Error('the body failed')
      },
      { onRetry: counter.onRetry },
    )
    await expect(failing).rejects.toThrow('the body failed')
    expect(calls).toBe(1)
    expect(counter.seen).toEqual([])
    expect(await stockOf(1)).toBe(5)
    // a check violation is the database refusing, not a race: not retried either
    await expect(transaction(pool, (client) => client.query('UPDATE items SET stock = -1 WHERE id = 1'), { onRetry: counter.onRetry })).rejects.toMatchObject({ code: '23514' })
    expect(counter.seen).toEqual([])
  })

  it('retries a serialization failure under REPEATABLE READ', async () => {
    const counter = retries()
    let calls = 0
    const result = await transaction(
      pool,
      async (client) => {
        calls++
        const before = (await client.query<{ stock: number }>('SELECT stock FROM items WHERE id = 1')).rows[0]!.stock
        // Another writer commits a change to the row after this transaction's snapshot.
        if (calls === 1) await pool.query('UPDATE items SET stock = stock + 10 WHERE id = 1')
        await client.query('UPDATE items SET stock = stock - 1 WHERE id = 1')
        return before
      },
      { isolation: 'repeatable read', onRetry: counter.onRetry },
    )
    expect(counter.seen.map((r) => [r.attempt, r.reason, (r.err as { code?: string }).code])).toEqual([[1, 'serialization failure', '40001']])
    expect(result).toBe(15)
    expect(await stockOf(1)).toBe(14)
    // READ COMMITTED, the default, takes the other writer's row instead of failing
    const quiet = retries()
    let readCommittedCalls = 0
    await transaction(
      pool,
      async (client) => {
        readCommittedCalls++
        await client.query('SELECT stock FROM items WHERE id = 1')
        if (readCommittedCalls === 1) await pool.query('UPDATE items SET stock = stock + 10 WHERE id = 1')
        await client.query('UPDATE items SET stock = stock - 1 WHERE id = 1')
      },
      { onRetry: quiet.onRetry },
    )
    expect(quiet.seen).toEqual([])
    expect(await stockOf(1)).toBe(23)
  })

  it('retries when the connection is lost before COMMIT, without crashing the process', async () => {
    const counter = retries()
    let calls = 0
    const result = await transaction(
      pool,
      async (client) => {
        calls++
        await client.query('INSERT INTO sales (item_id, writer) VALUES (1, $1)', [calls])
        // the server ends this backend, as a failover or a restart would
        if (calls === 1) await client.query('SELECT pg_terminate_backend(pg_backend_pid())')
        return calls
      },
      { onRetry: counter.onRetry },
    )
    expect(result).toBe(2)
    expect(counter.seen.map((r) => r.reason)).toEqual(['connection lost'])
    expect((await pool.query('SELECT writer FROM sales')).rows).toEqual([{ writer: 2 }])
  })

  it('refuses a COMMIT that answers ROLLBACK (a failed statement swallowed by the body)', async () => {
    const counter = retries()
    const swallowing = transaction(
      pool,
      async (client) => {
        await client.query('INSERT INTO sales (item_id, writer) VALUES (1, 1)')
        await client.query('UPDATE items SET stock = -1 WHERE id = 1').catch(() => {})
      },
      { onRetry: counter.onRetry },
    )
    await expect(swallowing).rejects.toBeInstanceOf(TransactionRolledBack)
    expect(counter.seen).toEqual([])
    expect(await salesCount()).toBe(0)
  })

  it('gives up after maxAttempts', async () => {
    const counter = retries()
    let calls = 0
    const alwaysLoses = transaction(
      pool,
      async (client) => {
        calls++
        await client.query(`DO $$ BEGIN RAISE EXCEPTION 'lost a race' USING ERRCODE = 'serialization_failure'; END $$`)
      },
      { maxAttempts: 3, backoffMs: 1, onRetry: counter.onRetry },
    )
    await expect(alwaysLoses).rejects.toMatchObject({ code: '40001' })
    expect(calls).toBe(3)
    expect(counter.seen.map((r) => r.attempt)).toEqual([1, 2])
  })
})
