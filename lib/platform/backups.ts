import 'server-only'
import fs from 'node:fs'
import path from 'node:path'
import Database from 'better-sqlite3'
import { getDb, openDatabase, setDb, STORE_FILE } from '@/db'
import { migrate } from '@/db/migrate'
import { getEnv } from '@/lib/env'
import { log } from '@/lib/log'
import * as storage from './storage'

// Online backups of the store through SQLite's backup API, never by copying files: the
// live database is store.sqlite3 plus whatever its -wal holds, and only SQLite knows which
// pages are current. Each backup is written under a .partial name, turned into a plain
// single-file database (journal_mode=DELETE, so it can be copied off the host as is),
// verified, and only then given its final name and a manifest. A backup without a manifest
// is not a good backup.

const BACKUPS_DIR = 'backups'
const NAME = /^store-(\d{8}T\d{9}Z)\.sqlite3$/

type Manifest = {
  file: string
  takenAt: string
  bytes: number
  durationMs: number
  integrity: 'ok'
  rows: Record<string, number>
}

export type Backup = Manifest & { path: string; takenAtMs: number }

function storageDir(dir?: string): string {
  return dir ?? getEnv().storageDir
}

function backupsDir(dir?: string): string {
  return path.join(/*turbopackIgnore: true*/ storageDir(dir), BACKUPS_DIR)
}

/** How often the scheduler should call run(), from BACKUP_INTERVAL_MINUTES. */
export function intervalMs(): number {
  return getEnv().backupIntervalMinutes * 60_000
}

// 2026-12-01T04:11:05.123Z -> 20261201T041105123Z: sortable, one file per millisecond.
function stamp(ms: number): string {
  return new Date(ms).toISOString().replace(/[-:.]/g, '')
}

function parseStamp(s: string): number {
  const m = /^(\d{4})(\d{2})(\d{2})T(\d{2})(\d{2})(\d{2})(\d{3})Z$/.exec(s)
  if (!m) return NaN
  return Date.UTC(+m[1]!, +m[2]! - 1, +m[3]!, +m[4]!, +m[5]!, +m[6]!, +m[7]!)
}

class BackupFailed extends Error {
  constructor(message: string) {
    super(message)
    this.name = 'BackupFailed'
  }
}

/** integrity_check and a row count of every table; throws unless the file is sound. */
export function verify(file: string, expect: { minOrders?: number } = {}): { integrity: 'ok'; rows: Record<string, number> } {
  const sqlite = new Database(file, { readonly: true, fileMustExist: true })
  try {
    const integrity = sqlite.pragma('integrity_check', { simple: true })
    if (integrity !== 'ok') throw new BackupFailed(`${file}: integrity_check says ${String(integrity)}`)
    const tables = sqlite.prepare<[], { name: string }>(`SELECT name FROM sqlite_schema WHERE type = 'table' AND name NOT LIKE 'sqlite_%' ORDER BY name`).all()
    // Counting every row reads every table's b-tree end to end.
    const rows = Object.fromEntries(tables.map(({ name }) => [name, (sqlite.prepare(`SELECT count(*) AS n FROM "${name.replace(/"/g, '""')}"`).get() as { n: number }).n]))
    if (rows.orders === undefined) throw new BackupFailed(`${file}: has no orders table; not a store database`)
    // Orders are never deleted, so a backup taken after counting N orders holds at least N.
    if (expect.minOrders !== undefined && rows.orders < expect.minOrders) {
      throw new BackupFailed(`${file}: holds ${rows.orders} orders, the live database had ${expect.minOrders} before the backup began`)
    }
    return { integrity: 'ok', rows }
  } finally {
    sqlite.close()
  }
}

/** Takes, verifies and records one online backup of the running store. */
export async function run(options: { now?: number; storageDir?: string } = {}): Promise<Backup> {
  const started = Date.now()
  const takenAtMs = options.now ?? started
  const dir = backupsDir(options.storageDir)
  fs.mkdirSync(dir, { recursive: true })
  const name = `store-${stamp(takenAtMs)}.sqlite3`
  const target = path.join(/*turbopackIgnore: true*/ dir, name)
  const partial = `${target}.partial`
  const live = getDb().$client
  try {
    const { n: ordersBefore } = live.prepare('SELECT count(*) AS n FROM orders').get() as { n: number }
    await live.backup(partial)
    const copy = new Database(partial)
    try {
      copy.pragma('journal_mode = DELETE')
    } finally {
      copy.close()
    }
    const checked = verify(partial, { minOrders: ordersBefore })
    fs.renameSync(partial, target)
    const manifest: Manifest = { file: name, takenAt: new Date(takenAtMs).toISOString(), bytes: fs.statSync(target).size, durationMs: Date.now() - started, ...checked }
    fs.writeFileSync(`${target}.json`, JSON.stringify(manifest, null, 2) + '\n')
    log.info('backup: verified', { file: target, bytes: manifest.bytes, durationMs: manifest.durationMs, orders: checked.rows.orders })
    return { ...manifest, path: target, takenAtMs }
  } catch (err) {
    fs.rmSync(partial, { force: true })
    log.error('backup: FAILED; the last good backup is getting older', { file: target, err })
    throw err
  }
}

/** Every verified backup in the folder, newest first. */
export function list(options: { storageDir?: string } = {}): Backup[] {
  const dir = backupsDir(options.storageDir)
  let names: string[]
  try {
    names = fs.readdirSync(dir)
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return []
    throw err
  }
  const found: Backup[] = []
  for (const name of names) {
    const m = NAME.exec(name)
    if (!m || !names.includes(`${name}.json`)) continue
    try {
      const manifest = JSON.parse(fs.readFileSync(path.join(/*turbopackIgnore: true*/ dir, `${name}.json`), 'utf8')) as Manifest
      if (manifest.integrity !== 'ok') continue
      found.push({ ...manifest, path: path.join(/*turbopackIgnore: true*/ dir, name), takenAtMs: parseStamp(m[1]!) })
    } catch {
      // a manifest cut short (crash while writing it): that backup does not count
    }
  }
  return found.sort((a, b) => b.takenAtMs - a.takenAtMs)
}

export type LastGood = { file: string; takenAt: string; ageSeconds: number } | null

/** The newest verified backup and its age; null when there is none. */
export function lastGood(options: { now?: number; storageDir?: string } = {}): LastGood {
  const newest = list(options)[0]
  if (!newest) return null
  return { file: newest.file, takenAt: newest.takenAt, ageSeconds: Math.max(0, Math.round(((options.now ?? Date.now()) - newest.takenAtMs) / 1000)) }
}

/**
 * Keeps the newest backup of each of the last `keepHourly` hours and of each of the last
 * `keepDaily` days (UTC) that have one, and deletes the rest. Leftover .partial files of
 * failed runs older than an hour go too. Returns the deleted file names.
 */
export function prune(options: { now?: number; storageDir?: string; keepHourly?: number; keepDaily?: number } = {}): string[] {
  const keepHourly = options.keepHourly ?? getEnv().backupKeepHourly
  const keepDaily = options.keepDaily ?? getEnv().backupKeepDaily
  const now = options.now ?? Date.now()
  const backups = list(options)
  const keep = new Set<string>()
  const bucketed = (size: number, count: number) => {
    const seen = new Set<number>()
    for (const b of backups) {
      const bucket = Math.floor(b.takenAtMs / size)
      if (seen.has(bucket)) continue
      if (seen.size >= count) break
      seen.add(bucket)
      keep.add(b.file)
    }
  }
  bucketed(3600_000, keepHourly)
  bucketed(86_400_000, keepDaily)
  const dir = backupsDir(options.storageDir)
  const deleted: string[] = []
  for (const b of backups) {
    if (keep.has(b.file)) continue
    fs.rmSync(`${b.path}.json`, { force: true })
    fs.rmSync(b.path, { force: true })
    deleted.push(b.file)
  }
  for (const name of fs.existsSync(dir) ? fs.readdirSync(dir) : []) {
    const file = path.join(/*turbopackIgnore: true*/ dir, name)
    if (name.endsWith('.partial') && now - fs.statSync(file).mtimeMs > 3600_000) {
      fs.rmSync(file, { force: true })
      deleted.push(name)
    }
  }
  if (deleted.length) log.info('backup: pruned', { deleted: deleted.length, kept: keep.size })
  return deleted
}

export type RestoreReport = {
  restored: string
  safetyCopy: string | null
  integrity: 'ok'
  rows: Record<string, number>
  reconcile: { eventsSeen: number; sessionsSeen: number; ordersCreated: number; failures: number } | { skipped: string }
}

/**
 * Replaces the store with a backup, then reconciles with Stripe so that orders paid since
 * the backup come back. Refuses while any server uses the storage folder (storage.ts), and
 * keeps every server from starting until it is done. What the database held before is
 * first saved as backups/pre-restore-*.sqlite3.
 */
export async function restore(file: string, options: { storageDir?: string; reconcile?: boolean } = {}): Promise<RestoreReport> {
  const source = path.resolve(/*turbopackIgnore: true*/ file)
  if (!fs.existsSync(source)) throw new BackupFailed(`no backup at ${source}`)
  verify(source)
  const dir = storageDir(options.storageDir)
  return storage.withExclusive(dir, async () => {
    // turbopackIgnore: a path known only at run time; without it the build traces (copies)
    // the whole project, storage folder included, into .next/standalone.
    const storeFile = path.join(/*turbopackIgnore: true*/ dir, STORE_FILE)
    let safetyCopy: string | null = null
    if (fs.existsSync(/*turbopackIgnore: true*/ storeFile)) {
      safetyCopy = path.join(/*turbopackIgnore: true*/ backupsDir(dir), `pre-restore-${stamp(Date.now())}.sqlite3`)
      fs.mkdirSync(path.dirname(safetyCopy), { recursive: true })
      const current = new Database(storeFile)
      try {
        await current.backup(safetyCopy)
      } catch (err) {
        // A database too damaged to copy is what a restore is for: say so and go on.
        log.warn('restore: could not save the current database first', { err })
        safetyCopy = null
      } finally {
        current.close()
      }
    }
    const backup = new Database(source, { readonly: true })
    try {
      await backup.backup(storeFile)
    } finally {
      backup.close()
    }
    const db = openDatabase(storeFile)
    setDb(db)
    try {
      migrate(db.$client)
      const integrity = db.$client.pragma('integrity_check', { simple: true })
      if (integrity !== 'ok') throw new BackupFailed(`${storeFile} after restore: integrity_check says ${String(integrity)}`)
      let reconcile: RestoreReport['reconcile'] = { skipped: 'not asked' }
      if (options.reconcile !== false) {
        const env = getEnv()
        if (env.payments === 'emulator' && !env.isStripeApiExternal) {
          reconcile = { skipped: 'PAYMENTS=emulator is served by the app itself: the server reconciles when it boots' }
        } else {
          const report = await (await import('@/lib/reconcile')).run()
          reconcile = { eventsSeen: report.eventsSeen, sessionsSeen: report.sessionsSeen, ordersCreated: report.ordersCreated, failures: report.failures.length }
        }
      }
      const { rows } = verify(storeFile)
      log.info('restore: done', { from: source, safetyCopy, reconcile })
      return { restored: source, safetyCopy, integrity: 'ok', rows, reconcile }
    } finally {
      setDb(undefined)
      db.$client.close()
    }
  })
}
