import { spawn } from 'node:child_process'
import fs from 'node:fs'
import path from 'node:path'
import Database from 'better-sqlite3'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { write } from '@/db'
import { orders } from '@/db/schema'
import * as backups from '@/lib/platform/backups'
import { parseEnv, resetEnv } from '@/lib/env'
import * as health from '@/lib/platform/health'
import { IN_USE_FILE } from '@/lib/platform/storage'
import { freshDb, type TestDb } from '../support/db'

let t: TestDb
beforeEach(() => {
  t = freshDb()
  process.env.STORAGE_DIR = t.dir
  process.env.JOBS = 'off'
  resetEnv()
})
afterEach(() => {
  t.close()
  delete process.env.STORAGE_DIR
  resetEnv()
})

let n = 0
function addOrders(count: number) {
  write((tx) => {
    for (let i = 0; i < count; i++) {
      n++
      tx.insert(orders).values({ stripeCheckoutSessionId: `cs_test_backup_${n}`, publicToken: `tok_backup_${n}_${Math.random()}`, status: 'paid', totalCents: 1500, currency: 'usd' }).run()
    }
  })
}
const orderCount = (sqlite: Database.Database) => (sqlite.prepare('SELECT count(*) AS n FROM orders').get() as { n: number }).n

describe('backups', () => {
  it('are configured from the environment: hourly, 48 hourly and 14 daily by default; a bad value names its key', () => {
    expect(parseEnv({})).toMatchObject({ backupIntervalMinutes: 60, backupKeepHourly: 48, backupKeepDaily: 14 })
    expect(backups.intervalMs()).toBe(3600_000)
    expect(() => parseEnv({ BACKUP_INTERVAL_MINUTES: '1' })).toThrow(/BACKUP_INTERVAL_MINUTES/)
    expect(() => parseEnv({ BACKUP_KEEP_HOURLY: 'lots' })).toThrow(/BACKUP_KEEP_HOURLY/)
  })

  it('run() writes a verified single-file copy with a manifest while the store stays open', async () => {
    addOrders(3)
    const backup = await backups.run()
    expect(backup.path).toMatch(/backups\/store-\d{8}T\d{9}Z\.sqlite3$/)
    expect(backup.integrity).toBe('ok')
    expect(backup.rows.orders).toBe(3)
    expect(fs.existsSync(`${backup.path}.partial`)).toBe(false)
    // journal_mode=DELETE: the file alone is the whole database, safe to ship off the host
    const copy = new Database(backup.path, { readonly: true })
    expect(copy.pragma('journal_mode', { simple: true })).toBe('delete')
    expect(orderCount(copy)).toBe(3)
    copy.close()
    // the store keeps working after it
    addOrders(1)
    expect(orderCount(t.db.$client)).toBe(4)
  })

  it('verify() refuses a damaged file and a file with fewer orders than the store had', async () => {
    addOrders(2)
    const backup = await backups.run()
    expect(() => backups.verify(backup.path, { minOrders: 5 })).toThrow(/holds 2 orders, the live database had 5/)
    const damaged = path.join(t.dir, 'damaged.sqlite3')
    const bytes = fs.readFileSync(backup.path)
    // Scribble over the second half of the file: pages of tables and indexes.
    bytes.fill(0x5a, Math.floor(bytes.length / 2))
    fs.writeFileSync(damaged, bytes)
    expect(() => backups.verify(damaged)).toThrow(/integrity_check|malformed|not a database/)
  })

  it('lastGood() reports the newest verified backup and its age, and /up shows it', async () => {
    expect(backups.lastGood()).toBeNull()
    const before = (await health.check())
    expect(before.status === 'ok' && before.details).toMatchObject({ lastGoodBackup: null, isBackupStale: true })
    const now = Date.now()
    await backups.run({ now: now - 2 * 3600_000 })
    const newest = await backups.run({ now: now - 90_000 })
    // a backup without a manifest (crashed before it was verified) does not count
    fs.writeFileSync(path.join(t.dir, 'backups', 'store-29991231T000000000Z.sqlite3'), 'not verified')
    expect(backups.lastGood({ now })).toEqual({ file: newest.file, takenAt: newest.takenAt, ageSeconds: 90 })
    const result = (await health.check())
    expect(result.status).toBe('ok')
    expect(result.status === 'ok' && result.details?.lastGoodBackup?.file).toBe(newest.file)
    expect(result.status === 'ok' && result.details?.isBackupStale).toBe(false)
  })

  it('prune() keeps the newest backup of each of the last N hours and M days', async () => {
    const hour = 3600_000
    const now = Date.UTC(2026, 11, 10, 12, 30)
    // two per hour for the last 5 hours, then one a day at 01:00 for the 4 days before
    const taken: number[] = []
    for (let h = 0; h < 5; h++) taken.push(now - h * hour, now - h * hour - 20 * 60_000)
    for (let d = 1; d <= 4; d++) taken.push(Date.UTC(2026, 11, 10 - d, 1, 0))
    for (const at of taken) await backups.run({ now: at })
    const deleted = backups.prune({ now, keepHourly: 3, keepDaily: 3 })
    const kept = backups.list().map((b) => b.takenAt)
    expect(kept).toEqual([
      new Date(now).toISOString(), // hour 12 (and day 10)
      new Date(now - hour).toISOString(), // hour 11
      new Date(now - 2 * hour).toISOString(), // hour 10
      new Date(Date.UTC(2026, 11, 9, 1)).toISOString(), // day 9
      new Date(Date.UTC(2026, 11, 8, 1)).toISOString(), // day 8
    ])
    expect(deleted).toHaveLength(taken.length - kept.length)
    for (const file of deleted) expect(fs.existsSync(path.join(t.dir, 'backups', file))).toBe(false)
  })

  it('restore() brings the backup back, keeps a copy of what was there, and refuses while a server holds the folder', async () => {
    addOrders(2)
    const backup = await backups.run()
    addOrders(3)
    // A "server": another process holding the storage folder, as boot does.
    const lockFile = path.join(t.dir, IN_USE_FILE)
    const server = spawn(process.execPath, ['-e', `const Database = require(${JSON.stringify(path.resolve(__dirname, '..', '..', 'node_modules', 'better-sqlite3'))}); const db = new Database(${JSON.stringify(lockFile)}); db.exec('BEGIN'); db.prepare('SELECT count(*) FROM sqlite_master').get(); console.log('ready'); setInterval(() => {}, 1000)`], { stdio: ['ignore', 'pipe', 'inherit'] })
    await new Promise<void>((resolve) => server.stdout.on('data', () => resolve()))
    await expect(backups.restore(backup.path, { reconcile: false })).rejects.toThrow(/a server is using STORAGE_DIR/)
    expect(orderCount(t.db.$client)).toBe(5)
    const exited = new Promise((resolve) => server.once('exit', resolve))
    server.kill('SIGTERM')
    await exited

    // The test's own connection is a server too: close it, as `kamal app stop` would.
    t.db.$client.close()
    const report = await backups.restore(backup.path, { reconcile: false })
    expect(report).toMatchObject({ integrity: 'ok', rows: { orders: 2 }, reconcile: { skipped: 'not asked' } })
    expect(report.safetyCopy).toMatch(/backups\/pre-restore-.*\.sqlite3$/)
    const restored = new Database(t.file, { readonly: true })
    expect(orderCount(restored)).toBe(2)
    expect(restored.pragma('journal_mode', { simple: true })).toBe('wal')
    restored.close()
    const safety = new Database(report.safetyCopy!, { readonly: true })
    expect(orderCount(safety)).toBe(5)
    safety.close()
    t = { ...t, close: () => fs.rmSync(t.dir, { recursive: true, force: true }) }
  })
})
