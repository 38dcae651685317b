import { afterAll, beforeAll, expect, it } from 'vitest'
import type { ChangeRow } from '@/db/catalog-changes'
import { ChangeListener, recordCatalogChanged } from '@/db/pg/changes'
import { migrate } from '@/db/pg/migrate'
import { PrimaryPool } from '@/db/pg/primary'
import { transaction } from '@/db/pg/transaction'
import { parseDatabaseUrl } from '@/db/pg/url'
import { FAILOVER_BOUND_MS, startCluster, type Cluster } from '../support/patroni'

// The change feed of db/pg/changes.ts on a three-member Patroni cluster with synchronous
// replication (tests/support/patroni.ts): four writers record changes through the
// primary-following pool while a listener on a PrimaryPool of its own hears them; the leader
// is SIGKILLed. The listener must follow the primary and hand on every change the new leader
// holds, once and in id order, having missed the notifications of the failover. Also prints
// how long a change holds the change lock when COMMIT waits for the synchronous standby
// (decision 044). `npm run test:failover:cluster`.

const WRITERS = 4
const WRITE_BEFORE_KILL_MS = 3_000
const WRITE_AFTER_RESUME_MS = 3_000

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms))

let cluster: Cluster | undefined
const closers: (() => Promise<void>)[] = []

beforeAll(async () => {
  cluster = await startCluster()
  await cluster.waitForHealthy(120_000)
}, 150_000)

afterAll(async () => {
  for (const close of closers.reverse()) await close().catch(() => {})
  await cluster?.stop()
}, 60_000)

function percentile(values: number[], p: number): number {
  const sorted = [...values].sort((a, b) => a - b)
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)] ?? NaN
}

it('a listener following the primary hears every change the new leader holds, once and in id order, after the leader is killed', async () => {
  const c = cluster!
  const url = parseDatabaseUrl(c.url)
  const writers = new PrimaryPool(url, { max: WRITERS + 1, waitForPrimaryMillis: FAILOVER_BOUND_MS })
  closers.push(() => writers.end())
  await migrate(writers)

  const listening = new PrimaryPool(url, { max: 1, waitForPrimaryMillis: FAILOVER_BOUND_MS })
  closers.push(() => listening.end())
  const heard: (ChangeRow & { at: number })[] = []
  const listener = new ChangeListener(listening, {
    origin: 'server-l',
    onChanges: (rows) => {
      const at = Date.now()
      for (const row of rows) heard.push({ ...row, at })
    },
  })
  closers.push(() => listener.close())
  await listener.ready

  // The lock alone first: one change at a time, so the time is one turn, with no waiting.
  const alone: number[] = []
  for (let n = 0; n < 50; n++) {
    let asked = 0
    await transaction(writers, (client) => {
      asked = performance.now()
      return recordCatalogChanged(client, 'server-alone')
    })
    alone.push(performance.now() - asked)
  }

  const acknowledged: number[] = []
  const held: number[] = []
  const clock: { killedAt?: number; resumedAt?: number; firstIdAfter?: number } = {}
  let failed = 0
  let isWriting = true
  const writer = async (n: number) => {
    while (isWriting) {
      const startedAt = Date.now()
      try {
        let asked = 0
        const rows = await transaction(writers, (client) => {
          asked = performance.now()
          return recordCatalogChanged(client, `server-${n}`)
        })
        if (clock.killedAt === undefined) held.push(performance.now() - asked)
        acknowledged.push(rows[0]!.id)
        if (clock.killedAt !== undefined && startedAt >= clock.killedAt && clock.resumedAt === undefined) {
          clock.resumedAt = Date.now()
          clock.firstIdAfter = rows[0]!.id
        }
      } catch {
        // a lost primary, or a COMMIT whose reply was lost: the row may or may not be there,
        // and the listener must agree with the new leader either way
        failed++
        await sleep(50)
      }
    }
  }
  const writing = Promise.all(Array.from({ length: WRITERS }, (_, n) => writer(n)))
  let killedAt: number
  try {
    await sleep(WRITE_BEFORE_KILL_MS)
    const before = acknowledged.length
    ;({ killedAt } = await c.killLeader())
    clock.killedAt = killedAt
    console.log(
      `changes: change lock held (asked → COMMIT answered, synchronous standby): one change at a time p50 ${percentile(alone, 50).toFixed(1)} ms, ` +
        `p99 ${percentile(alone, 99).toFixed(1)} ms; ${WRITERS} writers flat out ${before} changes in ${WRITE_BEFORE_KILL_MS} ms, each waiting and holding ` +
        `p50 ${percentile(held, 50).toFixed(1)} ms, p99 ${percentile(held, 99).toFixed(1)} ms`,
    )
    while (clock.resumedAt === undefined && Date.now() - killedAt < FAILOVER_BOUND_MS) await sleep(50)
    if (clock.resumedAt === undefined) throw new Error(`no change recorded within ${FAILOVER_BOUND_MS} ms of the kill`)
    await sleep(WRITE_AFTER_RESUME_MS)
  } finally {
    isWriting = false
    await writing
  }

  const onLeader = (await writers.query<{ id: string }>('SELECT id FROM catalog_changes ORDER BY id')).rows.map((r) => Number(r.id))
  const deadline = Date.now() + 30_000
  while (listener.lastSeenId !== onLeader.at(-1) && Date.now() < deadline) await sleep(50)
  // the first change written after the failover, as the listener heard it
  const heardAgainAt = heard.find((row) => row.id >= clock.firstIdAfter!)?.at
  console.log(
    `changes: writes resumed ${clock.resumedAt! - killedAt!} ms after the kill, the listener heard again ${heardAgainAt === undefined ? 'never' : `${heardAgainAt - killedAt!} ms`} after it; ` +
      `${acknowledged.length} acknowledged after the first 50, ${onLeader.length} on the new leader, ${heard.length} handed on; ${failed} failed attempts; listener connections ${listener.connections}`,
  )
  const onLeaderSet = new Set(onLeader)
  expect(acknowledged.filter((id) => !onLeaderSet.has(id)), 'acknowledged changes lost').toEqual([])
  expect(heard.map((row) => row.id)).toEqual(onLeader)
  expect(listener.connections).toBeGreaterThanOrEqual(2)
})
