import { sql, type SQL } from 'drizzle-orm'
import { describe, expect, it } from 'vitest'
import { native, read, sqlAll, sqlGet, sqlRun, transaction, type SqlText } from '@/db/tx'
import { ENGINES, useEngine } from '../support/engines'

// db/tx.ts's raw SQL steps on both engines: one text both accept, or each engine's own where
// they differ; the runner picks the text of the engine in use, and the statement is part of the
// body's transaction (it commits and rolls back with the rest); and a native step, each engine's
// own function on the body's connection.

describe.each(ENGINES)('raw SQL steps on %s', (name) => {
  const engine = useEngine(name)

  it("runs each engine's own text, returning rows under the names the SQL gives them", async () => {
    const inserted = await transaction(function* () {
      return yield* sqlRun(sql`INSERT INTO health_checks (id, checked_at, pid) VALUES ('a', 1, 10), ('b', 2, 20), ('c', 3, 30)`)
    })
    expect(inserted.changes).toBe(3)
    const joined = await read(function* () {
      return yield* sqlGet<{ ids: string; engine: string }>({
        sqlite: sql`SELECT group_concat(id, '+') AS ids, 'sqlite' AS engine FROM (SELECT id FROM health_checks ORDER BY id)`,
        postgres: sql`SELECT string_agg(id, '+' ORDER BY id) AS ids, 'postgres' AS engine FROM health_checks`,
      })
    })
    expect(joined).toEqual({ ids: 'a+b+c', engine: name })
    const rows = await read(function* () {
      return yield* sqlAll<{ id: string; pid: number | string }>(sql`SELECT id, pid FROM health_checks WHERE pid > ${15} ORDER BY id`)
    })
    expect(rows.map((r) => [r.id, Number(r.pid)])).toEqual([
      ['b', 20],
      ['c', 30],
    ])
    expect(await read(() => sqlGet(sql`SELECT id FROM health_checks WHERE id = ${'none'}`))).toBeUndefined()
  })

  it('runs nothing on an engine whose text is null: no rows, no changes', async () => {
    // the text is the other engine's only: on this one the step has nothing to run
    const elsewhere = (text: SQL): SqlText => (name === 'sqlite' ? { sqlite: null, postgres: text } : { sqlite: text, postgres: null })
    const answers = await transaction(function* () {
      const run = yield* sqlRun(elsewhere(sql`INSERT INTO health_checks (id, checked_at, pid) VALUES ('n', 1, 1)`))
      const rows = yield* sqlAll(elsewhere(sql`SELECT 1 AS one`))
      const row = yield* sqlGet(elsewhere(sql`SELECT 1 AS one`))
      return { run, rows, row }
    })
    expect(answers).toEqual({ run: { changes: 0 }, rows: [], row: undefined })
    expect(await engine.count(sql`SELECT count(*) AS n FROM health_checks`)).toBe(0)
  })

  it('rolls a raw statement back with the body that fails after it', async () => {
    await expect(
      transaction(function* () {
        yield* sqlRun(sql`INSERT INTO health_checks (id, checked_at, pid) VALUES ('x', 1, 1)`)
        const { changes } = yield* sqlRun(sql`UPDATE health_checks SET pid = pid + 1 WHERE id = 'x'`)
        expect(changes).toBe(1)
        throw new Error('refused after both statements')
      }),
    ).rejects.toThrow('refused after both statements')
    expect(await engine.count(sql`SELECT count(*) AS n FROM health_checks`)).toBe(0)
  })

  it("runs a native step with the engine's own function on the body's connection, inside its transaction", async () => {
    const insert = (id: string) =>
      native({
        sqlite: (client) => client.prepare(`INSERT INTO health_checks (id, checked_at, pid) VALUES (?, 1, 1) RETURNING 'sqlite' AS engine`).get(id) as { engine: string },
        postgres: async (client) => (await client.query<{ engine: string }>(`INSERT INTO health_checks (id, checked_at, pid) VALUES ($1, 1, 1) RETURNING 'postgres' AS engine`, [id])).rows[0]!,
      })
    expect(await transaction(() => insert('kept'))).toEqual({ engine: name })
    await expect(
      transaction(function* () {
        yield* insert('dropped')
        // the native step's row is visible to the body's next statement: the same transaction
        expect(yield* sqlGet(sql`SELECT id FROM health_checks WHERE id = 'dropped'`)).toEqual({ id: 'dropped' })
        throw new Error('refused after the native step')
      }),
    ).rejects.toThrow('refused after the native step')
    expect(await engine.rows(sql`SELECT id FROM health_checks ORDER BY id`)).toEqual([{ id: 'kept' }])
  })
})
