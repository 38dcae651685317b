import fs from 'node:fs'
import path from 'node:path'
import Database from 'better-sqlite3'
import { afterEach, describe, expect, it } from 'vitest'
import { readMigrations } from '@/db/migrate'
import { startServer, tempStorage, upWhenDown, type ServerHandle } from '../support/server'

// These boot the real production build (npm run build runs before this suite).
const servers: ServerHandle[] = []
afterEach(async () => {
  await Promise.all(servers.splice(0).map((s) => s.stop()))
})

describe('booting the production server', () => {
  it('two processes booting at once on an empty STORAGE_DIR both become healthy and migrate once', async () => {
    const storageDir = tempStorage('till-boot-')
    const [a, b] = await Promise.all([startServer({ storageDir }), startServer({ storageDir })])
    servers.push(a!, b!)
    for (const server of [a!, b!]) {
      const res = await fetch(`${server.url}/up`)
      expect(res.status).toBe(200)
      const body = (await res.json()) as { status: string; schemaVersion: number; journalMode: string }
      expect(body.status).toBe('ok')
      expect(body.schemaVersion).toBe(readMigrations().length)
      expect(body.journalMode).toBe('wal')
    }
    const sqlite = new Database(path.join(storageDir, 'store.sqlite3'), { readonly: true })
    try {
      const applied = sqlite.prepare('SELECT created_at FROM __drizzle_migrations ORDER BY created_at').all() as { created_at: number }[]
      expect(applied.map((r) => Number(r.created_at))).toEqual(readMigrations().map((m) => m.createdAt))
      expect(sqlite.pragma('journal_mode', { simple: true })).toBe('wal')
      // the demo catalog was seeded once, not twice
      const { n, slugs } = sqlite.prepare('SELECT count(*) AS n, count(DISTINCT slug) AS slugs FROM products').get() as { n: number; slugs: number }
      expect(n).toBe(slugs)
      expect(n).toBeGreaterThanOrEqual(24)
    } finally {
      sqlite.close()
    }
  })

  it('/up answers 503 with the reason while the database cannot be written', async () => {
    // No job worker: its own writes would queue behind the lock too and slow the test down.
    const server = await startServer({ env: { JOBS: 'off' } })
    servers.push(server)
    expect((await fetch(`${server.url}/up`)).status).toBe(200)
    // Another connection holds the write lock longer than busy_timeout (5 s).
    const blocker = new Database(path.join(server.storageDir, 'store.sqlite3'))
    blocker.pragma('busy_timeout = 1000')
    blocker.exec('BEGIN EXCLUSIVE')
    try {
      // /up answers from the process's own check, made once a second (lib/health.ts)
      const res = await upWhenDown(server.url)
      expect(res.status).toBe(503)
      const body = (await res.json()) as { status: string; reason: string }
      expect(body.status).toBe('error')
      expect(body.reason).toMatch(/locked|busy/i)
    } finally {
      blocker.exec('ROLLBACK')
      blocker.close()
    }
    await expect.poll(async () => (await fetch(`${server.url}/up`)).status, { timeout: 15_000, interval: 250 }).toBe(200)
  })

  it('refuses to start with a bad APP_URL and names it', async () => {
    const server = await startServer({ env: { APP_URL: 'notaurl' }, waitForHealthy: false })
    servers.push(server)
    const code = await new Promise<number | null>((resolve) => {
      if (server.process.exitCode !== null) resolve(server.process.exitCode)
      server.process.once('exit', (c) => resolve(c))
    })
    expect(code).not.toBe(0)
    expect(server.output()).toMatch(/APP_URL/)
    expect(fs.existsSync(path.join(server.storageDir, 'store.sqlite3'))).toBe(false)
    // checked before Next starts, so the log never claims it was ready, and it says what is right
    expect(server.output()).toMatch(/^till: cannot start\./m)
    expect(server.output()).not.toMatch(/Ready|Starting/)
    expect(server.output()).toContain('e.g. APP_URL=https://shop.example.com')
  })
})
