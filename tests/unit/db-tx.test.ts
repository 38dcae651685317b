import path from 'node:path'
import Database from 'better-sqlite3'
import { ESLint } from 'eslint'
import { eq, sql } from 'drizzle-orm'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { getDb, write } from '@/db'
import { healthChecks } from '@/db/schema'
import { afterCommit, all, get, read, run, transaction, type Steps } from '@/db/tx'
import { perQuery, runnerOverhead } from '../../bench/tx-runner'
import { freshDb, type TestDb } from '../support/db'

// db/tx.ts on SQLite: a body is a generator driven synchronously inside write()'s one
// BEGIN IMMEDIATE, so nothing else can run between its statements. PostgreSQL's runner is
// tested against a real server in tests/integration/pg-tx.test.ts.

let t: TestDb
let other: Database.Database
beforeEach(() => {
  t = freshDb()
  // a second connection to the same file: another process, as during a deploy
  other = new Database(t.file)
  other.pragma('busy_timeout = 0')
})
afterEach(() => {
  other.close()
  t.close()
})

const ids = () => (getDb().$client.prepare('SELECT id FROM health_checks ORDER BY id').pluck().all() as string[])
// SQLite's data_version moves once for each commit another connection makes.
const commitsSeen = () => other.pragma('data_version', { simple: true }) as number

describe('db/tx transaction on SQLite', () => {
  it('runs the body in one BEGIN IMMEDIATE, holding the write lock from the start, and commits once', async () => {
    const before = commitsSeen()
    const result = await transaction(function* (tx, t) {
      // before its first write, the body already holds the lock: another writer is refused
      expect(() => other.exec('BEGIN IMMEDIATE')).toThrow(/locked|busy/i)
      for (const id of ['a', 'b', 'c']) yield* run(tx.insert(t.healthChecks).values({ id, checkedAt: 1, pid: 1 }))
      // and nobody else sees its rows before it commits
      expect(other.prepare('SELECT count(*) FROM health_checks').pluck().get()).toBe(0)
      const { changes } = yield* run(tx.update(t.healthChecks).set({ pid: 2 }).where(eq(t.healthChecks.checkedAt, 1)))
      const row = yield* get(tx.select({ id: t.healthChecks.id }).from(t.healthChecks).where(eq(t.healthChecks.id, 'b')))
      return { changes, row }
    })
    expect(result).toEqual({ changes: 3, row: { id: 'b' } })
    expect(commitsSeen() - before).toBe(1)
    expect(ids()).toEqual(['a', 'b', 'c'])
  })

  it('rolls back everything on an error of the body, and rejects with it', async () => {
    const before = commitsSeen()
    await expect(
      transaction(function* (tx, t) {
        yield* run(tx.insert(t.healthChecks).values({ id: 'a', checkedAt: 1, pid: 1 }))
        throw new Error('the body failed')
      }),
    ).rejects.toThrow('the body failed')
    // a failing statement is thrown at its yield* (the body may catch it); uncaught, it rolls back too
    await expect(
      transaction(function* (tx, t) {
        yield* run(tx.insert(t.healthChecks).values({ id: 'b', checkedAt: 1, pid: 1 }))
        yield* run(tx.insert(t.healthChecks).values({ id: 'b', checkedAt: 1, pid: 1 }))
      }),
    ).rejects.toThrow(/UNIQUE constraint failed/)
    expect(ids()).toEqual([])
    expect(commitsSeen()).toBe(before)
  })

  it('runs after-commit callbacks once after the commit, once per key, and never after a rollback', async () => {
    const calls: string[] = []
    const committed = transaction(function* (tx, t) {
      yield* afterCommit('k', () => calls.push(`first, seeing ${other.prepare('SELECT count(*) FROM health_checks').pluck().get()} row`))
      yield* run(tx.insert(t.healthChecks).values({ id: 'a', checkedAt: 1, pid: 1 }))
      yield* afterCommit('k', () => calls.push('second of the same key'))
      yield* afterCommit('other', () => calls.push('other'))
      expect(calls).toEqual([])
    })
    // the callback ran after COMMIT: the other connection already saw the row
    expect(calls).toEqual(['first, seeing 1 row', 'other'])
    await committed
    await expect(
      transaction(function* () {
        yield* afterCommit('k', () => calls.push('never'))
        throw new Error('rolled back')
      }),
    ).rejects.toThrow('rolled back')
    write((tx) => tx.insert(healthChecks).values({ id: 'b', checkedAt: 1, pid: 1 }).run())
    expect(calls).toEqual(['first, seeing 1 row', 'other'])
  })

  it('refuses a body that is not a generator (an async function or async generator would await)', async () => {
    const asyncBody = (async () => undefined) as unknown as () => Steps<void>
    await expect(transaction(asyncBody)).rejects.toThrow(/generator function/)
    const asyncGenerator = async function* () {} as unknown as () => Steps<void>
    await expect(transaction(asyncGenerator)).rejects.toThrow(/generator function/)
    await expect(read(asyncGenerator)).rejects.toThrow(/generator function/)
  })

  it('reads outside a transaction, and refuses afterCommit there', async () => {
    write((tx) => tx.insert(healthChecks).values([{ id: 'a', checkedAt: 1, pid: 1 }, { id: 'b', checkedAt: 2, pid: 1 }]).run())
    const rows = await read(function* (db, t) {
      return yield* all(db.select({ id: t.healthChecks.id }).from(t.healthChecks).orderBy(t.healthChecks.checkedAt))
    })
    expect(rows).toEqual([{ id: 'a' }, { id: 'b' }])
    await expect(
      read(function* () {
        yield* afterCommit('k', () => undefined)
      }),
    ).rejects.toThrow(/outside a write transaction/)
  })
})

describe('why the bodies are generators, not async functions', () => {
  /**
   * What an async transaction on the one connection would be without a lock that every read
   * and write waits for: BEGIN IMMEDIATE, await the body, COMMIT.
   */
  async function asyncWrite(body: () => Promise<void>): Promise<void> {
    const client = getDb().$client
    client.exec('BEGIN IMMEDIATE')
    try {
      await body()
      client.exec('COMMIT')
    } catch (err) {
      client.exec('ROLLBACK')
      throw err
    }
  }
  const insert = (id: string) => write((tx) => tx.insert(healthChecks).values({ id, checkedAt: 1, pid: 1 }).run())
  const visible = () => getDb().select({ id: healthChecks.id }).from(healthChecks).all().map((r) => r.id)

  it('an async body lets another request write into its transaction and read its uncommitted rows; that write is lost with it', async () => {
    const first = asyncWrite(async () => {
      getDb().run(sql`INSERT INTO health_checks (id, checked_at, pid) VALUES ('first', 1, 1)`)
      // any await, even of a promise already settled, lets other code run on the connection
      await Promise.resolve()
      throw new Error('the first request fails after its await')
    })
    // another request's code, running during that await:
    const seen = visible()
    insert('second') // returns as committed: better-sqlite3 made it a SAVEPOINT of the open transaction
    await expect(first).rejects.toThrow('the first request fails')
    expect(seen).toEqual(['first']) // it saw a row that was never committed
    expect(ids()).toEqual([]) // and the write it was told had committed is gone
  })

  it('a generator body runs to its end before any other code: the other request writes on its own and sees nothing uncommitted', async () => {
    const first = transaction(function* (tx, t) {
      yield* run(tx.insert(t.healthChecks).values({ id: 'first', checkedAt: 1, pid: 1 }))
      yield* get(tx.select().from(t.healthChecks))
      throw new Error('the first request fails')
    })
    const seen = visible()
    insert('second')
    await expect(first).rejects.toThrow('the first request fails')
    expect(seen).toEqual([])
    expect(ids()).toEqual(['second'])
  })
})

describe('the runner on SQLite costs', () => {
  it('the same write body through write() and through the runner writes the same rows (bench/tx-runner.ts prints the ratio)', async () => {
    const figures = await runnerOverhead(t.db, 50)
    expect(figures.rows).toEqual({ direct: 50, runner: 50 })
    expect(figures.directMs).toBeGreaterThan(0)
    expect(figures.runnerMs).toBeGreaterThan(0)
    const lookups = perQuery(t.db, 50)
    expect(lookups.directUs).toBeGreaterThan(0)
    expect(lookups.runnerUs).toBeGreaterThan(0)
  })
})

describe('the lint rule on bodies (eslint no-restricted-syntax)', () => {
  const root = path.resolve(import.meta.dirname, '../..')
  const eslint = new ESLint({ cwd: root })
  const lint = async (code: string) => {
    const [result] = await eslint.lintText(code, { filePath: path.join(root, 'lib/orders/x.ts') })
    return (result?.messages ?? []).filter((m) => m.ruleId === 'no-restricted-syntax').map((m) => m.message)
  }
  const header = "import { eq } from 'drizzle-orm'\nimport { get, transaction } from '@/db/tx'\n"

  it("refuses a builder's own .get() in a body, which would fail on PostgreSQL, and lets yield* get() and a Map's get(key) be", { timeout: 120_000 }, async () => {
    const own = await lint(`${header}export const x = (id: number) => transaction(function* (tx, t) {\n  const row = tx.select().from(t.orders).where(eq(t.orders.id, id)).get()\n  yield* get(tx.select().from(t.orders))\n  return row\n})\n`)
    expect(own.join('\n')).toMatch(/exist on SQLite only/)
    const fine = await lint(`${header}export const x = (id: number, m: Map<number, string>) => transaction(function* (tx, t) {\n  const row = yield* get(tx.select().from(t.orders).where(eq(t.orders.id, id)))\n  return [row, m.get(id)]\n})\n`)
    expect(fine).toEqual([])
    // a helper composed into bodies (its first parameter the body's builder) is held to it too
    const helper = await lint(`${header}import type { Writer, Tables } from '@/db/tx'\nexport function* x(tx: Writer, t: Tables) {\n  yield* get(tx.select().from(t.orders))\n  return tx.select().from(t.orders).all()\n}\n`)
    expect(helper.join('\n')).toMatch(/exist on SQLite only/)
    // a generator that is no body (a CSV stream reading SQLite) is not
    const stream = await lint(`import { getDb } from '@/db'\nimport { orders } from '@/db/schema'\nexport function* x() {\n  yield* getDb().select().from(orders).all()\n}\n`)
    expect(stream).toEqual([])
  })
})
