import { spawn } from 'node:child_process'
import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import Database from 'better-sqlite3'
import { afterEach, describe, expect, it } from 'vitest'
import { openDatabase, setDb, write } from '@/db'
import { lockPressure, recordOpened, setLogger } from '@/db/guard'
import { assertSchemaKnown, migrate } from '@/db/migrate'
import { healthChecks } from '@/db/schema'
import * as health from '@/lib/platform/health'
import { assertLocalDisk, IN_USE_FILE, withExclusive } from '@/lib/platform/storage'
import { freshDb, type TestDb } from '../support/db'

const fixture = path.resolve(__dirname, '..', 'fixtures', 'proc-mounts.txt')
const root = path.resolve(__dirname, '..', '..')

let t: TestDb | undefined
afterEach(() => {
  t?.close()
  t = undefined
})

const touch = () => write((tx) => tx.insert(healthChecks).values({ id: 'test', checkedAt: Date.now(), pid: process.pid }).onConflictDoUpdate({ target: healthChecks.id, set: { checkedAt: Date.now() } }).run())

/** Runs `script` in another node process with better-sqlite3; resolves once it prints "ready". */
function holder(script: string): Promise<{ done: Promise<void>; release(): void }> {
  const child = spawn(process.execPath, ['-e', `const Database = require(${JSON.stringify(path.join(root, 'node_modules', 'better-sqlite3'))});\n${script}`], { stdio: ['pipe', 'pipe', 'inherit'] })
  const done = new Promise<void>((resolve) => child.once('exit', () => resolve()))
  return new Promise((resolve, reject) => {
    child.stdout.on('data', (d: Buffer) => {
      if (d.toString().includes('ready')) resolve({ done, release: () => child.stdin.end('go\n') })
    })
    child.once('exit', (code) => reject(new Error(`holder exited with ${code} before it was ready`)))
  })
}

describe('the storage folder must be on a local disk', () => {
  it.each([
    ['/srv/nfs/store', 'nfs'],
    ['/srv/nfs4', 'nfs4'],
    ['/srv/cifs/till', 'cifs'],
    ['/srv/smb3/till', 'smb3'],
    ['/srv/sshfs/till', 'fuse.sshfs'],
    ['/srv/rclone/till', 'fuse.rclone'],
    ['/srv/gluster/till', 'fuse.glusterfs'],
    ['/srv/glusterfs/till', 'glusterfs'],
    ['/srv/ceph/till', 'ceph'],
    ['/srv/9p/till', '9p'],
  ])('refuses %s on %s, naming the filesystem and the fix', (dir, fsType) => {
    expect(() => assertLocalDisk(dir, fixture)).toThrow(new RegExp(`STORAGE_DIR ${dir} is on a ${fsType.replace('.', '\\.')} filesystem.*local disk`))
  })

  it.each([
    ['/app/storage', 'ext4'],
    ['/srv/local disk/till', 'ext4'],
    ['/srv/nfs/local-inside/till', 'ext4'],
    ['/srv/nfsish', 'overlay'],
  ])('accepts %s (%s), the longest mount point wins', (dir, fsType) => {
    expect(assertLocalDisk(dir, fixture)?.fsType).toBe(fsType)
  })

  it('has nothing to check where there is no mount table', () => {
    expect(assertLocalDisk('/srv/nfs', path.join(os.tmpdir(), 'no-such-mounts-file'))).toBeUndefined()
  })
})

describe('the connection', () => {
  it('refuses a database that is not in WAL mode after opening', () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'till-guard-'))
    const sqlite = new Database(path.join(dir, 'store.sqlite3'))
    sqlite.pragma('journal_mode = DELETE')
    expect(() => recordOpened(sqlite, path.join(dir, 'store.sqlite3'))).toThrow(/journal_mode=delete, not WAL/)
    sqlite.close()
  })

  it('refuses a schema newer than this release knows', () => {
    t = freshDb()
    expect(() => assertSchemaKnown(t!.db.$client)).not.toThrow()
    t.db.$client.prepare('INSERT INTO __drizzle_migrations (hash, created_at) VALUES (?, ?)').run('future', 9_999_999_999_999)
    expect(() => assertSchemaKnown(t!.db.$client)).toThrow(/1 migration\(s\) this release does not know \(created_at 9999999999999\).*roll forward/)
    // migrate() itself still leaves it alone, so a release already running keeps serving
    expect(migrate(t.db.$client).applied).toEqual([])
  })

  it('refuses every write once -wal and -shm were deleted under it, and /up says why', async () => {
    t = freshDb()
    touch()
    fs.rmSync(`${t.file}-wal`)
    fs.rmSync(`${t.file}-shm`)
    expect(() => touch()).toThrow(/store\.sqlite3-wal was deleted while this process had it open/)
    const result = (await health.check())
    expect(result.status).toBe('error')
    expect(result.status === 'error' && result.reason).toMatch(/DatabaseFileLost/)
    // and it stays refused: the rows written before are in a file nobody else will see
    expect(() => touch()).toThrow(/DatabaseFileLost|was deleted/)
  })

  it('refuses every write once the database file was replaced under it', async () => {
    t = freshDb()
    touch()
    const other = path.join(t.dir, 'other.sqlite3')
    const replacement = new Database(other)
    migrate(replacement)
    replacement.close()
    fs.renameSync(other, t.file)
    expect(() => touch()).toThrow(/store\.sqlite3 was replaced by another file/)
    expect((await health.check()).status).toBe('error')
  })

  it('counts writers that waited over 100 ms for the lock, and SQLITE_BUSY that escaped busy_timeout', async () => {
    t = freshDb()
    // both are provoked on purpose: their reports are taken here, not printed
    const reported: string[] = []
    setLogger({ warn: (message) => reported.push(message), error: (message) => reported.push(message) })
    try {
      const before = lockPressure()
      const file = JSON.stringify(t.file)
      // Holds the write lock for 1.5 s from when it says ready: far longer than it takes this
      // process to hear that and queue behind it, even on a busy machine.
      const timed = await holder(`const db = new Database(${file}); db.exec('BEGIN IMMEDIATE'); console.log('ready'); setTimeout(() => { db.exec('COMMIT'); db.close() }, 1500)`)
      touch()
      await timed.done
      const afterWait = lockPressure()
      expect(afterWait.slowWaits).toBe(before.slowWaits + 1)
      expect(afterWait.maxWaitMs).toBeGreaterThan(100)

      // Holds it until told to let go, so this writer's 150 ms busy_timeout surely runs out.
      t.db.$client.pragma('busy_timeout = 150')
      const stuck = await holder(`const db = new Database(${file}); db.exec('BEGIN IMMEDIATE'); console.log('ready'); process.stdin.once('data', () => { db.exec('COMMIT'); db.close(); process.exit(0) })`)
      expect(() => touch()).toThrow(/locked|busy/i)
      stuck.release()
      await stuck.done
      expect(lockPressure().busyErrors).toBe(before.busyErrors + 1)
      const result = (await health.check())
      expect(result.status === 'ok' && result.details?.locks.busyErrors).toBe(before.busyErrors + 1)
      expect(reported).toEqual([expect.stringMatching(/slow wait for the write lock/), expect.stringMatching(/SQLITE_BUSY escaped busy_timeout/)])
    } finally {
      setLogger(undefined)
    }
  })
})

describe('who is using the storage folder', () => {
  it('an exclusive hold is refused while another process holds the folder, and granted once it exits, even by SIGKILL', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'till-inuse-'))
    const lockFile = path.join(dir, IN_USE_FILE)
    const server = spawn(process.execPath, ['-e', `const Database = require(${JSON.stringify(path.join(root, 'node_modules', 'better-sqlite3'))}); const db = new Database(${JSON.stringify(lockFile)}); db.exec('BEGIN'); db.prepare('SELECT count(*) FROM sqlite_master').get(); console.log('ready'); setInterval(() => {}, 1000)`], { stdio: ['ignore', 'pipe', 'inherit'] })
    await new Promise<void>((resolve) => server.stdout.on('data', () => resolve()))
    await expect(withExclusive(dir, () => 'restored')).rejects.toThrow(/a server is using STORAGE_DIR .* stop every process/)
    const exited = new Promise((resolve) => server.once('exit', resolve))
    server.kill('SIGKILL')
    await exited
    await expect(withExclusive(dir, () => 'restored')).resolves.toBe('restored')
  })

  it('a database opened by a test helper is still guarded after setDb', () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'till-guard-'))
    const db = openDatabase(path.join(dir, 'store.sqlite3'))
    migrate(db.$client)
    setDb(db)
    try {
      touch()
      fs.rmSync(path.join(dir, 'store.sqlite3-wal'))
      expect(() => touch()).toThrow(/was deleted/)
    } finally {
      setDb(undefined)
      db.$client.close()
    }
  })
})
