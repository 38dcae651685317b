import fs from 'node:fs'
import path from 'node:path'
import Database from 'better-sqlite3'
import { afterEach, describe, expect, it } from 'vitest'
import { npmRun } from '../support/npm-run'
import { tempStorage } from '../support/server'

// `npm run admin:create -- owner@example.com` is how a store gets its first admin (and the
// demo a second one): run as an operator types it, against a fresh storage folder.

const dirs: string[] = []
afterEach(() => {
  for (const dir of dirs.splice(0)) fs.rmSync(dir, { recursive: true, force: true })
})

describe('npm run admin:create', { timeout: 60_000 }, () => {
  it('creates the admin named on the command line, with the password from ADMIN_PASSWORD', async () => {
    const storageDir = tempStorage('till-admin-create-')
    dirs.push(storageDir)
    const run = await npmRun('admin:create', ['Boss@Example.com'], { STORAGE_DIR: storageDir, PAYMENTS: 'emulator', ADMIN_PASSWORD: 'a long enough password' })
    expect(run.code, run.stderr).toBe(0)
    expect(run.stdout).toMatch(/admin:create: created boss@example\.com/)
    const db = new Database(path.join(storageDir, 'store.sqlite3'), { readonly: true })
    try {
      expect(db.prepare('SELECT email FROM admin_users').all()).toEqual([{ email: 'boss@example.com' }])
    } finally {
      db.close()
    }
  })
})
