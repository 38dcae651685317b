import fs from 'node:fs'
import path from 'node:path'
import { generateDrizzleJson, generateMigration, generateSQLiteDrizzleJson, generateSQLiteMigration } from 'drizzle-kit/api'
import { describe, expect, it } from 'vitest'
import { migrationsFolder } from '@/db/migrate'
import { pgMigrationsFolder } from '@/db/pg/migrate'
import * as pgSchema from '@/db/pg/schema'
import * as sqliteSchema from '@/db/schema'

// Each engine's migrations are generated from its schema: what drizzle-kit would generate now,
// against the snapshot of the last migration, is nothing. A schema edited without
// `npm run db:generate` / `npm run db:generate:pg` fails here, before a database lacks the change.

type Snapshot = { id: string; tables: Record<string, { columns: Record<string, unknown> }> }

function lastSnapshot(folder: string): Snapshot {
  const journal = JSON.parse(fs.readFileSync(path.join(folder, 'meta', '_journal.json'), 'utf8')) as { entries: { idx: number }[] }
  const last = journal.entries.at(-1)!
  return JSON.parse(fs.readFileSync(path.join(folder, 'meta', `${String(last.idx).padStart(4, '0')}_snapshot.json`), 'utf8')) as Snapshot
}

const pgPending = async (snapshot: Snapshot) => generateMigration(snapshot as never, generateDrizzleJson(pgSchema as Record<string, unknown>, snapshot.id))

describe('migrations are current with their schema', () => {
  it('PostgreSQL: db/pg/migrations holds everything db/pg/schema.ts declares', async () => {
    expect(await pgPending(lastSnapshot(pgMigrationsFolder()))).toEqual([])
  })

  it('SQLite: db/migrations holds everything db/schema.ts declares', async () => {
    const snapshot = lastSnapshot(migrationsFolder())
    const current = await generateSQLiteDrizzleJson(sqliteSchema as Record<string, unknown>, snapshot.id)
    expect(await generateSQLiteMigration(snapshot as never, current)).toEqual([])
  })

  it('a column missing from the last snapshot is found', async () => {
    const snapshot = lastSnapshot(pgMigrationsFolder())
    delete snapshot.tables['public.orders']!.columns.carrier
    expect(await pgPending(snapshot)).toEqual(['ALTER TABLE "orders" ADD COLUMN "carrier" text;'])
  })
})
