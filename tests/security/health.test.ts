import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { getDb } from '@/db'
import { GET as up } from '@/app/up/route'
import { PEER_HEADER } from '@/server/contract'
import { resetEnv } from '@/lib/env'
import * as health from '@/lib/platform/health'
import { freshDb, type TestDb } from '../support/db'

// /up is public: it answers from the process's own latest check (one write a second at most,
// whatever the traffic) and shows its details (process id, backup age, lock statistics, the
// reason of a failure) only to the host itself, by the real socket peer, or to a request
// carrying HEALTH_TOKEN.

// SQLite's /up (its journal, its backups, its lock counts), so SQLite whatever the run's
// engine: a run given DATABASE_URL would make /up speak for PostgreSQL (postgres-boot.test.ts).
const runDatabase = process.env.DATABASE_URL
let t: TestDb
beforeEach(() => {
  delete process.env.DATABASE_URL
  t = freshDb()
  process.env.STORAGE_DIR = t.dir
  process.env.HEALTH_TOKEN = 'a-health-token-for-monitoring'
  resetEnv()
})
afterEach(() => {
  health.stopChecking()
  t.close()
  delete process.env.STORAGE_DIR
  delete process.env.HEALTH_TOKEN
  if (runDatabase) process.env.DATABASE_URL = runDatabase
  resetEnv()
})

const request = (headers: Record<string, string>) => new Request('http://shop.test/up', { headers })
const checkedAt = () => (getDb().$client.prepare(`SELECT checked_at AS at FROM health_checks WHERE id = 'up'`).get() as { at: number } | undefined)?.at

describe('/up', () => {
  it('answers a burst from memory: one write for 300 requests within the second', async () => {
    const first = await (await up(request({}))).json()
    expect(first).toEqual({ status: 'ok' })
    const at = checkedAt()
    expect(at).toBeDefined()
    const started = Date.now()
    const statuses = (await Promise.all(Array.from({ length: 300 }, () => up(request({}))))).map((res) => res.status)
    expect(statuses.every((s) => s === 200)).toBe(true)
    // still the first check's row (when the burst fit in the second it was given)
    if (Date.now() - started < health.CHECK_INTERVAL_MS - 100) expect(checkedAt()).toBe(at)
  })

  it('refreshes itself once a second once started, and answers from that', async () => {
    await health.startChecking()
    const at = checkedAt()!
    await new Promise((r) => setTimeout(r, 2 * health.CHECK_INTERVAL_MS + 200))
    expect(checkedAt()!).toBeGreaterThan(at)
    expect((await up(request({}))).status).toBe(200)
  })

  it('shows details to the host itself and to the token, and to nobody who only claims to be local', async () => {
    const local = (await (await up(request({ [PEER_HEADER]: '127.0.0.1' }))).json()) as Record<string, unknown>
    expect(local).toMatchObject({ status: 'ok', engine: 'sqlite', pid: process.pid, journalMode: 'wal' })
    expect(local.details).toHaveProperty('locks')
    expect(await (await up(request({ [PEER_HEADER]: '::1' }))).json()).toHaveProperty('pid')
    expect(await (await up(request({ [PEER_HEADER]: '::ffff:127.0.0.1' }))).json()).toHaveProperty('pid')
    expect(await (await up(request({ [PEER_HEADER]: '203.0.113.9', authorization: 'Bearer a-health-token-for-monitoring' }))).json()).toHaveProperty('pid')
    const claims: Record<string, string>[] = [
      { [PEER_HEADER]: '203.0.113.9', 'x-forwarded-for': '127.0.0.1' },
      { [PEER_HEADER]: '203.0.113.9', 'x-real-ip': '127.0.0.1', host: 'localhost' },
      { [PEER_HEADER]: '203.0.113.9', authorization: 'Bearer wrong-token-of-some-length' },
      { [PEER_HEADER]: '203.0.113.9', authorization: 'a-health-token-for-monitoring' },
      {},
    ]
    for (const claim of claims) {
      const res = await up(request(claim))
      expect(res.status).toBe(200)
      expect(await res.json()).toEqual({ status: 'ok' })
    }
  })
})
