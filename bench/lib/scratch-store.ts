import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { openDatabase, setDb, type Db } from '@/db'
import { migrate } from '@/db/migrate'

// What the hand-run micro-benches share (bench/cart-view.ts, checkout-start.ts,
// inventory-steps.ts): a migrated SQLite store in a temporary folder, made the process's
// connection for the run and removed after, and the CPU this process used.

/** Runs `body` on a fresh migrated store; `fsyncOff` when the commit's fsync is not what is measured. */
export async function withScratchStore<T>(options: { fsyncOff?: boolean }, body: (db: Db) => Promise<T>): Promise<T> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'till-bench-'))
  const db = openDatabase(path.join(dir, 'store.sqlite3'))
  try {
    migrate(db.$client)
    setDb(db)
    // the fsync is the same either way; what is measured is the work before it
    if (options.fsyncOff) db.$client.pragma('synchronous = OFF')
    return await body(db)
  } finally {
    setDb(undefined)
    db.$client.close()
    fs.rmSync(dir, { recursive: true, force: true })
  }
}

/** Microseconds of CPU (user and system) this process used since `since`. */
export function cpuUs(since: NodeJS.CpuUsage): number {
  const used = process.cpuUsage(since)
  return used.user + used.system
}
