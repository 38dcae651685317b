import fs from 'node:fs'
import path from 'node:path'
import pg from 'pg'
import { afterEach, describe, expect, it } from 'vitest'
import { readMigrations } from '@/db/migrate'
import { pgMigrationsFolder } from '@/db/pg/migrate'
import { npmRun } from '../support/npm-run'
import { scriptStore } from '../support/running-store'
import { startPostgres } from '../support/postgres'
import { tempStorage } from '../support/server'

// `npm run admin:create -- owner@example.com` is how a store gets its first admin (and the
// demo a second one): run as an operator types it, against a fresh storage folder.

const dirs: string[] = []
afterEach(() => {
  for (const dir of dirs.splice(0)) fs.rmSync(dir, { recursive: true, force: true })
})

describe('npm run admin:create', { timeout: 60_000 }, () => {
  it('creates the admin named on the command line, with the password from ADMIN_PASSWORD', async () => {
    const store = await scriptStore('till-admin-create-')
    dirs.push(store.storageDir)
    const run = await npmRun('admin:create', ['Boss@Example.com'], { ...store.env, PAYMENTS: 'emulator', ADMIN_PASSWORD: 'a long enough password' })
    expect(run.code, run.stderr).toBe(0)
    expect(run.stdout).toMatch(/admin:create: created boss@example\.com/)
    try {
      expect(await store.rows.all('SELECT email FROM admin_users')).toEqual([{ email: 'boss@example.com' }])
    } finally {
      await store.rows.close()
    }
  })
})

describe('npm run db:migrate and admin:create with DATABASE_URL', { timeout: 180_000 }, () => {
  it('migrate PostgreSQL (twice at once, each migration applied once) and create the admin there, leaving STORAGE_DIR without a store', async () => {
    const server = await startPostgres()
    const storageDir = tempStorage('till-admin-create-pg-')
    dirs.push(storageDir)
    const pool = new pg.Pool({ connectionString: server.url, max: 2 })
    try {
      const env = { STORAGE_DIR: storageDir, PAYMENTS: 'emulator', DATABASE_URL: server.url }
      const migrations = await Promise.all([npmRun('db:migrate', [], env), npmRun('db:migrate', [], env)])
      for (const run of migrations) {
        expect(run.code, run.stderr).toBe(0)
        expect(run.stdout).toMatch(/migrate: PostgreSQL at 127\.0\.0\.1:\d+ \(DATABASE_URL\); applied now: /)
      }
      const known = readMigrations(pgMigrationsFolder()).map((m) => m.tag)
      // one of the two applied them all, the other none
      expect(migrations.map((run) => /applied now: (.*)$/m.exec(run.stdout)![1]).sort()).toEqual([known.join(', '), 'none'].sort())
      const { rows } = await pool.query<{ n: string }>('SELECT count(*) AS n FROM drizzle.__drizzle_migrations')
      expect(Number(rows[0]!.n)).toBe(known.length)

      const run = await npmRun('admin:create', ['Boss@Example.com'], { ...env, ADMIN_PASSWORD: 'a long enough password' })
      expect(run.code, run.stderr).toBe(0)
      expect(run.stdout).toMatch(/admin:create: created boss@example\.com \(id \d+, on PostgreSQL\)/)
      expect((await pool.query('SELECT email FROM admin_users')).rows).toEqual([{ email: 'boss@example.com' }])
      expect(fs.existsSync(path.join(storageDir, 'store.sqlite3'))).toBe(false)

      const again = await npmRun('admin:create', ['boss@example.com'], { ...env, ADMIN_PASSWORD: 'a long enough password' })
      expect(again.code).toBe(1)
      expect(again.stderr).toContain('admin:create: An admin with the email boss@example.com already exists.')

      // a database that is not there: the server's own words, after the wait for a primary
      const missing = await npmRun('db:migrate', [], { ...env, DATABASE_URL: server.url.replace(/\/till$/, '/nope') })
      expect(missing.code).toBe(1)
      expect(missing.stderr).toMatch(/- DATABASE_URL: could not open the PostgreSQL database at 127\.0\.0\.1:\d+: no primary .*\. Now: 127\.0\.0\.1:\d+: database "nope" does not exist/)

      // and the way back in from the server works there too
      await pool.query(`INSERT INTO admin_login_failures (key, created_at) VALUES ('email:boss@example.com', $1)`, [Date.now()])
      const unlock = await npmRun('admin:unlock', ['boss@example.com'], env)
      expect(unlock.code, unlock.stderr).toBe(0)
      expect(unlock.stdout).toContain('admin:unlock: forgot 1 failed sign-in of boss@example.com')
      expect(await pool.query('SELECT 1 FROM admin_login_failures')).toMatchObject({ rowCount: 0 })

      // and so does the reset of a lost second factor: off on PostgreSQL, sessions ended, audited
      await pool.query(`UPDATE admin_users SET totp_secret = 'JBSWY3DPEHPK3PXP', totp_enabled_at = $1 WHERE email = 'boss@example.com'`, [Date.now()])
      const reset = await npmRun('admin:reset-2fa', ['boss@example.com'], env)
      expect(reset.code, reset.stderr).toBe(0)
      expect(reset.stdout).toContain('admin:reset-2fa: two-factor sign-in is off for boss@example.com')
      expect((await pool.query(`SELECT totp_enabled_at FROM admin_users WHERE email = 'boss@example.com'`)).rows).toEqual([{ totp_enabled_at: null }])
      expect(await pool.query(`SELECT 1 FROM audit_log WHERE action = 'admin.two_factor_reset'`)).toMatchObject({ rowCount: 1 })
    } finally {
      await pool.end()
      await server.stop()
    }
  })

  it('stops with a plain message naming DATABASE_URL when no PostgreSQL answers there', async () => {
    const storageDir = tempStorage('till-admin-create-pg-')
    dirs.push(storageDir)
    // a port nothing listens on, and a short wait for a primary
    const run = await npmRun('db:migrate', [], { STORAGE_DIR: storageDir, PAYMENTS: 'emulator', DATABASE_URL: 'postgres://till:secret@127.0.0.1:1/till?connect_timeout=1' })
    expect(run.code).toBe(1)
    expect(run.stderr).toMatch(/till: cannot start\.\n {2}- DATABASE_URL: could not open the PostgreSQL database at 127\.0\.0\.1:1: no primary among 127\.0\.0\.1:1 after \d+ ms \(DATABASE_URL\)\. Now: 127\.0\.0\.1:1: connect ECONNREFUSED/)
    expect(run.stderr).not.toContain('secret')
  })
})
