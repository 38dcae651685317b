import { getTableConfig, PgTable, type PgColumn } from 'drizzle-orm/pg-core'
import pg from 'pg'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { migrate } from '@/db/pg/migrate'
import * as schema from '@/db/pg/schema'
import { startPostgres, type Postgres } from '../support/postgres'

// db/pg/migrations, applied to a real PostgreSQL by db/pg/migrate.ts, build what
// db/pg/schema.ts declares: every table, column, foreign key and unique index is read back
// from the server's own catalog.

const tables = Object.values(schema as Record<string, unknown>)
  .filter((value): value is PgTable => value instanceof PgTable)
  .map((table) => getTableConfig(table))

let server: Postgres
let pool: pg.Pool
let firstRun: string[]

beforeAll(async () => {
  server = await startPostgres()
  pool = new pg.Pool({ connectionString: server.url, max: 4 })
  firstRun = (await migrate(pool)).applied
})

afterAll(async () => {
  await pool?.end()
  await server?.stop()
})

const rows = async <T,>(text: string, values: unknown[] = []) => (await pool.query(text, values)).rows as T[]

describe('db/pg/migrate', () => {
  it('applies every migration once; a second run, or several at once, applies nothing', async () => {
    expect(firstRun.length).toBeGreaterThan(0)
    expect(firstRun[0]).toBe('0000_create_store')
    const again = await Promise.all([migrate(pool), migrate(pool)])
    expect(again.map((r) => r.applied)).toEqual([[], []])
    const [count] = await rows<{ n: number }>('SELECT count(*)::int AS n FROM drizzle.__drizzle_migrations')
    expect(count!.n).toBe(firstRun.length)
  })
})

describe('the migrated database has what db/pg/schema.ts declares', () => {
  it('every table and column, with its nullability', async () => {
    const actual = await rows<{ table_name: string; column_name: string; is_nullable: 'YES' | 'NO' }>(
      `SELECT table_name, column_name, is_nullable FROM information_schema.columns WHERE table_schema = 'public'`,
    )
    const found = new Map(actual.map((c) => [`${c.table_name}.${c.column_name}`, c.is_nullable === 'NO']))
    const expected = tables.flatMap((t) => t.columns.map((c: PgColumn) => [`${t.name}.${c.name}`, c.notNull || c.primary] as const))
    expect(expected.length).toBeGreaterThan(200)
    for (const [column, isNotNull] of expected) expect({ column, isNotNull: found.get(column) }).toEqual({ column, isNotNull })
    expect(new Set(actual.map((c) => c.table_name))).toEqual(new Set(tables.map((t) => t.name)))
  })

  it('every foreign key, with its columns, target and on-delete rule', async () => {
    const actual = await rows<{ name: string; table_name: string; columns: string[]; target: string; on_delete: string }>(`
      SELECT c.conname AS name, c.conrelid::regclass::text AS table_name, c.confrelid::regclass::text AS target,
        array(SELECT a.attname::text FROM unnest(c.conkey) WITH ORDINALITY k(n, i) JOIN pg_attribute a ON a.attrelid = c.conrelid AND a.attnum = k.n ORDER BY k.i) AS columns,
        CASE c.confdeltype WHEN 'c' THEN 'cascade' WHEN 'n' THEN 'set null' WHEN 'r' THEN 'restrict' WHEN 'd' THEN 'set default' ELSE 'no action' END AS on_delete
      FROM pg_constraint c JOIN pg_namespace ns ON ns.oid = c.connamespace WHERE c.contype = 'f' AND ns.nspname = 'public'`)
    const expected = tables.flatMap((t) =>
      t.foreignKeys.map((fk) => {
        const ref = fk.reference()
        return { table_name: t.name, columns: ref.columns.map((c) => c.name), target: getTableConfig(ref.foreignTable).name, on_delete: fk.onDelete ?? 'no action' }
      }),
    )
    expect(expected.length).toBeGreaterThan(20)
    const shape = (fks: { table_name: string; columns: string[]; target: string; on_delete: string }[]) =>
      fks.map((fk) => `${fk.table_name}(${fk.columns.join(',')}) -> ${fk.target} on delete ${fk.on_delete}`).sort()
    expect(shape(actual)).toEqual(shape(expected))
  })

  it('every unique constraint and unique index, on its columns', async () => {
    const actual = await rows<{ table_name: string; definition: string; name: string }>(`
      SELECT t.relname AS table_name, i.relname AS name, pg_get_indexdef(x.indexrelid) AS definition
      FROM pg_index x JOIN pg_class i ON i.oid = x.indexrelid JOIN pg_class t ON t.oid = x.indrelid JOIN pg_namespace ns ON ns.oid = t.relnamespace
      WHERE x.indisunique AND NOT x.indisprimary AND ns.nspname = 'public'`)
    const byName = new Map(actual.map((u) => [u.name, u]))
    const expected = tables.flatMap((t) => [
      ...t.columns.filter((c) => c.isUnique).map((c) => ({ table: t.name, name: c.uniqueName!, columns: [c.name] })),
      ...t.uniqueConstraints.map((u) => ({ table: t.name, name: u.getName()!, columns: u.columns.map((c) => c.name) })),
      ...t.indexes.filter((i) => i.config.unique).map((i) => ({ table: t.name, name: i.config.name!, columns: i.config.columns.map((c) => (c as PgColumn).name) })),
    ])
    expect(expected.length).toBeGreaterThan(15)
    for (const u of expected) {
      const found = byName.get(u.name)
      expect(found, `${u.table}: unique ${u.name}`).toBeDefined()
      expect(found!.table_name).toBe(u.table)
      expect(found!.definition).toMatch(/^CREATE UNIQUE INDEX/)
      expect(found!.definition).toContain(`(${u.columns.join(', ')})`)
    }
    expect(actual).toHaveLength(expected.length)
  })

  it('every other index (with its method) and every check', async () => {
    const indexes = await rows<{ name: string; definition: string }>(`SELECT indexname AS name, indexdef AS definition FROM pg_indexes WHERE schemaname = 'public'`)
    const byName = new Map(indexes.map((i) => [i.name, i.definition]))
    for (const t of tables) {
      for (const i of t.indexes.filter((i) => !i.config.unique)) {
        expect(byName.get(i.config.name!), `${t.name}: index ${i.config.name}`).toMatch(new RegExp(`ON public\\.${t.name} USING ${i.config.method ?? 'btree'} `))
      }
    }
    const checks = await rows<{ name: string; table_name: string }>(
      `SELECT c.conname AS name, c.conrelid::regclass::text AS table_name FROM pg_constraint c JOIN pg_namespace ns ON ns.oid = c.connamespace WHERE c.contype = 'c' AND ns.nspname = 'public'`,
    )
    const expected = tables.flatMap((t) => t.checks.map((c) => `${t.name}.${c.name}`)).sort()
    expect(expected.length).toBeGreaterThan(5)
    expect(checks.map((c) => `${c.table_name}.${c.name}`).sort()).toEqual(expected)
    // and a check holds: stock never negative
    await expect(pool.query(`INSERT INTO products (id, slug, title) VALUES (900, 'c', 'C'); INSERT INTO variants (product_id, sku, title, price_cents, stock) VALUES (900, 'C-1', 'C', 100, -1)`)).rejects.toMatchObject({
      code: '23514',
    })
  })

  it('keeps a row copied from SQLite exactly: milliseconds, cents past 2^31, flags as 0/1, JSON text as written', async () => {
    await pool.query(
      `INSERT INTO orders (id, stripe_checkout_session_id, public_token, status, total_cents, currency, is_oversold, discount_codes, created_at, updated_at)
       VALUES (7, 'cs_copied', 'tok', 'paid', 3000000000, 'usd', 1, '["A",  "B"]', 1764979200123, 1764979200123)`,
    )
    const [row] = await rows<Record<string, unknown>>(`SELECT id::text, total_cents::text, is_oversold, discount_codes::text, created_at::text FROM orders WHERE id = 7`)
    expect(row).toEqual({ id: '7', total_cents: '3000000000', is_oversold: 1, discount_codes: '["A",  "B"]', created_at: '1764979200123' })
    // a default time is the statement's, in whole milliseconds
    const [fresh] = await rows<{ created_at: string }>(`INSERT INTO products (slug, title) VALUES ('p', 'P') RETURNING created_at::text`)
    expect(fresh!.created_at).toMatch(/^\d{13}$/)
  })

  it('keeps the search document of an active product in step with the catalog', async () => {
    await pool.query(`INSERT INTO products (id, slug, title, description) VALUES (100, 'wool-hat', 'Wool hat', 'Warm and soft')`)
    await pool.query(`INSERT INTO variants (product_id, sku, title, price_cents, options) VALUES (100, 'HAT-NAVY', 'Navy', 2500, '{"Colour":"Navy"}')`)
    await pool.query(`INSERT INTO collections (id, slug, title) VALUES (100, 'winter', 'Winter')`)
    await pool.query(`INSERT INTO product_collections (product_id, collection_id) VALUES (100, 100)`)
    const search = async (words: string) =>
      (await rows<{ product_id: string }>(`SELECT product_id::text FROM product_search WHERE document @@ to_tsquery('simple', $1)`, [words])).map((r) => r.product_id)
    expect(await search('wool:*')).toEqual(['100'])
    expect(await search('nav:* & winter')).toEqual(['100'])
    // a SKU's parts, as FTS5 cuts them (0002: punctuation is a space, no hyphenated compound)
    expect(await search('hat <-> navy')).toEqual(['100'])
    expect(await search('hat-navy')).toEqual([])
    await pool.query(`UPDATE collections SET title = 'Autumn' WHERE id = 100`)
    expect(await search('winter')).toEqual([])
    expect(await search('autumn')).toEqual(['100'])
    await pool.query(`UPDATE products SET status = 'draft' WHERE id = 100`)
    expect(await search('wool:*')).toEqual([])
  })
})
