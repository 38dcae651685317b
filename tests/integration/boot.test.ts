import fs from 'node:fs'
import net from 'node:net'
import path from 'node:path'
import Database from 'better-sqlite3'
import { afterEach, describe, expect, it } from 'vitest'
import { readMigrations } from '@/db/migrate'
import { pgMigrationsFolder } from '@/db/pg/migrate'
import { sharedDatabase } from '../support/running-store'
import { freePort, startServer, tempStorage, upWhenDown, type ServerHandle } from '../support/server'
import { storeRows } from '../support/store-file'

// These boot the real production build (npm run build runs before this suite).
const servers: ServerHandle[] = []

/** The exit code of a server expected to refuse to start. */
function exitOf(server: ServerHandle): Promise<number | null> {
  return new Promise((resolve) => {
    if (server.process.exitCode !== null) resolve(server.process.exitCode)
    server.process.once('exit', (c) => resolve(c))
  })
}
afterEach(async () => {
  await Promise.all(servers.splice(0).map((s) => s.stop()))
})

describe('booting the production server', () => {
  it('two processes booting at once on an empty STORAGE_DIR both become healthy and migrate once', async () => {
    const storageDir = tempStorage('till-boot-')
    const env = await sharedDatabase()
    const [a, b] = await Promise.all([startServer({ storageDir, env }), startServer({ storageDir, env })])
    servers.push(a!, b!)
    const db = storeRows(storageDir)
    const known = readMigrations(db.engine === 'postgres' ? pgMigrationsFolder() : undefined)
    for (const server of [a!, b!]) {
      const res = await fetch(`${server.url}/up`)
      expect(res.status).toBe(200)
      const body = (await res.json()) as { status: string; engine: string; schemaVersion: number; journalMode?: string }
      expect(body).toMatchObject({ status: 'ok', engine: db.engine, schemaVersion: known.length })
      // SQLite's journal; PostgreSQL has none to report
      expect(body.journalMode).toBe(db.engine === 'sqlite' ? 'wal' : undefined)
    }
    try {
      const migrations = db.engine === 'postgres' ? 'drizzle.__drizzle_migrations' : '__drizzle_migrations'
      const applied = await db.all<{ created_at: number }>(`SELECT created_at FROM ${migrations} ORDER BY created_at`)
      expect(applied.map((r) => Number(r.created_at))).toEqual(known.map((m) => m.createdAt))
      if (db.engine === 'sqlite') expect(await db.get('PRAGMA journal_mode')).toEqual({ journal_mode: 'wal' })
      else expect(fs.existsSync(path.join(storageDir, 'store.sqlite3'))).toBe(false)
      // the demo catalog was seeded once, not twice
      const { n, slugs } = (await db.get<{ n: number; slugs: number }>('SELECT count(*) AS n, count(DISTINCT slug) AS slugs FROM products'))!
      expect(n).toBe(slugs)
      expect(n).toBeGreaterThanOrEqual(24)
    } finally {
      await db.close()
    }
  })

  it('/up answers 503 with the reason while the database cannot be written', async () => {
    // No job worker: its own writes would queue behind the lock too and slow the test down.
    // SQLite's write lock held by another process; PostgreSQL's outages: postgres-outage.test.ts.
    const server = await startServer({ engine: 'sqlite', env: { JOBS: 'off' } })
    servers.push(server)
    expect((await fetch(`${server.url}/up`)).status).toBe(200)
    // Another connection holds the write lock longer than busy_timeout (5 s).
    const blocker = new Database(path.join(server.storageDir, 'store.sqlite3'))
    blocker.pragma('busy_timeout = 1000')
    blocker.exec('BEGIN EXCLUSIVE')
    try {
      // /up answers from the process's own check, made once a second (lib/platform/health.ts)
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
    const code = await exitOf(server)
    expect(code).not.toBe(0)
    expect(server.output()).toMatch(/APP_URL/)
    expect(fs.existsSync(path.join(server.storageDir, 'store.sqlite3'))).toBe(false)
    // checked before Next starts, so the log never claims it was ready, and it says what is right
    expect(server.output()).toMatch(/^till: cannot start\./m)
    expect(server.output()).not.toMatch(/Ready|Starting/)
    expect(server.output()).toContain('e.g. APP_URL=https://shop.example.com')
  })

  it('says in plain words that the port is taken, and how to choose another', async () => {
    const port = await freePort()
    const holder = net.createServer()
    await new Promise<void>((resolve) => holder.listen(port, '127.0.0.1', resolve))
    try {
      const server = await startServer({ port, waitForHealthy: false })
      servers.push(server)
      const code = await exitOf(server)
      expect(code).toBe(1)
      expect(server.output()).toContain(`till: cannot start.\n  - PORT: port ${port} is already in use`)
      expect(server.output()).toMatch(/choose a free port, e\.g\. PORT=\d+ npm run demo/)
      expect(server.output()).not.toMatch(/EADDRINUSE|errno|syscall|at .*:\d+:\d+/)
    } finally {
      await new Promise((resolve) => holder.close(resolve))
    }
  })

  it('gives a demo an owner, said once in the log with where to sign in, and the sign-in page says how admins are made', async () => {
    const server = await startServer({ env: { ADMIN_EMAIL: '', ADMIN_PASSWORD: '', JOBS: 'off' } })
    servers.push(server)
    const said = /demo: the shop's owner is owner@till\.localhost with the password (\S{16}) \(shown this once\)\. Sign in at (\S+)\/admin\/sign-in/.exec(server.output())
    expect(said, server.output()).not.toBeNull()
    expect(said![2]).toBe(server.url)
    const page = await (await fetch(`${server.url}/admin/sign-in`)).text()
    expect(page).toContain('npm run admin:create -- you@example.com')
    expect(page).toContain('kamal admin-create')
    expect(page).toMatch(/printed once in the server(&#x27;|')s log/)
    // a restart makes no second owner and says nothing more
    await server.restart()
    expect(server.output().match(/the shop's owner is/g)).toHaveLength(1)
  })

  it('refuses ADMIN_EMAIL without ADMIN_PASSWORD at boot, naming it', async () => {
    const server = await startServer({ env: { ADMIN_PASSWORD: '' }, waitForHealthy: false })
    servers.push(server)
    const code = await exitOf(server)
    expect(code).toBe(1)
    expect(server.output()).toMatch(/till: cannot start\.[\s\S]*ADMIN_PASSWORD: missing while ADMIN_EMAIL is set/)
  })

  it('refuses a malformed DATABASE_URL before Next starts, naming it without its password, and touches no store', async () => {
    const server = await startServer({ env: { DATABASE_URL: 'postgres://till:hunter2pw@db1,db2/till' }, waitForHealthy: false })
    servers.push(server)
    const code = await exitOf(server)
    expect(code).toBe(1)
    expect(server.output()).toMatch(/till: cannot start\.\nInvalid configuration:\n {2}- DATABASE_URL: names 2 hosts/)
    expect(server.output()).not.toContain('hunter2pw')
    expect(server.output()).not.toMatch(/Ready|Starting/)
    expect(fs.existsSync(path.join(server.storageDir, 'store.sqlite3'))).toBe(false)
  })
})
