import { eq } from 'drizzle-orm'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { write } from '@/db'
import { jobs as jobsTable, leases } from '@/db/schema'
import * as jobs from '@/lib/jobs'
import { freshDb, type TestDb } from '../support/db'

let t: TestDb
beforeEach(() => {
  t = freshDb()
})
afterEach(async () => {
  await jobs.currentWorker()?.stop(0)
  t.close()
})

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms))

function row(id?: number) {
  const q = t.db.select().from(jobsTable)
  return (id === undefined ? q : q.where(eq(jobsTable.id, id))).get()!
}

async function until(predicate: () => boolean, timeoutMs = 5000): Promise<void> {
  const deadline = Date.now() + timeoutMs
  while (!predicate()) {
    if (Date.now() > deadline) throw new Error('condition not met in time')
    await sleep(10)
  }
}

describe('jobs', () => {
  it('unique keys enqueue a scheduled slot once', async () => {
    const slot = new Date('2026-11-24T08:05:00Z')
    await jobs.scheduleSlot({ kind: 'reconcile', cron: '*/5 * * * *' }, slot)
    await jobs.scheduleSlot({ kind: 'reconcile', cron: '*/5 * * * *' }, slot)
    expect(t.db.select().from(jobsTable).all()).toHaveLength(1)
    expect(row()).toMatchObject({ uniqueKey: 'reconcile:2026-11-24T08:05:00.000Z', payload: { slot: '2026-11-24T08:05:00.000Z' } })
  })

  it('keys a slot by its scheduled time, not by when each process’s timer fired', async () => {
    // Two processes' timers fire a few milliseconds apart, and late; both mean 08:05.
    const a = jobs.slotOf('*/5 * * * *', new Date('2026-11-24T08:05:00.000Z'))
    const b = jobs.slotOf('*/5 * * * *', new Date('2026-11-24T08:05:00.347Z'))
    const late = jobs.slotOf('*/5 * * * *', new Date('2026-11-24T08:06:12.010Z'))
    expect(a.toISOString()).toBe('2026-11-24T08:05:00.000Z')
    expect(b.toISOString()).toBe(a.toISOString())
    expect(late.toISOString()).toBe(a.toISOString())
    // a seconds-resolution cron truncates to its own second
    expect(jobs.slotOf('*/2 * * * * *', new Date('2026-11-24T08:05:03.900Z')).toISOString()).toBe('2026-11-24T08:05:02.000Z')
    for (const firedAt of [a, b, late]) await jobs.scheduleSlot({ kind: 'reconcile', cron: '*/5 * * * *' }, jobs.slotOf('*/5 * * * *', firedAt))
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
    let job = row()
    expect(job).toMatchObject({ status: 'queued', attempts: 1, lastError: 'Error: boom 1', heartbeatAt: null, lockedBy: null })
    expect(job.runAt).toBeGreaterThan(Date.now())
    // not due yet: nothing runs
    expect(await jobs.drain(handlers)).toBe(0)
    write((tx) => tx.update(jobsTable).set({ runAt: 0 }).where(eq(jobsTable.id, job.id)).run())
    await jobs.drain(handlers)
    job = row()
    expect(job).toMatchObject({ status: 'failed', attempts: 2, lastError: 'Error: boom 2' })
  })

  it('reclaims a running job once its heartbeat has stopped for STALE_MS, not before', async () => {
    write((tx) => jobs.enqueue(tx, 'work'))
    const now = Date.now()
    const claimed = await jobs.claim(now)
    expect(claimed).not.toBeNull()
    expect(row(claimed!.id)).toMatchObject({ status: 'running', heartbeatAt: now })
    expect(await jobs.claim(now)).toBeNull()
    // six minutes of running alone is no reason: the old fixed lock age is gone
    expect(await jobs.heartbeat(claimed!, now + 6 * 60 * 1000)).toBe(true)
    expect(await jobs.claim(now + 6 * 60 * 1000 + jobs.STALE_MS - 1)).toBeNull()
    // the heartbeat stops: after STALE_MS the job is taken back and run again
    const again = await jobs.claim(now + 6 * 60 * 1000 + jobs.STALE_MS + 1)
    expect(again?.id).toBe(claimed!.id)
    expect(again?.attempts).toBe(2)
  })

  it('keeps the five-minute rule for a row claimed by a release without heartbeats', async () => {
    write((tx) => jobs.enqueue(tx, 'work'))
    const now = Date.now()
    // what an older release writes when it claims: locked_at, no heartbeat_at
    write((tx) => tx.update(jobsTable).set({ status: 'running', lockedAt: now, lockedBy: 'old-release', attempts: 1 }).run())
    expect(await jobs.claim(now + 60_000)).toBeNull()
    expect((await jobs.claim(now + 5 * 60 * 1000 + 1))?.attempts).toBe(2)
  })

  it('does not reclaim a long job whose heartbeat is live; does reclaim one whose heartbeat stopped', async () => {
    write((tx) => jobs.enqueue(tx, 'long'))
    let release!: () => void
    const handlerDone = new Promise<void>((r) => (release = r))
    // the handler runs far longer than the stale threshold; the heartbeat keeps it ours
    // (generous against a loaded machine: a stalled event loop delays beats and checks alike)
    const staleMs = 400
    const running = jobs.drain({ long: () => handlerDone }, 1, 25)
    await until(() => row().status === 'running')
    const started = Date.now()
    let checks = 0
    while (Date.now() - started < staleMs * 4) {
      expect(await jobs.claim(Date.now(), staleMs)).toBeNull()
      checks++
      await sleep(30)
    }
    expect(checks).toBeGreaterThan(5)
    expect(row()).toMatchObject({ status: 'running', attempts: 1 })
    expect(Date.now() - row().heartbeatAt!).toBeLessThan(staleMs)
    release()
    await running
    expect(row()).toMatchObject({ status: 'done', attempts: 1, heartbeatAt: null })

    // a claim with no handler beating for it: its process died right after claiming
    write((tx) => jobs.enqueue(tx, 'orphan'))
    const orphan = (await jobs.claim(Date.now(), staleMs))!
    expect(await jobs.claim(Date.now(), staleMs)).toBeNull()
    await sleep(staleMs + 50)
    const reclaimed = await jobs.claim(Date.now(), staleMs)
    expect(reclaimed).toMatchObject({ id: orphan.id, attempts: 2 })
  })

  it('a process that lost its job cannot overwrite the new holder’s outcome', async () => {
    write((tx) => jobs.enqueue(tx, 'work'))
    const claimed = (await jobs.claim())!
    // another process reclaimed it and holds it now
    write((tx) => tx.update(jobsTable).set({ lockedBy: 'someone-else' }).where(eq(jobsTable.id, claimed.id)).run())
    expect(await jobs.heartbeat(claimed)).toBe(false)
    expect(await jobs.complete(claimed)).toBe(false)
    expect(await jobs.fail(claimed, new Error('late'))).toBe(false)
    expect(row(claimed.id)).toMatchObject({ status: 'running', lockedBy: 'someone-else', lastError: null })
  })

  it('a process that took its own stale job back cannot finish the new attempt with the old one', async () => {
    write((tx) => jobs.enqueue(tx, 'work'))
    const now = Date.now()
    const first = (await jobs.claim(now, 1_000))!
    // this process stalled past the stale threshold and claimed the job again
    const second = (await jobs.claim(now + 1_001, 1_000))!
    expect(second).toMatchObject({ id: first.id, attempts: 2 })
    expect(await jobs.heartbeat(first, now + 1_002)).toBe(false)
    expect(await jobs.fail(first, new Error('late'), now + 1_003)).toBe(false)
    expect(await jobs.complete(first)).toBe(false)
    expect(row(first.id)).toMatchObject({ status: 'running', attempts: 2, lastError: null })
    expect(await jobs.complete(second)).toBe(true)
    expect(row(first.id)).toMatchObject({ status: 'done', attempts: 2 })
  })

  it('runs a scheduled kind under its lease, and skips a slot while another holder has it', async () => {
    let runs = 0
    const handlers = jobs.underLeases({ tidy: () => void runs++ }, ['tidy'], 10_000)
    const other = await jobs.lease.tryAcquire('tidy', 10_000)
    expect(other).not.toBeNull()
    await jobs.scheduleSlot({ kind: 'tidy', cron: '* * * * *' }, new Date('2026-11-24T08:05:00Z'))
    await jobs.drain(handlers)
    expect(runs).toBe(0)
    expect(row()).toMatchObject({ status: 'done' })
    await jobs.lease.release(other!)
    await jobs.scheduleSlot({ kind: 'tidy', cron: '* * * * *' }, new Date('2026-11-24T08:06:00Z'))
    await jobs.drain(handlers)
    expect(runs).toBe(1)
    // released afterwards: the next slot need not wait for the TTL
    expect(await jobs.lease.holderOf('tidy')).toBeUndefined()
  })

  it('a leased kind enqueued for its own reason (the boot reconcile) waits for the lease instead of skipping', async () => {
    let runs = 0
    const handlers = jobs.underLeases({ tidy: () => void runs++ }, ['tidy'], 10_000)
    const other = (await jobs.lease.tryAcquire('tidy', 10_000))!
    write((tx) => jobs.enqueue(tx, 'tidy', { reason: 'boot' }))
    await jobs.drain(handlers)
    expect(runs).toBe(0)
    // back in the queue until the holder's lease would expire; the attempt is not counted
    expect(row()).toMatchObject({ status: 'queued', attempts: 0, runAt: other.expiresAt, lastError: null })
    await jobs.lease.release(other)
    write((tx) => tx.update(jobsTable).set({ runAt: 0 }).run())
    await jobs.drain(handlers)
    expect(runs).toBe(1)
    expect(row()).toMatchObject({ status: 'done', attempts: 1 })
  })

  it('stop() lets the job in hand finish and claims nothing after it', async () => {
    let release!: () => void
    const gate = new Promise<void>((r) => (release = r))
    const ran: number[] = []
    write((tx) => {
      jobs.enqueue(tx, 'slow', { n: 1 })
      jobs.enqueue(tx, 'slow', { n: 2 })
    })
    const worker = jobs.startWorker({ slow: async (payload) => void (await gate, ran.push(Number(payload.n))) }, [], { pollMs: 10 })
    await until(() => row().status === 'running')
    const stopping = worker.stop(5000)
    await sleep(50)
    release()
    expect(await stopping).toEqual({ finished: true })
    expect(ran).toEqual([1])
    expect(await jobs.list('done')).toHaveLength(1)
    expect(await jobs.list('queued')).toHaveLength(1)
  })

  it('stop() hands a job that outlives the timeout back to the queue, due now', async () => {
    let release!: () => void
    const gate = new Promise<void>((r) => (release = r))
    write((tx) => jobs.enqueue(tx, 'stuck'))
    const worker = jobs.startWorker({ stuck: () => gate }, [], { pollMs: 10 })
    await until(() => row().status === 'running')
    expect(await worker.stop(100)).toEqual({ finished: false })
    const job = row()
    expect(job).toMatchObject({ status: 'queued', lockedBy: null, heartbeatAt: null, attempts: 1 })
    expect(job.runAt).toBeLessThanOrEqual(Date.now())
    // when the abandoned handler does return, it finds the job no longer its own
    release()
    await sleep(20)
    expect(row()).toMatchObject({ status: 'queued' })
  })

  it('backoff doubles and is capped', () => {
    expect(jobs.backoffMs(1)).toBe(2000)
    expect(jobs.backoffMs(3)).toBe(8000)
    expect(jobs.backoffMs(30)).toBe(3600_000)
  })
})

describe('leases', () => {
  const { lease } = jobs

  it('one holder at a time; an expired lease is taken over and its old holder cannot renew it', async () => {
    const now = Date.now()
    const a = await lease.tryAcquire('backup', 1000, now)
    expect(a).not.toBeNull()
    expect(await lease.tryAcquire('backup', 1000, now + 999)).toBeNull()
    expect(await jobs.lease.renew(a!, 1000, now + 500)).toBe(true)
    expect(await lease.tryAcquire('backup', 1000, now + 1499)).toBeNull()
    // a stops renewing (died, or froze): once expired, b takes over
    const b = await lease.tryAcquire('backup', 1000, now + 1500)
    expect(b).not.toBeNull()
    expect((await lease.holderOf('backup'))?.holder).toBe(b!.holder)
    expect(await jobs.lease.renew(a!, 1000, now + 1600)).toBe(false)
    // a's release does not free b's lease
    await lease.release(a!)
    expect((await lease.holderOf('backup'))?.holder).toBe(b!.holder)
    await lease.release(b!)
    expect(await lease.holderOf('backup')).toBeUndefined()
  })

  it('withLease renews while the work runs, excludes overlapping runs, and releases at the end', async () => {
    const ttlMs = 400
    let blocked = 0
    const result = await lease.withLease('backup', ttlMs, async () => {
      // several TTLs long: only renewal keeps others out
      for (let i = 0; i < 6; i++) {
        expect(await lease.tryAcquire('backup', ttlMs)).toBeNull()
        const overlapping = await lease.withLease('backup', ttlMs, () => 'ran')
        expect(overlapping.acquired).toBe(false)
        blocked++
        await sleep(ttlMs / 2)
      }
      return 'done'
    })
    expect(result).toEqual({ acquired: true, value: 'done' })
    expect(blocked).toBe(6)
    expect(await lease.holderOf('backup')).toBeUndefined()
  })

  it('withLease aborts its signal when the lease is taken over', async () => {
    const result = await lease.withLease('backup', 150, async (signal) => {
      // this process stalled past the TTL and someone else took the task over
      write((tx) => tx.update(leases).set({ holder: 'intruder' }).where(eq(leases.name, 'backup')).run())
      await until(() => signal.aborted, 2000)
      return signal.reason instanceof Error ? signal.reason.message : String(signal.reason)
    })
    expect(result).toEqual({ acquired: true, value: 'lease "backup" was taken over' })
    // the intruder's row is left alone
    expect((await lease.holderOf('backup'))?.holder).toBe('intruder')
  })
})
