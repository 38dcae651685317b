import crypto from 'node:crypto'
import fs from 'node:fs'
import path from 'node:path'
import type Database from 'better-sqlite3'

// Our own runner over drizzle-kit's files, compatible with drizzle's __drizzle_migrations
// table. Drizzle's migrator reads the applied list before it takes the write lock, so two
// processes booting together could both try to apply the same migration. Here each
// migration runs in its own BEGIN IMMEDIATE transaction and re-checks inside it.
// A migration unknown to this release (a newer release already ran it) is left alone:
// that is what lets an old and a new release share one database during a deploy. A process
// that boots on such a database refuses to start instead (assertSchemaKnown, at boot).

export type Migration = { tag: string; createdAt: number; hash: string; statements: string[] }

export function migrationsFolder(): string {
  // In the standalone server cwd is .next/standalone, where tracing copied db/migrations.
  const candidates = [path.join(/*turbopackIgnore: true*/ process.cwd(), 'db', 'migrations'), path.join(/*turbopackIgnore: true*/ __dirname, 'migrations')]
  const found = candidates.find((dir) => fs.existsSync(path.join(/*turbopackIgnore: true*/ dir, 'meta', '_journal.json')))
  if (!found) throw new Error(`migrations: no db/migrations/meta/_journal.json under ${candidates.join(' or ')}`)
  return found
}

export function readMigrations(folder = migrationsFolder()): Migration[] {
  const journal = JSON.parse(fs.readFileSync(path.join(/*turbopackIgnore: true*/ folder, 'meta', '_journal.json'), 'utf8')) as {
    entries: { tag: string; when: number }[]
  }
  return journal.entries.map((entry) => {
    const text = fs.readFileSync(path.join(/*turbopackIgnore: true*/ folder, `${entry.tag}.sql`), 'utf8')
    return {
      tag: entry.tag,
      createdAt: entry.when,
      hash: crypto.createHash('sha256').update(text).digest('hex'),
      statements: text
        .split('--> statement-breakpoint')
        .map((s) => s.trim())
        .filter(Boolean),
    }
  })
}

const TABLE = '__drizzle_migrations'

export type MigrateResult = { applied: string[]; schemaVersion: number; latest: string | null }

export function migrate(sqlite: Database.Database, migrations: Migration[] = readMigrations()): MigrateResult {
  sqlite.exec(`CREATE TABLE IF NOT EXISTS ${TABLE} (id INTEGER PRIMARY KEY, hash text NOT NULL, created_at numeric)`)
  const isApplied = sqlite.prepare<[number], { one: number }>(`SELECT 1 AS one FROM ${TABLE} WHERE created_at = ?`)
  const record = sqlite.prepare(`INSERT INTO ${TABLE} (hash, created_at) VALUES (?, ?)`)
  const applied: string[] = []
  for (const migration of migrations) {
    const apply = sqlite.transaction(() => {
      if (isApplied.get(migration.createdAt)) return false
      for (const statement of migration.statements) sqlite.exec(statement)
      record.run(migration.hash, migration.createdAt)
      return true
    })
    if (apply.immediate()) applied.push(migration.tag)
  }
  return { applied, ...schemaVersion(sqlite, migrations) }
}

export function schemaVersion(sqlite: Database.Database, migrations: Migration[] = readMigrations()) {
  const rows = sqlite.prepare<[], { created_at: number }>(`SELECT created_at FROM ${TABLE} ORDER BY created_at`).all()
  return versionOf(rows.map((r) => Number(r.created_at)), migrations)
}

export type SchemaVersion = { schemaVersion: number; latest: string | null; pending: string[] }

/** What a migrations table's `created_at` values (in order) say against this release's list; either engine's. */
export function versionOf(applied: readonly number[], migrations: readonly Migration[]): SchemaVersion {
  const known = new Map(migrations.map((m) => [m.createdAt, m.tag]))
  const last = applied.at(-1)
  return { schemaVersion: applied.length, latest: last === undefined ? null : (known.get(last) ?? `unknown:${last}`), pending: migrations.filter((m) => !applied.includes(m.createdAt)).map((m) => m.tag) }
}

export class SchemaTooNew extends Error {
  constructor(readonly unknown: number[]) {
    super(
      `the database has ${unknown.length} migration(s) this release does not know (created_at ${unknown.join(', ')}): a newer release has already migrated it. ` +
        'Deploy that release or a newer one (roll forward), or restore a backup taken before it.',
    )
    this.name = 'SchemaTooNew'
  }
}

/**
 * Refuses a database migrated by a newer release. A running release keeps serving when the
 * next one migrates under it (expand/contract), but a process starting fresh on a schema it
 * does not know cannot tell whether a contract step already removed what it reads.
 */
export function assertSchemaKnown(sqlite: Database.Database, migrations: Migration[] = readMigrations()): void {
  const hasTable = sqlite.prepare(`SELECT 1 FROM sqlite_schema WHERE type = 'table' AND name = ?`).get(TABLE)
  if (!hasTable) return
  const known = new Set(migrations.map((m) => m.createdAt))
  const rows = sqlite.prepare<[], { created_at: number }>(`SELECT created_at FROM ${TABLE} ORDER BY created_at`).all()
  const unknown = rows.map((r) => Number(r.created_at)).filter((createdAt) => !known.has(createdAt))
  if (unknown.length > 0) throw new SchemaTooNew(unknown)
}
