import { eq, sql } from 'drizzle-orm'
import pg from 'pg'
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest'
import { migrate } from '@/db/pg/migrate'
import { postgresEngine } from '@/db/pg/steps'
import type { RetryInfo } from '@/db/pg/transaction'
import { afterCommit, all, get, read, run, transaction, usePostgres, type Steps } from '@/db/tx'
import { startPostgres, type Postgres } from '../support/postgres'

// db/tx.ts's bodies on PostgreSQL (db/pg/steps.ts) against a real server migrated by
// db/pg/migrate.ts: the body that runs on SQLite commits here too; a deadlock or a
// serialization failure runs it again from the start and the end state is as if it ran once.

let server: Postgres
let pool: pg.Pool
let retries: RetryInfo[]

beforeAll(async () => {
  server = await startPostgres()
  // a short deadlock_timeout, so the real deadlock below is found in 50 ms, not a second
  pool = new pg.Pool({ connectionString: server.url, max: 6, options: '-c deadlock_timeout=50' })
  await migrate(pool)
  // waits, in the database, until `n` transactions hold a transaction id (have written)
  await pool.query(`CREATE FUNCTION wait_for_writers(n int) RETURNS int LANGUAGE plpgsql AS $$ BEGIN
    FOR i IN 1..1000 LOOP
      EXIT WHEN (SELECT count(*) FROM pg_locks WHERE locktype = 'transactionid' AND mode = 'ExclusiveLock') >= n;
      PERFORM pg_sleep(0.01);
    END LOOP;
    RETURN n; END $$`)
})

afterAll(async () => {
  usePostgres(undefined)
  await pool?.end()
  await server?.stop()
})

beforeEach(async () => {
  retries = []
  usePostgres(postgresEngine(pool, { onRetry: (info) => retries.push(info) }))
  await pool.query('TRUNCATE health_checks')
  await pool.query(`INSERT INTO health_checks (id, checked_at, pid) VALUES ('a', 1, 0), ('b', 1, 0)`)
})

const pidOf = async (id: string) => (await pool.query<{ pid: number }>('SELECT pid FROM health_checks WHERE id = $1', [id])).rows[0]?.pid
// drizzle reports a failed query as its own error, the driver's (with the SQLSTATE) as its cause
const codeOf = (info: RetryInfo) => (info.err as { cause?: { code?: string } }).cause?.code

describe('db/tx on PostgreSQL', () => {
  it('commits a body of several statements, handing each result back', async () => {
    const result = await transaction(function* (tx, t) {
      yield* run(tx.insert(t.healthChecks).values({ id: 'c', checkedAt: 2, pid: 7 }))
      const { changes } = yield* run(tx.update(t.healthChecks).set({ pid: 1 }).where(eq(t.healthChecks.checkedAt, 1)))
      const row = yield* get(tx.select({ id: t.healthChecks.id, pid: t.healthChecks.pid }).from(t.healthChecks).where(eq(t.healthChecks.id, 'c')))
      const missing = yield* get(tx.select().from(t.healthChecks).where(eq(t.healthChecks.id, 'none')))
      return { changes, row, missing }
    })
    expect(result).toEqual({ changes: 2, row: { id: 'c', pid: 7 }, missing: undefined })
    const rows = await read(function* (db, t) {
      return yield* all(db.select({ id: t.healthChecks.id, pid: t.healthChecks.pid }).from(t.healthChecks).orderBy(t.healthChecks.id))
    })
    expect(rows).toEqual([
      { id: 'a', pid: 1 },
      { id: 'b', pid: 1 },
      { id: 'c', pid: 7 },
    ])
    expect(retries).toEqual([])
  })

  it('a read that fails rejects and gives its client back to the pool', async () => {
    // more failing reads than the pool has clients: one kept would make the last ones wait forever
    for (let n = 0; n < 8; n++) {
      await expect(
        read(function* (db, t) {
          return yield* all(db.select({ x: sql`no_such_column` }).from(t.healthChecks))
        }),
      ).rejects.toThrow(/no_such_column/)
    }
    expect([pool.idleCount, pool.waitingCount]).toEqual([pool.totalCount, 0])
    const rows = await read(function* (db, t) {
      return yield* all(db.select({ id: t.healthChecks.id }).from(t.healthChecks))
    })
    expect(rows).toHaveLength(2)
  })

  it('rolls back an error of the body without a retry and drops its after-commit callbacks', async () => {
    const fired: string[] = []
    let calls = 0
    await expect(
      transaction(function* (tx, t) {
        calls++
        yield* afterCommit('k', () => fired.push('never'))
        yield* run(tx.update(t.healthChecks).set({ pid: 9 }))
        throw new Error('the body failed')
      }),
    ).rejects.toThrow('the body failed')
    expect([calls, retries.length, fired]).toEqual([1, 0, []])
    expect(await pidOf('a')).toBe(0)
    // refused before it runs: an async body could await something other than the database
    await expect(transaction((async () => undefined) as unknown as () => Steps<void>)).rejects.toThrow(/generator function/)
    expect(await pidOf('a')).toBe(0)
  })

  it('runs the victim of a real deadlock again from the start; both commit once, each after-commit callback fires once', async () => {
    const fired: string[] = []
    const calls = { x: 0, y: 0 }
    const lockBoth = (name: 'x' | 'y', first: string, second: string) =>
      transaction(function* (tx, t) {
        const call = ++calls[name]
        yield* afterCommit('done', () => fired.push(`${name} from run ${call}`))
        yield* run(tx.update(t.healthChecks).set({ pid: sql`${t.healthChecks.pid} + 1` }).where(eq(t.healthChecks.id, first)))
        // the first time, wait until the other has written too: each then holds the row the
        // other wants next, a deadlock rather than a race
        if (call === 1) yield* get(tx.select({ n: sql<number>`wait_for_writers(2)` }).from(t.healthChecks).limit(1))
        yield* run(tx.update(t.healthChecks).set({ pid: sql`${t.healthChecks.pid} + 1` }).where(eq(t.healthChecks.id, second)))
        return name
      })
    expect(await Promise.all([lockBoth('x', 'a', 'b'), lockBoth('y', 'b', 'a')])).toEqual(['x', 'y'])
    expect(retries.map((r) => [r.reason, codeOf(r)])).toEqual([['deadlock', '40P01']])
    expect([calls.x, calls.y].sort()).toEqual([1, 2])
    // as if each ran once: two increments on each row
    expect([await pidOf('a'), await pidOf('b')]).toEqual([2, 2])
    const victim = calls.x === 2 ? 'x' : 'y'
    expect(fired.sort()).toEqual([`x from run ${calls.x}`, `y from run ${calls.y}`].sort())
    expect(fired).toContain(`${victim} from run 2`)
  })

  it('runs a body again after a serialization failure under REPEATABLE READ, reading the newer row', async () => {
    usePostgres(postgresEngine(pool, { isolation: 'repeatable read', onRetry: (info) => retries.push(info) }))
    // another app server has changed row a and not committed yet
    const other = await pool.connect()
    await other.query('BEGIN')
    await other.query(`UPDATE health_checks SET pid = pid + 10 WHERE id = 'a'`)
    let calls = 0
    const taking = transaction(function* (tx, t) {
      calls++
      const before = yield* get(tx.select({ pid: t.healthChecks.pid }).from(t.healthChecks).where(eq(t.healthChecks.id, 'a')))
      yield* run(tx.update(t.healthChecks).set({ pid: sql`${t.healthChecks.pid} - 1` }).where(eq(t.healthChecks.id, 'a')))
      return before!.pid
    })
    // once the body's update waits for the other's row lock, the other commits
    for (let waited = 0; ; waited += 20) {
      const { rows } = await pool.query<{ n: string }>(`SELECT count(*) AS n FROM pg_stat_activity WHERE wait_event_type = 'Lock'`)
      if (Number(rows[0]!.n) > 0) break
      if (waited > 10_000) throw new Error('the body never waited for the lock')
      await new Promise((resolve) => setTimeout(resolve, 20))
    }
    await other.query('COMMIT')
    other.release()
    expect(await taking).toBe(10)
    expect(retries.map((r) => [r.attempt, r.reason, codeOf(r)])).toEqual([[1, 'serialization failure', '40001']])
    expect(calls).toBe(2)
    expect(await pidOf('a')).toBe(9)
  })
})
