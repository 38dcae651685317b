import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { afterEach, beforeEach } from 'vitest'
import { resetEnv } from '@/lib/env'
import type { TestEngine } from './engines'

/**
 * A STORAGE_DIR for each PostgreSQL test (mail, downloads), which has no store folder of its
 * own; SQLite's store already sets one (tests/support/db.ts). Register after useEngine().
 */
export function useStorageDir(engine: TestEngine): void {
  let dir: string | undefined
  beforeEach(() => {
    if (engine.name === 'sqlite') return
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'till-storage-'))
    process.env.STORAGE_DIR = dir
    resetEnv()
  })
  afterEach(() => {
    if (!dir) return
    delete process.env.STORAGE_DIR
    resetEnv()
    fs.rmSync(dir, { recursive: true, force: true })
    dir = undefined
  })
}
