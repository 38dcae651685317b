import crypto from 'node:crypto'
import type Database from 'better-sqlite3'
import { getTableConfig, PgTable, type PgColumn } from 'drizzle-orm/pg-core'
import type pg from 'pg'
import { migrate } from './migrate'
import * as schema from './schema'
import { transaction, type Connects } from './transaction'

// The move of a SQLite store into an empty PostgreSQL database (npm run db:move-to-postgres,
// docs/decisions/042-move-to-postgres.md). Every row is read from ONE SQLite read transaction,
// so the copy is one consistent snapshot while the store goes on writing, and written in ONE
// PostgreSQL transaction, so a failure at any point leaves the target as empty as it was.
// Before COMMIT every table is checked: its row count and a checksum computed the same way
// on both sides (sha256 over its rows in primary-key order, each value as text), so a row
// lost, doubled or changed on the way stops the move. A bytes column (stored_files.bytes) is
// checksummed by the sha256 of its bytes, which PostgreSQL computes itself: the check reads
// back a digest per row, not the files.
//
// stored_files also gets the files of the store's disk that it has no row for (a store made
// before files were kept in the database, docs/decisions/049-files-in-the-database.md): they
// are listed inside the snapshot, copied in key order among the table's rows, and counted and
// checksummed with them.

/** A table of the store as the move copies it. */
type TablePlan = {
  name: string
  columns: string[]
  /** json columns are read back as ::text, the text they keep byte for byte. */
  jsonColumns: Set<string>
  /** Text key columns are ordered by bytes on both sides (SQLite BINARY, PostgreSQL "C"). */
  textColumns: Set<string>
  primaryKey: string[]
  /** bytea columns: batched by size, checksummed by their sha256. */
  byteColumns: Set<string>
}

/** A row stored_files lacks, from a file on the store's disk: read only when it is copied. */
type FileRow = { key: string; read: () => { contentType: string; sizeBytes: number; sha256: string; bytes: Buffer; createdAt: number } }

type TableMoved = { table: string; rows: number; checksum: string }
type IdentityMoved = { table: string; column: string; restartWith: string }

export type MoveReport = {
  tables: TableMoved[]
  rows: number
  identities: IdentityMoved[]
  /** Files of the store's disk that stored_files had no row for, copied as its rows. */
  filesAdded: number
  /** Products in the search index PostgreSQL's triggers built, the same ones SQLite's FTS5 index holds. */
  searchIndexed: number
  /** When the SQLite snapshot was taken: what was written after it is not in the copy. */
  snapshotAt: number
  millis: number
}

export type MoveOptions = {
  /** Rows per INSERT (fewer when a table has so many columns that PostgreSQL's 65,535 parameters would be exceeded). */
  batchRows?: number
  /** Called after each table is copied, while the snapshot is still open (tests write to the store here). */
  afterTable?: (table: string) => void
  /** A failpoint (tests only): one row of this table is left out of the copy, which the check must catch. */
  dropOneRowOf?: string
  /** The files of the store's disk, listed inside the snapshot; those stored_files has no row for are added to it. */
  filesOnDisk?: () => FileRow[]
}

/** The target already holds rows: a move only ever copies into an empty database. */
class TargetNotEmpty extends Error {
  constructor(readonly tables: string[]) {
    super(`the target database is not empty (${tables.map((t) => `${t} has rows`).join('; ')}); a move copies into an empty database only, and nothing was changed`)
    this.name = 'TargetNotEmpty'
  }
}

/** A table's copy does not match its source; the transaction was rolled back. */
export class CheckFailed extends Error {
  constructor(
    readonly table: string,
    readonly figure: 'row count' | 'checksum' | 'indexed products',
    readonly source: string,
    readonly target: string,
  ) {
    super(`check failed for ${table}: ${figure} ${source} in SQLite but ${target} in PostgreSQL; rolled back, the target is left empty`)
    this.name = 'CheckFailed'
  }
}

/** Source and target cannot hold the same store (a schema or server setting differs). */
class CannotMove extends Error {
  constructor(reason: string) {
    super(reason)
    this.name = 'CannotMove'
  }
}

// product_search is filled by the triggers of db/pg/migrations/0001_add_search_triggers.sql as
// products, variants and collections arrive; SQLite's FTS5 table and its shadow tables are an
// index of the same rows, not data to copy.
const DERIVED_TABLES = new Set(['product_search'])

const MAX_PARAMETERS = 65_535
const DEFAULT_BATCH_ROWS = 1_000
// A batch of stored files is sent once it holds this many bytes, not 1,000 pictures at once.
const BATCH_BYTES = 16 * 1024 * 1024
const FILES_TABLE = 'stored_files'
const CHECK_FETCH_ROWS = 2_000

const quote = (name: string) => `"${name.replaceAll('"', '""')}"`

function pgTables() {
  return Object.values(schema as Record<string, unknown>)
    .filter((value): value is PgTable => value instanceof PgTable)
    .map((table) => getTableConfig(table))
}

/** Every copied table, parents before the tables whose foreign keys point at them. */
function copyPlan(): TablePlan[] {
  const configs = pgTables().filter((t) => !DERIVED_TABLES.has(t.name))
  const parents = new Map(configs.map((t) => [t.name, new Set(t.foreignKeys.map((fk) => getTableConfig(fk.reference().foreignTable).name).filter((p) => p !== t.name))]))
  const ordered: typeof configs = []
  const placed = new Set<string>()
  while (ordered.length < configs.length) {
    const ready = configs.filter((t) => !placed.has(t.name) && [...parents.get(t.name)!].every((p) => placed.has(p)))
    if (ready.length === 0) throw new Error('move: the foreign keys of db/pg/schema.ts form a cycle; no table can go first')
    for (const t of ready) {
      ordered.push(t)
      placed.add(t.name)
    }
  }
  return ordered.map((t) => {
    const columns = t.columns.map((c: PgColumn) => c.name)
    const primaryKey = t.primaryKeys[0]?.columns.map((c) => c.name) ?? t.columns.filter((c) => c.primary).map((c) => c.name)
    if (primaryKey.length === 0) throw new Error(`move: ${t.name} has no primary key to order its rows by`)
    return {
      name: t.name,
      columns,
      jsonColumns: new Set(t.columns.filter((c) => c.getSQLType() === 'json').map((c) => c.name)),
      textColumns: new Set(t.columns.filter((c) => c.getSQLType() === 'text').map((c) => c.name)),
      primaryKey,
      byteColumns: new Set(t.columns.filter((c) => c.getSQLType() === 'bytea').map((c) => c.name)),
    }
  })
}

/**
 * One value as the checksum sees it, whichever side it came from: SQLite's integers arrive as
 * bigint (safeIntegers), PostgreSQL's int8 as a decimal string and int4 as a number, json as
 * its text. NULL stays null, apart from every string (the text "null" included).
 */
function normalize(value: unknown): string | null {
  if (value === null || value === undefined) return null
  if (typeof value === 'string') return value
  if (typeof value === 'bigint' || typeof value === 'number') return String(value)
  // bytes as their digest, the text PostgreSQL's side selects (targetChecksum)
  if (Buffer.isBuffer(value)) return `sha256:${crypto.createHash('sha256').update(value).digest('hex')}`
  if (typeof value === 'boolean') return value ? '1' : '0'
  throw new Error(`move: cannot checksum a value of type ${typeof value}`)
}

const rowText = (row: unknown[]) => `${JSON.stringify(row.map(normalize))}\n`

/** The tables among `names` that exist in the target and hold at least one row. */
async function tablesWithRows(client: Pick<pg.PoolClient, 'query'>, names: string[]): Promise<string[]> {
  const found: string[] = []
  for (const name of names) {
    const { rows } = await client.query<{ exists: string | null }>('SELECT to_regclass($1)::text AS exists', [quote(name)])
    if (!rows[0]?.exists) continue
    const { rowCount } = await client.query(`SELECT 1 FROM ${quote(name)} LIMIT 1`)
    if (rowCount) found.push(name)
  }
  return found
}

/** The SQLite store must have exactly the columns the PostgreSQL schema declares, table by table. */
function assertSourceMatches(source: Database.Database, plan: TablePlan[]): void {
  for (const table of plan) {
    const have = (source.prepare(`SELECT name FROM pragma_table_info(?)`).pluck().all(table.name) as string[]).sort()
    const want = [...table.columns].sort()
    if (have.length === 0) throw new CannotMove(`the SQLite store has no table ${table.name}: migrate it with this release first (npm run db:migrate)`)
    if (have.join(',') !== want.join(',')) {
      const missing = want.filter((c) => !have.includes(c))
      const extra = have.filter((c) => !want.includes(c))
      throw new CannotMove(`the SQLite table ${table.name} does not match the PostgreSQL schema (missing: ${missing.join(', ') || 'none'}; not in PostgreSQL: ${extra.join(', ') || 'none'}); this release cannot move it`)
    }
  }
}

// The row triggers that keep product_search in step (db/pg/migrations/0001_add_search_triggers.sql)
// and fire on the rows a move inserts.
const SEARCH_TRIGGERS = [
  ['products', 'product_search_products'],
  ['variants', 'product_search_variants'],
  ['product_collections', 'product_search_product_collections'],
] as const

/**
 * Copies the SQLite store behind `source` into the PostgreSQL database behind `target`,
 * migrated first and refused unless empty. Resolves with what was copied; throws
 * TargetNotEmpty, CannotMove or CheckFailed, each leaving the target without a copied row.
 */
export async function moveToPostgres(source: Database.Database, target: Connects, options: MoveOptions = {}): Promise<MoveReport> {
  const started = performance.now()
  const plan = copyPlan()
  const everyTable = pgTables().map((t) => t.name)
  assertSourceMatches(source, plan)

  // Refused before anything is applied, so a database in use is not even migrated.
  const client = await target.connect()
  let failure: Error | undefined
  try {
    const { rows } = await client.query<{ server_encoding: string }>('SHOW server_encoding')
    if (rows[0]?.server_encoding !== 'UTF8') throw new CannotMove(`the target database's encoding is ${rows[0]?.server_encoding}, not UTF8: create it with ENCODING 'UTF8' so every text arrives as written`)
    const early = await tablesWithRows(client, everyTable)
    if (early.length) throw new TargetNotEmpty(early)
  } catch (err) {
    // a connection that failed (lost, say) is closed, not handed to the migration next
    if (!(err instanceof TargetNotEmpty || err instanceof CannotMove)) failure = err instanceof Error ? err : new Error(String(err))
    throw err
  } finally {
    client.release(failure)
  }
  await migrate(target)

  if (source.inTransaction) throw new Error('move: the SQLite connection is already in a transaction')
  // A read transaction: its snapshot is taken at its first read and holds until it ends,
  // whatever the store's other connections commit meanwhile (WAL keeps the old pages).
  source.exec('BEGIN DEFERRED')
  try {
    source.prepare('SELECT count(*) FROM sqlite_schema').get()
    const snapshotAt = Date.now()
    const sequenceFloors = readSequenceFloors(source)
    const sourceCounts = new Map(plan.map((t) => [t.name, BigInt(source.prepare(`SELECT count(*) FROM ${quote(t.name)}`).pluck().safeIntegers(true).get() as bigint)]))
    // Listed after the snapshot began: a file whose row the snapshot holds was on the disk
    // before that row committed (an upload writes its file first).
    const filesAdded = filesStoredFilesLacks(source, options.filesOnDisk?.() ?? [])
    sourceCounts.set(FILES_TABLE, sourceCounts.get(FILES_TABLE)! + BigInt(filesAdded.length))

    const result = await transaction(target, async (pgClient) => {
      // Nobody else writes these tables until COMMIT; a second move waits here, then finds rows.
      await pgClient.query(`LOCK TABLE ${everyTable.map(quote).join(', ')} IN EXCLUSIVE MODE`)
      const late = await tablesWithRows(pgClient, everyTable)
      if (late.length) throw new TargetNotEmpty(late)

      // PostgreSQL's search triggers would rebuild a product's document once for the product
      // and again for each of its variants and collections as they are copied: a 10,000-product
      // catalog took 101 s so (docs/scale-out.md). Off for the copy, the index is built once
      // from every product at the end. ALTER TABLE is part of this transaction: a move that
      // fails rolls it back with the rows, and the triggers are on again.
      await pgClient.query(SEARCH_TRIGGERS.map(([table, trigger]) => `ALTER TABLE ${table} DISABLE TRIGGER ${trigger}`).join('; '))
      const sourceSums = new Map<string, string>()
      for (const table of plan) {
        sourceSums.set(table.name, await copyTable(source, pgClient, table, options, table.name === FILES_TABLE ? filesAdded : []))
        options.afterTable?.(table.name)
      }
      await pgClient.query('SELECT product_search_refresh(ARRAY(SELECT id FROM products))')
      await pgClient.query(SEARCH_TRIGGERS.map(([table, trigger]) => `ALTER TABLE ${table} ENABLE TRIGGER ${trigger}`).join('; '))

      const tables: TableMoved[] = []
      for (const table of plan) {
        const { rows, checksum } = await targetChecksum(pgClient, table)
        const sourceRows = sourceCounts.get(table.name)!
        if (BigInt(rows) !== sourceRows) throw new CheckFailed(table.name, 'row count', String(sourceRows), String(rows))
        const sourceSum = sourceSums.get(table.name)!
        if (checksum !== sourceSum) throw new CheckFailed(table.name, 'checksum', sourceSum, checksum)
        tables.push({ table: table.name, rows, checksum })
      }

      const searchIndexed = await checkSearchIndex(source, pgClient)
      const identities = await restartIdentities(pgClient, plan, sequenceFloors)
      return { tables, identities, searchIndexed }
    })
    return { ...result, rows: result.tables.reduce((sum, t) => sum + t.rows, 0), filesAdded: filesAdded.length, snapshotAt, millis: Math.round(performance.now() - started) }
  } finally {
    source.exec('ROLLBACK')
  }
}

/**
 * Every table the move copies, counted and checksummed in one snapshot exactly as the move
 * checks its copy: a restored backup is compared with the database it was taken from this way.
 */
export async function checksumTables(target: Connects): Promise<TableMoved[]> {
  const plan = copyPlan()
  return transaction(
    target,
    async (client) => {
      const tables: TableMoved[] = []
      for (const table of plan) tables.push({ table: table.name, ...(await targetChecksum(client, table)) })
      return tables
    },
    { isolation: 'repeatable read' },
  )
}

/** SQLite's AUTOINCREMENT high-water marks: an id it handed out once is never handed out again, even if its row is gone. */
function readSequenceFloors(source: Database.Database): Map<string, bigint> {
  const hasTable = source.prepare(`SELECT 1 FROM sqlite_schema WHERE type = 'table' AND name = 'sqlite_sequence'`).get()
  if (!hasTable) return new Map()
  const rows = source.prepare('SELECT name, seq FROM sqlite_sequence').safeIntegers(true).all() as { name: string; seq: bigint }[]
  return new Map(rows.map((r) => [r.name, r.seq]))
}

/** Byte order, as both sides order a text key (SQLite BINARY, PostgreSQL "C"). */
const byBytes = (a: string, b: string) => Buffer.compare(Buffer.from(a), Buffer.from(b))

/** The files stored_files has no row for in the snapshot, in key order. */
function filesStoredFilesLacks(source: Database.Database, files: FileRow[]): FileRow[] {
  if (files.length === 0) return []
  const stored = new Set(source.prepare(`SELECT key FROM ${FILES_TABLE}`).pluck().all() as string[])
  return files.filter((f) => !stored.has(f.key)).sort((a, b) => byBytes(a.key, b.key))
}

/** The snapshot's rows with the added files' rows among them, in key order (stored_files' key is its first column). */
function* withFiles(rows: IterableIterator<unknown[]>, columns: string[], files: FileRow[]): Generator<unknown[]> {
  const asRow = (file: FileRow) => {
    const { contentType, sizeBytes, sha256, bytes, createdAt } = file.read()
    const values: Record<string, unknown> = { key: file.key, content_type: contentType, size_bytes: sizeBytes, sha256, bytes, created_at: createdAt }
    return columns.map((c) => {
      if (!(c in values)) throw new Error(`move: no value for ${FILES_TABLE}.${c} from a file on disk`)
      return values[c]
    })
  }
  let next = 0
  for (const row of rows) {
    while (next < files.length && byBytes(files[next]!.key, row[0] as string) < 0) yield asRow(files[next++]!)
    yield row
  }
  while (next < files.length) yield asRow(files[next++]!)
}

const bytesIn = (row: unknown[]) => row.reduce<number>((sum, value) => sum + (Buffer.isBuffer(value) ? value.byteLength : 0), 0)

/** Streams one table from the snapshot (and `files`, for stored_files) into PostgreSQL in batches; returns the source's checksum. */
async function copyTable(source: Database.Database, client: pg.PoolClient, table: TablePlan, options: MoveOptions, files: FileRow[]): Promise<string> {
  const columnList = table.columns.map(quote).join(', ')
  const batchRows = Math.max(1, Math.min(options.batchRows ?? DEFAULT_BATCH_ROWS, Math.floor(MAX_PARAMETERS / table.columns.length)))
  const select = source.prepare(`SELECT ${columnList} FROM ${quote(table.name)} ORDER BY ${table.primaryKey.map(quote).join(', ')}`).raw(true).safeIntegers(true)
  const hash = crypto.createHash('sha256')
  let isDropPending = options.dropOneRowOf === table.name
  let batch: unknown[][] = []
  let batchBytes = 0
  const flush = async () => {
    if (batch.length === 0) return
    const width = table.columns.length
    const values = batch.map((_, r) => `(${table.columns.map((__, c) => `$${r * width + c + 1}`).join(', ')})`).join(', ')
    // A full batch is the same statement every time: prepared once per connection.
    const name = batch.length === batchRows ? `move_${table.name}_${batchRows}` : undefined
    try {
      await client.query({ name, text: `INSERT INTO ${quote(table.name)} (${columnList}) VALUES ${values}`, values: batch.flat() })
    } catch (err) {
      throw new CannotMove(`copying ${table.name} failed: ${err instanceof Error ? err.message : String(err)}`)
    }
    batch = []
    batchBytes = 0
  }
  const rows = select.iterate() as IterableIterator<unknown[]>
  if (files.length > 0 && table.columns[0] !== 'key') throw new Error(`move: files are added to ${FILES_TABLE}, whose first column is its key`)
  for (const row of files.length > 0 ? withFiles(rows, table.columns, files) : rows) {
    hash.update(rowText(row))
    if (isDropPending) {
      isDropPending = false
      continue
    }
    batch.push(row)
    if (table.byteColumns.size > 0) batchBytes += bytesIn(row)
    if (batch.length === batchRows || batchBytes >= BATCH_BYTES) await flush()
  }
  await flush()
  return hash.digest('hex')
}

/** Reads a table back from PostgreSQL in the source's order, through a cursor, and checksums it the same way. */
async function targetChecksum(client: pg.PoolClient, table: TablePlan): Promise<{ rows: number; checksum: string }> {
  const columns = table.columns
    .map((c) => (table.jsonColumns.has(c) ? `${quote(c)}::text` : table.byteColumns.has(c) ? `'sha256:' || encode(sha256(${quote(c)}), 'hex')` : quote(c)))
    .join(', ')
  const order = table.primaryKey.map((c) => (table.textColumns.has(c) ? `${quote(c)} COLLATE "C"` : quote(c))).join(', ')
  await client.query(`DECLARE move_check NO SCROLL CURSOR FOR SELECT ${columns} FROM ${quote(table.name)} ORDER BY ${order}`)
  const hash = crypto.createHash('sha256')
  let rows = 0
  for (;;) {
    const result = await client.query<unknown[]>({ text: `FETCH ${CHECK_FETCH_ROWS} FROM move_check`, rowMode: 'array' })
    for (const row of result.rows) hash.update(rowText(row))
    rows += result.rows.length
    if (result.rows.length < CHECK_FETCH_ROWS) break
  }
  await client.query('CLOSE move_check')
  return { rows, checksum: hash.digest('hex') }
}

/**
 * The search index is not copied but rebuilt by the target's triggers; it must hold the same
 * products as SQLite's FTS5 index in the snapshot, or search would answer differently.
 */
async function checkSearchIndex(source: Database.Database, client: pg.PoolClient): Promise<number> {
  const sourceIds = (source.prepare('SELECT rowid FROM product_search ORDER BY rowid').pluck().safeIntegers(true).all() as bigint[]).map(String)
  const { rows } = await client.query<[string]>({ text: 'SELECT product_id FROM product_search ORDER BY product_id', rowMode: 'array' })
  const targetIds = rows.map((r) => String(r[0]))
  const digest = (ids: string[]) => crypto.createHash('sha256').update(ids.join(',')).digest('hex')
  if (sourceIds.length !== targetIds.length) throw new CheckFailed('product_search', 'indexed products', String(sourceIds.length), String(targetIds.length))
  const [sourceSum, targetSum] = [digest(sourceIds), digest(targetIds)]
  if (sourceSum !== targetSum) throw new CheckFailed('product_search', 'indexed products', `${sourceIds.length} (sha256 ${sourceSum})`, `${targetIds.length} (sha256 ${targetSum})`)
  return targetIds.length
}

/**
 * Moves every identity past the largest id copied (and past SQLite's AUTOINCREMENT mark), so
 * the first insert on PostgreSQL does not collide with a copied row. RESTART is part of the
 * transaction, unlike setval(): a move that rolls back leaves the sequences as they were.
 */
async function restartIdentities(client: pg.PoolClient, plan: TablePlan[], floors: Map<string, bigint>): Promise<IdentityMoved[]> {
  const copied = new Set(plan.map((t) => t.name))
  const { rows } = await client.query<{ table_name: string; column_name: string }>(
    `SELECT table_name, column_name FROM information_schema.columns WHERE table_schema = current_schema() AND is_identity = 'YES' ORDER BY table_name`,
  )
  const moved: IdentityMoved[] = []
  for (const { table_name: table, column_name: column } of rows) {
    if (!copied.has(table)) continue
    const { rows: max } = await client.query<{ max: string | null }>(`SELECT max(${quote(column)})::text AS max FROM ${quote(table)}`)
    const largest = [max[0]?.max == null ? undefined : BigInt(max[0].max), floors.get(table)].filter((v): v is bigint => v !== undefined)
    if (largest.length === 0) continue
    const restartWith = String(largest.reduce((a, b) => (a > b ? a : b)) + 1n)
    await client.query(`ALTER TABLE ${quote(table)} ALTER COLUMN ${quote(column)} RESTART WITH ${restartWith}`)
    moved.push({ table, column, restartWith })
  }
  return moved
}
