import 'server-only'
import fs from 'node:fs'
import path from 'node:path'
import Database from 'better-sqlite3'
import { StorageRefused } from '@/db/guard'

// The storage folder (STORAGE_DIR): where it may live, and who is using it.

// SQLite's WAL needs POSIX locks and shared memory that behave on one machine. Network and
// FUSE filesystems break one or the other (locks that are advisory, lost or per-client,
// mmap that is not coherent), and the failure is silent corruption, not an error.
const NETWORK_FS = new Set(['nfs', 'nfs4', 'cifs', 'smb', 'smb2', 'smb3', 'smbfs', '9p', 'virtiofs', 'sshfs', 'glusterfs', 'ceph', 'cephfs', 'lustre', 'gpfs', 'ocfs2', 'gfs2', 'afs', 'davfs', 'ncpfs', 'beegfs'])

export type Mount = { device: string; mountPoint: string; fsType: string }

// /proc/mounts escapes spaces, tabs, newlines and backslashes as octal.
const unescape = (field: string) => field.replace(/\\([0-7]{3})/g, (_, oct: string) => String.fromCharCode(parseInt(oct, 8)))

function parseMounts(table: string): Mount[] {
  return table
    .split('\n')
    .map((line) => line.trim().split(/\s+/))
    .filter((fields) => fields.length >= 3)
    .map(([device, mountPoint, fsType]) => ({ device: unescape(device!), mountPoint: unescape(mountPoint!), fsType: fsType! }))
}

function isNetworkFs(fsType: string): boolean {
  return NETWORK_FS.has(fsType) || fsType === 'fuse' || fsType.startsWith('fuse.') || fsType === 'fuseblk'
}

/** The mount that holds `dir`: the longest mount point that is a prefix of its real path. */
function mountOf(dir: string, mounts: Mount[]): Mount | undefined {
  let real = path.resolve(/*turbopackIgnore: true*/ dir)
  try {
    real = fs.realpathSync(real)
  } catch {
    // not created yet: its parent decides
  }
  const within = (mountPoint: string) => mountPoint === '/' || real === mountPoint || real.startsWith(mountPoint.endsWith('/') ? mountPoint : `${mountPoint}/`)
  // The last matching entry wins on ties: a later mount on the same point hides earlier ones.
  return mounts.reduce<Mount | undefined>((best, m) => (within(m.mountPoint) && (!best || m.mountPoint.length >= best.mountPoint.length) ? m : best), undefined)
}

/**
 * Refuses a storage folder on a network or FUSE filesystem. `mountsFile` is the kernel's
 * mount table (/proc/mounts); tests feed their own. Where there is no mount table (not
 * Linux) there is nothing to check.
 */
export function assertLocalDisk(dir: string, mountsFile = '/proc/mounts'): Mount | undefined {
  let table: string
  try {
    // turbopackIgnore: see lib/platform/backups.ts restore(); a run-time path must not make the build
    // trace the whole project.
    table = fs.readFileSync(/*turbopackIgnore: true*/ mountsFile, 'utf8')
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined
    throw err
  }
  const mount = mountOf(dir, parseMounts(table))
  if (mount && isNetworkFs(mount.fsType)) {
    throw new StorageRefused(
      `STORAGE_DIR ${dir} is on a ${mount.fsType} filesystem (${mount.device} mounted at ${mount.mountPoint}). SQLite loses or corrupts data on network and FUSE filesystems: put STORAGE_DIR on a local disk (a Docker volume on the host's own disk).`,
    )
  }
  return mount
}

// "Is a server using this folder?" is answered by the kernel, not by a heartbeat. Every
// server process holds a read transaction open on STORAGE_DIR/in-use.lock, a tiny SQLite
// database in rollback-journal mode; that is a POSIX shared lock, which any number of
// processes (blue and green) can hold at once, on one host, across containers sharing the
// volume. The kernel drops it the moment the process dies, even on SIGKILL, so there is no
// stale heartbeat to wait out and no clock to trust. A restore asks for an exclusive lock on
// the same file: it gets it only when no server holds the shared one, and while it holds it
// a server that boots refuses to start.
export const IN_USE_FILE = 'in-use.lock'

const globalForLock = globalThis as unknown as { tillInUse?: Database.Database }

/** Marks this process as a user of the storage folder until it exits. */
export function holdInUse(dir: string, waitMs = 5000): void {
  if (globalForLock.tillInUse) return
  fs.mkdirSync(dir, { recursive: true })
  const lock = new Database(path.join(/*turbopackIgnore: true*/ dir, IN_USE_FILE), { timeout: waitMs })
  try {
    lock.exec('BEGIN')
    lock.prepare('SELECT count(*) FROM sqlite_master').get()
  } catch (err) {
    lock.close()
    if ((err as { code?: string }).code?.startsWith('SQLITE_BUSY')) {
      throw new StorageRefused(`STORAGE_DIR ${dir} is locked by a restore in progress (npm run db:restore); start the server once it has finished.`)
    }
    throw err
  }
  globalForLock.tillInUse = lock
}

/**
 * Runs `fn` holding the storage folder exclusively, or throws when a server is using it.
 * `fn` may be async: the lock is a file lock, not a transaction on the store.
 */
export async function withExclusive<T>(dir: string, fn: () => Promise<T> | T): Promise<T> {
  fs.mkdirSync(dir, { recursive: true })
  const lock = new Database(path.join(/*turbopackIgnore: true*/ dir, IN_USE_FILE), { timeout: 0 })
  try {
    try {
      lock.exec('BEGIN EXCLUSIVE')
    } catch (err) {
      if ((err as { code?: string }).code?.startsWith('SQLITE_BUSY')) {
        throw new StorageRefused(`a server is using STORAGE_DIR ${dir} (it holds ${IN_USE_FILE}); stop every process of the app first (kamal app stop), then run this again.`)
      }
      throw err
    }
    try {
      return await fn()
    } finally {
      lock.exec('ROLLBACK')
    }
  } finally {
    lock.close()
  }
}
