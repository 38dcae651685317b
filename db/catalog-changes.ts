import type { Database, Statement } from 'better-sqlite3'
import { recordCatalogChanged, recordStockChanged, soldOutStates } from './pg/changes'
import { soldOutSqlText } from './stock-rules'
import { native, type Steps } from './tx'

// A row of catalog_changes as both engines read it back: lib/cache.ts on SQLite and
// db/pg/changes.ts on PostgreSQL hand the same shape on, so whoever announces a change cannot
// tell which engine recorded it.
//
// A row says what one product shows after a committed change to its stock or holds: whether
// it is sold out (`isSoldOut` 0 or 1, as SQLite stores flags) and how many of its variants
// are. A row with no product (`productId` and `slug` null) is a catalog edit: every page may
// have changed. `origin` names the process that wrote it, so that process skips it (it heard
// its own changes as they committed).
export type ChangeRow = { id: number; productId: number | null; slug: string | null; isSoldOut: number; soldOutVariants: number; origin: string }

// ---------------------------------------------------------------------------------------
// Recording, as steps of a transaction body (db/tx.ts) on either engine: SQLite's statements
// below, prepared once per connection (every sale and hold runs one); PostgreSQL's in
// db/pg/changes.ts, with the lock that makes its ids commit in order (decision 044).

const ROW_COLUMNS = 'id, product_id AS productId, slug, is_sold_out AS isSoldOut, sold_out_variants AS soldOutVariants, origin'

/** catalog_changes as lib/cache reads it back on SQLite (its poll). */
export const SQLITE_ROW_COLUMNS = ROW_COLUMNS

const SQLITE_STOCK_CHANGED = `INSERT INTO catalog_changes (product_id, slug, is_sold_out, sold_out_variants, origin, created_at)
  SELECT p.id, p.slug, s.available = 0, s.gone, @origin, @now
  FROM products p JOIN (${soldOutSqlText('WHERE v.product_id IN (SELECT product_id FROM variants WHERE id IN (SELECT value FROM json_each(@ids)))')}) s ON s.product_id = p.id
  RETURNING ${ROW_COLUMNS}`
const SQLITE_CATALOG_CHANGED = `INSERT INTO catalog_changes (product_id, slug, origin, created_at) VALUES (NULL, NULL, @origin, @now) RETURNING ${ROW_COLUMNS}`

const statements = new WeakMap<Database, Map<string, Statement>>()
function prepared(client: Database, text: string): Statement {
  let byText = statements.get(client)
  if (!byText) statements.set(client, (byText = new Map()))
  let statement = byText.get(text)
  if (!statement) byText.set(text, (statement = client.prepare(text)))
  return statement
}

/**
 * What can be sold changed for these variants: per product they touch, a row saying what it
 * shows after this transaction's change. Returns the rows, for the writer to announce once
 * it commits.
 */
export function* recordingStockChanged(variantIds: readonly number[], origin: string, now: number): Steps<ChangeRow[]> {
  const ids = [...new Set(variantIds)].filter(Number.isSafeInteger)
  if (ids.length === 0) return []
  return yield* native({
    sqlite: (client) => prepared(client, SQLITE_STOCK_CHANGED).all({ ids: JSON.stringify(ids), origin, now }) as ChangeRow[],
    postgres: (client) => recordStockChanged(client, ids, origin, now),
  })
}

/** A product, variant, picture or collection changed: a row with no product (every page may show it). */
export function* recordingCatalogChanged(origin: string, now: number): Steps<ChangeRow[]> {
  return yield* native({
    sqlite: (client) => prepared(client, SQLITE_CATALOG_CHANGED).all({ origin, now }) as ChangeRow[],
    postgres: (client) => recordCatalogChanged(client, origin, now),
  })
}

const SQLITE_SOLD_OUT = `SELECT product_id AS productId, available = 0 AS isSoldOut, gone FROM (${soldOutSqlText()})`

/** Per product: whether it is sold out at `now` (0 or 1) and how many of its variants are; what a process knows before it hears a change. */
export function* readingSoldOut(now: number): Steps<{ productId: number; isSoldOut: number; gone: number }[]> {
  return yield* native({
    sqlite: (client) => prepared(client, SQLITE_SOLD_OUT).all({ now }) as { productId: number; isSoldOut: number; gone: number }[],
    postgres: (client) => soldOutStates(client, now),
  })
}
