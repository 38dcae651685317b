import { sql } from 'drizzle-orm'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { afterCommit, write } from '@/db'
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

  it('a throwing callback does not undo or fail the committed write', () => {
    expect(() => write(() => afterCommit('bad', () => { throw new Error('listener') }))).not.toThrow()
  })

  it('afterCommit outside a write is a bug and says so', () => {
    expect(() => afterCommit('k', () => undefined)).toThrow(/outside a write transaction/)
  })
})
