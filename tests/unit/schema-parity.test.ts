import { is, SQL, sql } from 'drizzle-orm'
import * as pgCore from 'drizzle-orm/pg-core'
import * as sqliteCore from 'drizzle-orm/sqlite-core'
import { describe, expect, it } from 'vitest'
import { readMigrations } from '@/db/migrate'
import * as pgSchema from '@/db/pg/schema'
import * as sqliteSchema from '@/db/schema'

// The store has one schema per engine (db/schema.ts for SQLite, db/pg/schema.ts for
// PostgreSQL; docs/decisions/039-postgresql-engine.md). The domain is written once against
// both, so they must declare the same tables, columns, keys and constraints. Types differ on
// purpose (bigint for milliseconds and cents, json for JSON text), so only the storage class is
// compared: integers with integers, text with text, JSON with JSON, bytes (blob, bytea) with bytes.

type Shape = {
  columns: Record<string, { type: string; notNull: boolean; hasDefault: boolean; default: string | null; primary: boolean; isGeneratedId: boolean; unique: string | null }>
  primaryKeys: string[]
  foreignKeys: string[]
  indexes: string[]
  uniqueConstraints: string[]
  checks: string[]
}

const sqliteDialect = new sqliteCore.SQLiteSyncDialect()
const pgDialect = new pgCore.PgDialect()

type AnyColumn = { name: string; notNull: boolean; primary: boolean; isUnique: boolean; uniqueName?: string; default?: unknown; defaultFn?: unknown; getSQLType(): string; columnType: string }
type FkLike = { onDelete?: string; onUpdate?: string; reference(): { columns: { name: string }[]; foreignColumns: { name: string }[]; foreignTable: unknown } }
type IndexLike = { config: { name?: string; unique?: boolean; columns: unknown[]; where?: SQL } }
type Config = {
  name: string
  columns: AnyColumn[]
  primaryKeys: { columns: { name: string }[] }[]
  foreignKeys: FkLike[]
  indexes: IndexLike[]
  uniqueConstraints: { getName(): string | undefined; columns: { name: string }[] }[]
  checks: { name: string; value: SQL }[]
}

function shape(config: Config, engine: 'sqlite' | 'pg', tableName: (table: unknown) => string): Shape {
  const render = (value: SQL) => (engine === 'sqlite' ? sqliteDialect : pgDialect).sqlToQuery(value).sql
  const part = (c: unknown) => (is(c, SQL) ? render(c) : (c as { name: string }).name)
  const referencing = new Set(config.foreignKeys.flatMap((fk) => fk.reference().columns.map((c) => c.name)))
  const columns: Shape['columns'] = {}
  for (const c of config.columns) {
    const sqlType = c.getSQLType()
    const isJson = engine === 'sqlite' ? c.columnType === 'SQLiteTextJson' : sqlType === 'json'
    // SQLite assigns a rowid to an integer primary key; PostgreSQL needs an identity for it
    const isGeneratedId = engine === 'sqlite' ? c.primary && c.columnType === 'SQLiteInteger' && !referencing.has(c.name) : Boolean((c as { generatedIdentity?: unknown }).generatedIdentity)
    columns[c.name] = {
      // bytes: SQLite's blob, PostgreSQL's bytea (stored_files)
      type: isJson ? 'json' : /^(integer|bigint|smallint)$/.test(sqlType) ? 'integer' : sqlType === 'text' ? 'text' : /^(blob|bytea)$/.test(sqlType) ? 'bytes' : sqlType,
      notNull: c.notNull || c.primary,
      // declared defaults only: the rowid or identity is isGeneratedId
      hasDefault: c.default !== undefined || c.defaultFn !== undefined,
      default: defaultValue(c.default),
      primary: c.primary,
      isGeneratedId,
      unique: c.isUnique ? (c.uniqueName ?? '') : null,
    }
  }
  return {
    columns,
    primaryKeys: config.primaryKeys.map((pk) => pk.columns.map((c) => c.name).join(',')).sort(),
    foreignKeys: config.foreignKeys
      .map((fk) => {
        const ref = fk.reference()
        return `(${ref.columns.map((c) => c.name).join(',')}) -> ${tableName(ref.foreignTable)}(${ref.foreignColumns.map((c) => c.name).join(',')}) on delete ${fk.onDelete ?? 'no action'} on update ${fk.onUpdate ?? 'no action'}`
      })
      .sort(),
    indexes: config.indexes
      .map((i) => `${i.config.unique ? 'unique ' : ''}${i.config.name} (${i.config.columns.map(part).join(', ')})${i.config.where ? ` where ${render(i.config.where)}` : ''}`)
      .sort(),
    uniqueConstraints: config.uniqueConstraints.map((u) => `${u.getName()} (${u.columns.map((c) => c.name).join(', ')})`).sort(),
    checks: config.checks.map((c) => `${c.name}: ${render(c.value)}`).sort(),
  }
}

/**
 * A default as a value both engines can be held to: a literal as JSON, a boolean as the 0 or 1
 * SQLite stores, a bare number written in SQL as that number. Any other expression (the
 * current time) is written in its engine's own functions, so only its presence is compared.
 */
function defaultValue(value: unknown): string | null {
  if (value === undefined) return null
  if (typeof value === 'boolean') return value ? '1' : '0'
  if (!is(value, SQL)) return JSON.stringify(value)
  const text = pgDialect.sqlToQuery(value).sql.trim()
  return /^-?\d+$/.test(text) ? text : 'an expression'
}

const sqliteName = (t: unknown) => sqliteCore.getTableConfig(t as sqliteCore.SQLiteTable).name
const pgName = (t: unknown) => pgCore.getTableConfig(t as pgCore.PgTable).name

function sqliteShapes(tables: unknown[]): Map<string, Shape> {
  const configs = tables.filter((t): t is sqliteCore.SQLiteTable => t instanceof sqliteCore.SQLiteTable).map((t) => sqliteCore.getTableConfig(t))
  return new Map(configs.map((c) => [c.name, shape(c as unknown as Config, 'sqlite', sqliteName)]))
}

function pgShapes(tables: unknown[]): Map<string, Shape> {
  const configs = tables.filter((t): t is pgCore.PgTable => t instanceof pgCore.PgTable).map((t) => pgCore.getTableConfig(t))
  return new Map(configs.map((c) => [c.name, shape(c as unknown as Config, 'pg', pgName)]))
}

/** Every difference between the two, one line each; `pgOnly` names tables that stand for something SQLite declares outside drizzle. */
function differences(sqlite: Map<string, Shape>, pg: Map<string, Shape>, pgOnly: readonly string[] = []): string[] {
  const found: string[] = []
  for (const name of sqlite.keys()) if (!pg.has(name)) found.push(`${name}: table missing on pg`)
  for (const name of pg.keys()) if (!sqlite.has(name) && !pgOnly.includes(name)) found.push(`${name}: table missing on sqlite`)
  for (const [name, a] of sqlite) {
    const b = pg.get(name)
    if (!b) continue
    for (const column of new Set([...Object.keys(a.columns), ...Object.keys(b.columns)])) {
      const x = a.columns[column]
      const y = b.columns[column]
      if (!x || !y) {
        found.push(`${name}.${column}: column missing on ${x ? 'pg' : 'sqlite'}`)
        continue
      }
      for (const key of Object.keys(x) as (keyof typeof x)[]) {
        if (x[key] !== y[key]) found.push(`${name}.${column}: ${key} ${JSON.stringify(x[key])} on sqlite, ${JSON.stringify(y[key])} on pg`)
      }
    }
    for (const key of ['primaryKeys', 'foreignKeys', 'indexes', 'uniqueConstraints', 'checks'] as const) {
      for (const item of a[key]) if (!b[key].includes(item)) found.push(`${name}: ${key} ${item} missing on pg`)
      for (const item of b[key]) if (!a[key].includes(item)) found.push(`${name}: ${key} ${item} missing on sqlite`)
    }
  }
  return found
}

describe('db/schema.ts and db/pg/schema.ts', () => {
  it('declare the same tables, columns, keys, indexes and checks; product_search is the FTS5 table', () => {
    const sqlite = sqliteShapes(Object.values(sqliteSchema))
    const pg = pgShapes(Object.values(pgSchema))
    expect(sqlite.size).toBeGreaterThan(30)
    expect(differences(sqlite, pg, [pgSchema.SEARCH_COUNTERPART.pg])).toEqual([])
    expect(pg.has(pgSchema.SEARCH_COUNTERPART.pg)).toBe(true)
    // ...which stands for the FTS5 table SQLite's migrations create outside drizzle's schema
    const sqliteMigrations = readMigrations().flatMap((m) => m.statements)
    expect(sqliteMigrations.some((s) => /^CREATE VIRTUAL TABLE product_search USING fts5\b/m.test(s))).toBe(true)
    expect(sqlite.has('product_search')).toBe(false)
  })
})

// The comparison catches each kind of difference: one small pair of tables per kind, equal but
// for that one thing.
describe('the parity comparison', () => {
  const { integer, text, sqliteTable } = sqliteCore
  const { bigint, integer: pgInteger, json, text: pgText, pgTable } = pgCore

  const sqliteParent = sqliteTable('parent', { id: integer('id').primaryKey(), code: text('code').notNull() })
  const sqliteOther = sqliteTable('other', { id: integer('id').primaryKey() })
  const pgParent = pgTable('parent', { id: bigint('id', { mode: 'number' }).primaryKey().generatedByDefaultAsIdentity(), code: pgText('code').notNull() })
  const pgOther = pgTable('other', { id: bigint('id', { mode: 'number' }).primaryKey().generatedByDefaultAsIdentity() })

  const sqliteChild = sqliteTable(
    'child',
    {
      id: integer('id').primaryKey(),
      parentId: integer('parent_id')
        .notNull()
        .references(() => sqliteParent.id, { onDelete: 'cascade' }),
      sku: text('sku').notNull().unique(),
      quantity: integer('quantity').notNull().default(0),
      note: text('note'),
      payload: text('payload', { mode: 'json' }),
    },
    (t) => [
      sqliteCore.index('child_parent_idx').on(t.parentId),
      sqliteCore.uniqueIndex('child_note_uq').on(t.parentId, t.note).where(sql`note IS NOT NULL`),
      sqliteCore.check('child_quantity_nonnegative', sql`${t.quantity} >= 0`),
    ],
  )
  const sqliteLink = sqliteTable('link', { a: integer('a').notNull(), b: integer('b').notNull() }, (t) => [sqliteCore.primaryKey({ columns: [t.a, t.b] }), sqliteCore.unique('link_b_a_uq').on(t.b, t.a)])

  type ChildChange = {
    id?: 'no identity'
    parentId?: 'other target' | 'set null'
    sku?: 'nullable' | 'not unique'
    quantity?: 'no default' | 'other default' | 'text'
    payload?: 'missing' | 'text'
    extraColumn?: true
    indexes?: 'no partial where' | 'index on another column' | 'missing unique index'
    check?: 'other check'
  }

  /** The SQLite child table's counterpart, but for `change`. */
  function pgChild(change: ChildChange = {}) {
    const id = bigint('id', { mode: 'number' }).primaryKey()
    return pgTable(
      'child',
      {
        id: change.id === 'no identity' ? id : id.generatedByDefaultAsIdentity(),
        parentId: bigint('parent_id', { mode: 'number' })
          .notNull()
          .references(() => (change.parentId === 'other target' ? pgOther.id : pgParent.id), { onDelete: change.parentId === 'set null' ? 'set null' : 'cascade' }),
        sku: change.sku === 'nullable' ? pgText('sku').unique() : change.sku === 'not unique' ? pgText('sku').notNull() : pgText('sku').notNull().unique(),
        quantity:
          change.quantity === 'no default'
            ? pgInteger('quantity').notNull()
            : change.quantity === 'other default'
              ? pgInteger('quantity').notNull().default(1)
              : change.quantity === 'text'
                ? pgText('quantity').notNull().default('0')
                : pgInteger('quantity').notNull().default(0),
        note: pgText('note'),
        ...(change.payload === 'missing' ? {} : { payload: change.payload === 'text' ? pgText('payload') : json('payload') }),
        ...(change.extraColumn ? { extra: pgText('extra') } : {}),
      },
      (t) => [
        pgCore.index('child_parent_idx').on(change.indexes === 'index on another column' ? t.sku : t.parentId),
        ...(change.indexes === 'missing unique index'
          ? []
          : [change.indexes === 'no partial where' ? pgCore.uniqueIndex('child_note_uq').on(t.parentId, t.note) : pgCore.uniqueIndex('child_note_uq').on(t.parentId, t.note).where(sql`note IS NOT NULL`)]),
        pgCore.check('child_quantity_nonnegative', change.check === 'other check' ? sql`${t.quantity} > 0` : sql`${t.quantity} >= 0`),
      ],
    )
  }
  const pgLink = (change?: 'no composite key' | 'other unique') =>
    pgTable('link', { a: bigint('a', { mode: 'number' }).notNull(), b: bigint('b', { mode: 'number' }).notNull() }, (t) => [
      ...(change === 'no composite key' ? [] : [pgCore.primaryKey({ columns: [t.a, t.b] })]),
      change === 'other unique' ? pgCore.unique('link_b_a_uq').on(t.a, t.b) : pgCore.unique('link_b_a_uq').on(t.b, t.a),
    ])

  const compare = (pgTables: unknown[]) => differences(sqliteShapes([sqliteParent, sqliteOther, sqliteChild, sqliteLink]), pgShapes(pgTables))
  const withChild = (child: unknown, link: unknown = pgLink()) => compare([pgParent, pgOther, child, link])

  it('finds nothing when the pair is equal', () => {
    expect(withChild(pgChild())).toEqual([])
  })

  it.each<[string, () => string[], RegExp]>([
    ['a table missing', () => compare([pgParent, pgOther, pgChild()]), /^link: table missing on pg$/],
    ['an extra table', () => compare([pgParent, pgOther, pgChild(), pgLink(), pgTable('stray', { id: pgText('id') })]), /^stray: table missing on sqlite$/],
    ['a column missing', () => withChild(pgChild({ payload: 'missing' })), /^child\.payload: column missing on pg$/],
    ['an extra column', () => withChild(pgChild({ extraColumn: true })), /^child\.extra: column missing on sqlite$/],
    ['not-null', () => withChild(pgChild({ sku: 'nullable' })), /^child\.sku: notNull true on sqlite, false on pg$/],
    ['a default', () => withChild(pgChild({ quantity: 'no default' })), /^child\.quantity: hasDefault true on sqlite, false on pg$/],
    ["a default's value", () => withChild(pgChild({ quantity: 'other default' })), /^child\.quantity: default "0" on sqlite, "1" on pg$/],
    ['a storage class', () => withChild(pgChild({ quantity: 'text' })), /^child\.quantity: type "integer" on sqlite, "text" on pg$/],
    ['JSON kept as plain text', () => withChild(pgChild({ payload: 'text' })), /^child\.payload: type "json" on sqlite, "text" on pg$/],
    ['a rowid id without an identity', () => withChild(pgChild({ id: 'no identity' })), /^child\.id: isGeneratedId true on sqlite, false on pg$/],
    ['a unique column', () => withChild(pgChild({ sku: 'not unique' })), /^child\.sku: unique "child_sku_unique" on sqlite, null on pg$/],
    ['a composite primary key', () => withChild(pgChild(), pgLink('no composite key')), /^link: primaryKeys a,b missing on pg$/],
    ['a unique constraint', () => withChild(pgChild(), pgLink('other unique')), /^link: uniqueConstraints link_b_a_uq \(b, a\) missing on pg$/],
    ['a foreign key target', () => withChild(pgChild({ parentId: 'other target' })), /^child: foreignKeys \(parent_id\) -> parent\(id\) on delete cascade on update no action missing on pg$/],
    ['a foreign key on-delete', () => withChild(pgChild({ parentId: 'set null' })), /^child: foreignKeys .* on delete set null .* missing on sqlite$/],
    ['an index on other columns', () => withChild(pgChild({ indexes: 'index on another column' })), /^child: indexes child_parent_idx \(parent_id\) missing on pg$/],
    ['a unique index missing', () => withChild(pgChild({ indexes: 'missing unique index' })), /^child: indexes unique child_note_uq \(parent_id, note\) where note IS NOT NULL missing on pg$/],
    ['a partial index without its where', () => withChild(pgChild({ indexes: 'no partial where' })), /^child: indexes unique child_note_uq \(parent_id, note\) missing on sqlite$/],
    ['a check', () => withChild(pgChild({ check: 'other check' })), /^child: checks child_quantity_nonnegative: "child"."quantity" > 0 missing on sqlite$/],
  ])('catches %s', (_kind, run, expected) => {
    const found = run()
    expect(found.some((line) => expected.test(line)), found.join('\n')).toBe(true)
  })
})
