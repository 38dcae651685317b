import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { inject } from 'vitest'
import { openDatabase, setDb, type Db } from '@/db'
import { resetEnv } from '@/lib/env'

export type TestDb = { db: Db; dir: string; file: string; close(): void }

/**
 * A fresh, migrated database in its own temporary folder, copied from the run's template
 * and installed as this process's connection. Call close() in afterEach.
 */
export function freshDb(): TestDb {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'till-test-'))
  const file = path.join(dir, 'store.sqlite3')
  fs.copyFileSync(inject('templateDb'), file)
  const db = openDatabase(file)
  setDb(db)
  return {
    db,
    dir,
    file,
    close() {
      setDb(undefined)
      db.$client.close()
      fs.rmSync(dir, { recursive: true, force: true })
    },
  }
}

/**
 * freshDb() with STORAGE_DIR set to its folder, so what the code writes beside the database
 * (mail, uploads, backups) lands there too; close() undoes both.
 */
export function freshStore(): TestDb {
  const t = freshDb()
  process.env.STORAGE_DIR = t.dir
  resetEnv()
  return {
    ...t,
    close() {
      t.close()
      delete process.env.STORAGE_DIR
      resetEnv()
    },
  }
}
