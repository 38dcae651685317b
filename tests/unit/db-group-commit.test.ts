import Database from 'better-sqlite3'
import { sql } from 'drizzle-orm'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { afterCommit, writeGrouped } from '@/db'
import { freshDb, type TestDb } from '../support/db'

// db.writeGrouped: bodies handed in during one turn share one BEGIN IMMEDIATE and one COMMIT,
// each in its own SAVEPOINT (docs/decisions/046-webhook-group-commit.md). A second
// connection on the same file stands in for another process: it sees only what committed.

let t: TestDb
let other: Database.Database
beforeEach(() => {
  t = freshDb()
  other = new Database(t.file, { readonly: true })
})
afterEach(() => {
  other.close()
  t.close()
})

const insert = (id: string) => (tx: Parameters<Parameters<typeof writeGrouped>[0]>[0]) => tx.run(sql`INSERT INTO health_checks (id, checked_at, pid) VALUES (${id}, 1, 1)`)
const committed = () => (other.prepare('SELECT id FROM health_checks ORDER BY id').pluck().all() as string[]).filter((id) => id.startsWith('g-'))

describe('db.writeGrouped', () => {
  it('runs the bodies handed in together in one transaction, and settles each only after its COMMIT', async () => {
    const seenByOthers: string[][] = []
    const settledSeeing: string[][] = []
    const writes = ['g-1', 'g-2', 'g-3'].map((id) =>
      writeGrouped((tx) => {
        seenByOthers.push(committed())
        insert(id)(tx)
        return id
      }).then((value) => {
        settledSeeing.push(committed())
        return value
      }),
    )
    expect(committed()).toEqual([])
    expect(await Promise.all(writes)).toEqual(['g-1', 'g-2', 'g-3'])
    // Each body ran before anything of the group had committed: one transaction, not three.
    expect(seenByOthers).toEqual([[], [], []])
    // No caller heard back before the whole group was durable and visible to other connections.
    expect(settledSeeing).toEqual([
      ['g-1', 'g-2', 'g-3'],
      ['g-1', 'g-2', 'g-3'],
      ['g-1', 'g-2', 'g-3'],
    ])
  })

  it('a body that throws is rolled back alone: its promise rejects, the others commit, and only their after-commit callbacks run', async () => {
    const announced: string[] = []
    const body = (id: string, fails = false) =>
      writeGrouped((tx) => {
        insert(id)(tx)
        afterCommit(id, () => announced.push(id))
        if (fails) throw new Error(`${id} failed`)
        return id
      })
    const results = await Promise.allSettled([body('g-1'), body('g-2', true), body('g-3')])
    expect(results.map((r) => r.status)).toEqual(['fulfilled', 'rejected', 'fulfilled'])
    expect((results[1] as PromiseRejectedResult).reason).toEqual(new Error('g-2 failed'))
    expect(committed()).toEqual(['g-1', 'g-3'])
    expect(announced).toEqual(['g-1', 'g-3'])
  })

  it('a failure that ends the whole transaction (SQLite rolled it back) fails every member and commits none of them', async () => {
    // What SQLite does on its own after an I/O error or a full disk: the transaction is gone,
    // the bodies before it with it, and a body after it must not commit statement by statement.
    const results = await Promise.allSettled([
      writeGrouped(insert('g-1')),
      writeGrouped((tx) => {
        insert('g-2')(tx)
        tx.run(sql`ROLLBACK`)
        throw new Error('disk I/O error')
      }),
      writeGrouped(insert('g-3')),
    ])
    expect(results.map((r) => r.status)).toEqual(['rejected', 'rejected', 'rejected'])
    expect((results[0] as PromiseRejectedResult).reason).toEqual(new Error('disk I/O error'))
    expect(committed()).toEqual([])
    expect(t.db.$client.inTransaction).toBe(false)
    // The connection is usable again afterwards.
    await writeGrouped(insert('g-4'))
    expect(committed()).toEqual(['g-4'])
  })

  it('commits a burst larger than one group in several, every write answered', async () => {
    const ids = Array.from({ length: 150 }, (_, i) => `g-${String(i).padStart(3, '0')}`)
    await Promise.all(ids.map((id) => writeGrouped(insert(id))))
    expect(committed()).toEqual(ids)
  })

  it('refuses an async body like write(), failing only that member', async () => {
    const results = await Promise.allSettled([writeGrouped(insert('g-1')), writeGrouped(async () => undefined), writeGrouped(insert('g-3'))])
    expect(results.map((r) => r.status)).toEqual(['fulfilled', 'rejected', 'fulfilled'])
    expect(String((results[1] as PromiseRejectedResult).reason)).toMatch(/synchronous/)
    expect(committed()).toEqual(['g-1', 'g-3'])
  })
})
