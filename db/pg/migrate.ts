import fs from 'node:fs'
import path from 'node:path'
import type pg from 'pg'
import { readMigrations, SchemaTooNew, versionOf, type Migration, type SchemaVersion } from '../migrate'
import type { Connects } from './transaction'

// The PostgreSQL runner over drizzle-kit's files in db/pg/migrations, keeping its list where
// drizzle's own pg migrator does (drizzle.__drizzle_migrations). Like SQLite's runner
// (db/migrate.ts) it is safe when several processes boot at once: one session-level advisory
// lock makes them take turns, and each migration runs in its own transaction (PostgreSQL's DDL
// is transactional) after re-checking that it is still pending. A migration this release does
// not know (a newer release ran it) is left alone.

export function pgMigrationsFolder(): string {
  const candidates = [path.join(/*turbopackIgnore: true*/ process.cwd(), 'db', 'pg', 'migrations'), path.join(/*turbopackIgnore: true*/ __dirname, 'migrations')]
  const found = candidates.find((dir) => fs.existsSync(path.join(/*turbopackIgnore: true*/ dir, 'meta', '_journal.json')))
  if (!found) throw new Error(`migrations: no db/pg/migrations/meta/_journal.json under ${candidates.join(' or ')}`)
  return found
}

// Any fixed number; every process that migrates this database asks for the same one.
const LOCK_KEY = 0x7111_0039

export async function migrate(pool: Connects, migrations: Migration[] = readMigrations(pgMigrationsFolder())): Promise<{ applied: string[] }> {
  const client = await pool.connect()
  // A server that dies mid-migration must fail this call, not crash the process.
  const onError = () => {}
  client.on('error', onError)
  const applied: string[] = []
  let isBroken = false
  try {
    await client.query('SELECT pg_advisory_lock($1)', [LOCK_KEY])
    await client.query('CREATE SCHEMA IF NOT EXISTS drizzle')
    await client.query('CREATE TABLE IF NOT EXISTS drizzle.__drizzle_migrations (id SERIAL PRIMARY KEY, hash text NOT NULL, created_at bigint)')
    for (const migration of migrations) {
      await client.query('BEGIN')
      try {
        const { rowCount } = await client.query('SELECT 1 FROM drizzle.__drizzle_migrations WHERE created_at = $1', [migration.createdAt])
        if (rowCount) {
          await client.query('ROLLBACK')
          continue
        }
        for (const statement of migration.statements) await client.query(statement)
        await client.query('INSERT INTO drizzle.__drizzle_migrations (hash, created_at) VALUES ($1, $2)', [migration.hash, migration.createdAt])
        const commit = await client.query('COMMIT')
        if (commit.command !== 'COMMIT') throw new Error(`migrations: ${migration.tag} did not commit (${commit.command})`)
        applied.push(migration.tag)
      } catch (err) {
        await client.query('ROLLBACK').catch(() => {})
        throw err
      }
    }
    await client.query('SELECT pg_advisory_unlock($1)', [LOCK_KEY])
  } catch (err) {
    // The session may still hold the lock; a fresh connection is the only clean state.
    isBroken = true
    throw err
  } finally {
    if (!isBroken) client.off('error', onError)
    client.release(isBroken)
  }
  return { applied }
}

/** A client, a pg.Pool or a PrimaryPool: what can run one statement. */
type Queries = { query<R extends pg.QueryResultRow>(text: string, values?: unknown[]): Promise<pg.QueryResult<R>> }

/** The migrations applied to this database, against this release's list (db/migrate.ts's schemaVersion for PostgreSQL). */
export async function schemaVersion(client: Queries, migrations: Migration[] = readMigrations(pgMigrationsFolder())): Promise<SchemaVersion & { unknown: number[] }> {
  const { rows: exists } = await client.query<{ found: boolean }>(`SELECT to_regclass('drizzle.__drizzle_migrations') IS NOT NULL AS found`)
  const applied = exists[0]?.found
    ? (await client.query<{ created_at: string }>('SELECT created_at FROM drizzle.__drizzle_migrations ORDER BY created_at')).rows.map((r) => Number(r.created_at))
    : []
  const known = new Set(migrations.map((m) => m.createdAt))
  return { ...versionOf(applied, migrations), unknown: applied.filter((createdAt) => !known.has(createdAt)) }
}

/**
 * Refuses a database a newer release has migrated, as SQLite's assertSchemaKnown does: a
 * process starting fresh cannot tell whether a contract step removed what it reads.
 */
export async function assertSchemaKnown(pool: Queries, migrations: Migration[] = readMigrations(pgMigrationsFolder())): Promise<void> {
  const { unknown } = await schemaVersion(pool, migrations)
  if (unknown.length > 0) throw new SchemaTooNew(unknown)
}
