import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import Database from 'better-sqlite3'
import { describe, expect, it } from 'vitest'
import { migrate, readMigrations, schemaVersion } from '@/db/migrate'

function tempFile() {
  return path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'till-migrate-')), 'store.sqlite3')
}

describe('migrate', () => {
  it('applies every migration once and is a no-op the second time', () => {
    const sqlite = new Database(tempFile())
    const first = migrate(sqlite)
    expect(first.applied).toEqual(readMigrations().map((m) => m.tag))
    expect(migrate(sqlite).applied).toEqual([])
    expect(schemaVersion(sqlite).pending).toEqual([])
    sqlite.close()
  })

  it('two connections migrating the same file apply each migration exactly once', () => {
    const file = tempFile()
    const a = new Database(file)
    const b = new Database(file)
    for (const c of [a, b]) {
      c.pragma('journal_mode = WAL')
      c.pragma('busy_timeout = 5000')
    }
    const migrations = readMigrations()
    // Interleave: a applies the first, b catches up, a finds nothing left.
    const ra = migrate(a, migrations.slice(0, 1))
    const rb = migrate(b, migrations)
    const ra2 = migrate(a, migrations)
    expect([...ra.applied, ...rb.applied, ...ra2.applied].sort()).toEqual(migrations.map((m) => m.tag).sort())
    expect((a.prepare('SELECT count(*) AS n FROM __drizzle_migrations').get() as { n: number }).n).toBe(migrations.length)
    a.close()
    b.close()
  })

  it('leaves migrations it does not know alone (an older release on a newer database)', () => {
    const sqlite = new Database(tempFile())
    migrate(sqlite)
    sqlite.prepare('INSERT INTO __drizzle_migrations (hash, created_at) VALUES (?, ?)').run('future', 9_999_999_999_999)
    expect(migrate(sqlite).applied).toEqual([])
    expect(schemaVersion(sqlite).pending).toEqual([])
    sqlite.close()
  })
})
