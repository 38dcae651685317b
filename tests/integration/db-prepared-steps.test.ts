import { sql } from 'drizzle-orm'
import { describe, expect, it } from 'vitest'
import { preparedAll, preparedGet, read, sqlAll, sqlRun, transaction, type Statement } from '@/db/tx'
import { ENGINES, useEngine } from '../support/engines'

// db/tx.ts's prepared steps on both engines: each engine's own text and placeholders, the
// rows in the statement's one shape, prepared once per connection (on PostgreSQL a named
// statement of the client the body runs on), and part of the body's transaction.

type Check = { id: string; pid: number; isEven: boolean }
const check = (raw: Record<string, unknown>): Check => ({ id: raw.id as string, pid: Number(raw.pid), isEven: Number(raw.isEven) === 1 })

const abovePid: Statement<{ min: number }, Check> = {
  name: 'test.checksAbovePid',
  // each engine's own placeholders: SQLite's named, PostgreSQL's numbered; the modulo differs in spelling only
  sqlite: { text: `SELECT id, pid, (pid % 2 = 0) AS "isEven" FROM health_checks WHERE pid > @min ORDER BY id`, values: ({ min }) => ({ min }), row: check },
  postgres: { text: `SELECT id, pid, mod(pid, 2) = 0 AS "isEven" FROM health_checks WHERE pid > $1 ORDER BY id`, values: ({ min }) => [min], row: check },
}

describe.each(ENGINES)('prepared steps on %s', (name) => {
  useEngine(name)

  it("runs each engine's own text and hands back rows in the statement's shape", async () => {
    await transaction(() => sqlRun(sql`INSERT INTO health_checks (id, checked_at, pid) VALUES ('a', 1, 10), ('b', 2, 21), ('c', 3, 30)`))
    expect(await read(() => preparedAll(abovePid, { min: 15 }))).toEqual([
      { id: 'b', pid: 21, isEven: false },
      { id: 'c', pid: 30, isEven: true },
    ])
    // the same statement again with other values: bound, not prepared again
    expect(await read(() => preparedGet(abovePid, { min: 25 }))).toEqual({ id: 'c', pid: 30, isEven: true })
    expect(await read(() => preparedGet(abovePid, { min: 99 }))).toBeUndefined()
  })

  it('is prepared once per connection', async () => {
    const prepared = await read(function* () {
      yield* preparedAll(abovePid, { min: 0 })
      yield* preparedAll(abovePid, { min: 1 })
      if (name === 'sqlite') return 1
      // on the body's own client: its named statements
      return (yield* sqlAll<{ n: string }>(sql`SELECT count(*) AS n FROM pg_prepared_statements WHERE name = 'test.checksAbovePid'`))[0]!.n
    })
    expect(Number(prepared)).toBe(1)
  })

  it("is part of the body's transaction: sees its rows, and throws into the body where it failed", async () => {
    const seen = await transaction(function* () {
      yield* sqlRun(sql`INSERT INTO health_checks (id, checked_at, pid) VALUES ('x', 1, 100)`)
      return yield* preparedAll(abovePid, { min: 50 })
    })
    expect(seen.map((r) => r.id)).toEqual(['x'])
    const broken: Statement<void, unknown> = {
      name: 'test.broken',
      sqlite: { text: 'SELECT missing FROM no_such_table', values: () => [], row: (raw) => raw },
      postgres: { text: 'SELECT missing FROM no_such_table', values: () => [], row: (raw) => raw },
    }
    const caught = await read(function* () {
      try {
        yield* preparedAll(broken, undefined)
        return 'no error'
      } catch (err) {
        return String(err)
      }
    })
    expect(caught).toMatch(/no_such_table/)
  })

  it("takes SQLite's side as several statements, each prepared once per connection", async () => {
    await transaction(() => sqlRun(sql`INSERT INTO health_checks (id, checked_at, pid) VALUES ('a', 1, 10), ('b', 2, 21), ('c', 3, 30)`))
    const prepared = new Set<unknown>()
    const twoSteps: Statement<{ min: number }, Check> = {
      name: 'test.checksInTwoSteps',
      sqlite: {
        run: (prepare, { min }) => {
          const ids = prepare('SELECT id FROM health_checks WHERE pid > ? ORDER BY id').pluck().all(min) as string[]
          const byId = prepare('SELECT id, pid, (pid % 2 = 0) AS "isEven" FROM health_checks WHERE id IN (SELECT value FROM json_each(?))')
          prepared.add(byId)
          const rows = new Map((byId.all(JSON.stringify(ids)) as Record<string, unknown>[]).map((r) => [r.id, check(r)]))
          return ids.map((id) => rows.get(id)!)
        },
      },
      postgres: abovePid.postgres,
    }
    const rows = await read(function* () {
      const first = yield* preparedAll(twoSteps, { min: 15 })
      const again = yield* preparedGet(twoSteps, { min: 25 })
      return { first, again }
    })
    expect(rows).toEqual({
      first: [
        { id: 'b', pid: 21, isEven: false },
        { id: 'c', pid: 30, isEven: true },
      ],
      again: { id: 'c', pid: 30, isEven: true },
    })
    expect(prepared.size).toBe(name === 'sqlite' ? 1 : 0)
  })
})
