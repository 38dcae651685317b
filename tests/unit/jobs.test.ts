import { eq } from 'drizzle-orm'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { write } from '@/db'
import { jobs as jobsTable } from '@/db/schema'
import * as jobs from '@/lib/jobs'
import { freshDb, type TestDb } from '../support/db'

let t: TestDb
beforeEach(() => {
  t = freshDb()
})
afterEach(() => t.close())

describe('jobs', () => {
  it('unique keys enqueue a scheduled slot once', () => {
    const slot = new Date('2026-11-24T08:05:00Z')
    jobs.scheduleSlot({ kind: 'reconcile', cron: '*/5 * * * *' }, slot)
    jobs.scheduleSlot({ kind: 'reconcile', cron: '*/5 * * * *' }, slot)
    expect(t.db.select().from(jobsTable).all()).toHaveLength(1)
  })

  it('claims atomically, retries with backoff, and keeps the last error when it gives up', async () => {
    write((tx) => jobs.enqueue(tx, 'flaky', { n: 1 }, { maxAttempts: 2 }))
    let calls = 0
    const handlers = {
      flaky: () => {
        calls++
        throw new Error(`boom ${calls}`)
      },
    }
    expect(await jobs.drain(handlers)).toBe(1)
    let row = t.db.select().from(jobsTable).get()!
    expect(row).toMatchObject({ status: 'queued', attempts: 1, lastError: 'Error: boom 1' })
    expect(row.runAt).toBeGreaterThan(Date.now())
    // not due yet: nothing runs
    expect(await jobs.drain(handlers)).toBe(0)
    write((tx) => tx.update(jobsTable).set({ runAt: 0 }).where(eq(jobsTable.id, row.id)).run())
    await jobs.drain(handlers)
    row = t.db.select().from(jobsTable).get()!
    expect(row).toMatchObject({ status: 'failed', attempts: 2, lastError: 'Error: boom 2' })
  })

  it('reclaims a job whose worker died mid-run', async () => {
    write((tx) => jobs.enqueue(tx, 'work'))
    const claimed = jobs.claim()
    expect(claimed).not.toBeNull()
    expect(jobs.claim()).toBeNull()
    // six minutes later the lock is stale
    const again = jobs.claim(Date.now() + 6 * 60 * 1000)
    expect(again?.id).toBe(claimed!.id)
    expect(again?.attempts).toBe(2)
  })

  it('backoff doubles and is capped', () => {
    expect(jobs.backoffMs(1)).toBe(2000)
    expect(jobs.backoffMs(3)).toBe(8000)
    expect(jobs.backoffMs(30)).toBe(3600_000)
  })
})
