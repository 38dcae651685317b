import { sql } from 'drizzle-orm'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { afterCommit, write } from '@/db'
import { setLogger } from '@/db/guard'
import { freshDb, type TestDb } from '../support/db'

let t: TestDb
beforeEach(() => {
  t = freshDb()
})
afterEach(() => t.close())

const touch = () => write((tx) => tx.run(sql`INSERT INTO health_checks (id, checked_at, pid) VALUES ('t', 1, 1) ON CONFLICT(id) DO UPDATE SET checked_at = checked_at + 1`))

describe('db.write', () => {
  it('refuses an async body and rolls it back', () => {
    expect(() => write(async () => undefined)).toThrow(/synchronous/)
  })

  it('runs after-commit callbacks once the transaction commits, once per key', () => {
    const calls: string[] = []
    write((tx) => {
      tx.run(sql`INSERT INTO health_checks (id, checked_at, pid) VALUES ('a', 1, 1)`)
      afterCommit('k', () => calls.push('first'))
      afterCommit('k', () => calls.push('second'))
      afterCommit('other', () => calls.push('other'))
      expect(calls).toEqual([])
    })
    expect(calls).toEqual(['first', 'other'])
  })

  it('drops the callbacks of a transaction that rolls back', () => {
    const calls: string[] = []
    expect(() =>
      write(() => {
        afterCommit('k', () => calls.push('never'))
        throw new Error('boom')
      }),
    ).toThrow('boom')
    touch()
    expect(calls).toEqual([])
  })

  it('a nested write announces with the outer commit', () => {
    const calls: string[] = []
    write(() => {
      write(() => afterCommit('inner', () => calls.push('inner')))
      expect(calls).toEqual([])
    })
    expect(calls).toEqual(['inner'])
  })

  it('a throwing callback does not undo or fail the committed write, and is logged as one line, not printed with its stack', () => {
    const logged: { message: string; context?: Record<string, unknown> }[] = []
    setLogger({ warn: () => undefined, error: (message, context) => logged.push({ message, context }) })
    try {
      expect(() => write(() => afterCommit('bad', () => { throw new Error('listener') }))).not.toThrow()
    } finally {
      setLogger(undefined)
    }
    expect(logged).toEqual([{ message: 'db: after-commit callback failed', context: { key: 'bad', err: new Error('listener') } }])
  })

  it('afterCommit outside a write is a bug and says so', () => {
    expect(() => afterCommit('k', () => undefined)).toThrow(/outside a write transaction/)
  })
})

describe('the statements drizzle reuses', () => {
  const byId = (id: string) => sql`SELECT id, checked_at AS checkedAt FROM health_checks WHERE id = ${id}`

  it('answers a reused query with the rows of its own parameters and of the latest commit', () => {
    write((tx) => tx.run(sql`INSERT INTO health_checks (id, checked_at, pid) VALUES ('a', 1, 1), ('b', 2, 1)`))
    expect(t.db.get(byId('a'))).toEqual({ id: 'a', checkedAt: 1 })
    expect(t.db.get(byId('b'))).toEqual({ id: 'b', checkedAt: 2 })
    write((tx) => tx.run(sql`UPDATE health_checks SET checked_at = 5 WHERE id = 'a'`))
    expect(t.db.get(byId('a'))).toEqual({ id: 'a', checkedAt: 5 })
  })

  it('gives rows as objects again after the same statement was read as arrays', () => {
    write((tx) => tx.run(sql`INSERT INTO health_checks (id, checked_at, pid) VALUES ('a', 1, 1)`))
    // drizzle switches a statement to raw (array) rows for values() and never switches it back
    expect(t.db.values(byId('a'))).toEqual([['a', 1]])
    expect(t.db.get(byId('a'))).toEqual({ id: 'a', checkedAt: 1 })
    expect(t.db.all(byId('a'))).toEqual([{ id: 'a', checkedAt: 1 }])
  })

  it('leaves the connection itself to code that prepares its own statements', () => {
    const own = t.db.$client.prepare('SELECT count(*) FROM health_checks').pluck()
    t.db.all(sql`SELECT count(*) FROM health_checks`)
    expect(own.get()).toBe(0)
    expect(t.db.all(sql`SELECT count(*) AS n FROM health_checks`)).toEqual([{ n: 0 }])
  })
})
