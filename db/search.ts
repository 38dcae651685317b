import type Database from 'better-sqlite3'
import { available, CARD_COLUMNS, cardOf, type SearchParams, type SearchRow } from './catalog-reads'
import { postgresSearch } from './pg/search'
import { COLUMN_WEIGHTS as WEIGHTS, MARK_CLOSE, MARK_OPEN, SNIPPET_WORDS } from './search-terms'
import { preparedAll, type Statement, type Steps } from './tx'

export type { SearchParams, SearchRow }

// One page of search results, on either engine, as one prepared step (db/tx.ts): FTS5 on
// SQLite here, PostgreSQL's tsvector in db/pg/search.ts. Both are asked the same words
// (db/search-terms.ts's termsOf) with the same rules: every word by prefix (or any of them),
// best first, ties by product id, only active products (FTS5's index holds only those, its
// triggers in db/migrations/0001_add_search_index.sql); each row the product's card, its
// title marked and a snippet of its description, and how many products match in all.

/** An FTS5 MATCH expression that can only mean "words starting with these", or null. */
export function toFtsQuery(terms: string[], join: 'AND' | 'OR' = 'AND'): string | null {
  if (terms.length === 0) return null
  // Terms hold only letters and digits, so the quotes cannot be escaped out of.
  return terms.map((t) => `"${t}"*`).join(join === 'AND' ? ' ' : ' OR ')
}

// SQLite's page takes four small statements, each prepared once per connection: the same
// statements in one, with the page as a CTE, cost two to three times as much (FTS5 inside a
// CTE; measured with bench/catalog-reads.ts).
// - `rank` finds rowids only: SQLite computes a row's result columns before it sorts, so
//   asking for highlight() and snippet() there would build them for every match ("ha"
//   matches most of a big catalog) to keep 48.
// - `count` runs only for a full page: a page that is not full holds every match.
// - highlight() and snippet() need the MATCH cursor, so `marked` finds the page's rows again
//   by scanning the matches; the unary + keeps the rowid list out of FTS5's own lookup, which
//   would run the whole MATCH again for each rowid.
const RANK = `SELECT rowid AS id FROM product_search WHERE product_search MATCH ?
  ORDER BY bm25(product_search, ${WEIGHTS.title}, ${WEIGHTS.description}, ${WEIGHTS.skus}, ${WEIGHTS.options}, ${WEIGHTS.collections}), rowid LIMIT ?`
const COUNT = `SELECT count(*) FROM product_search WHERE product_search MATCH ?`
const MARKED = `SELECT rowid AS id,
    highlight(product_search, 0, '${MARK_OPEN}', '${MARK_CLOSE}') AS "titleMarked",
    snippet(product_search, 1, '${MARK_OPEN}', '${MARK_CLOSE}', '…', ${SNIPPET_WORDS}) AS "snippetMarked"
  FROM product_search WHERE product_search MATCH ? AND +rowid IN (SELECT value FROM json_each(?))`
const CARDS = `
  WITH grouped AS (
    SELECT v.product_id, min(v.price_cents) AS min_price, max(v.price_cents) AS max_price, min(v.currency) AS currency,
      sum(${available.sqlite('@now')}) AS available
    FROM variants v WHERE v.product_id IN (SELECT value FROM json_each(@ids)) GROUP BY v.product_id
  )
  SELECT ${CARD_COLUMNS}
  FROM grouped g JOIN products p ON p.id = g.product_id AND p.status = 'active'`

type Marked = { id: number; titleMarked: string; snippetMarked: string }

function sqlitePage(prepare: (text: string) => Database.Statement, { terms, join, limit, now }: SearchParams): SearchRow[] {
  const match = toFtsQuery(terms, join)
  if (!match) return []
  // pluck: the one column as values, no row objects (these texts are prepared for this use alone)
  const ids = prepare(RANK).pluck().all(match, limit) as number[]
  if (ids.length === 0) return []
  const total = ids.length < limit ? ids.length : (prepare(COUNT).pluck().get(match) as number)
  const list = JSON.stringify(ids)
  const marked = new Map((prepare(MARKED).all(match, list) as Marked[]).map((r) => [r.id, r]))
  const cards = new Map((prepare(CARDS).all({ ids: list, now: Math.trunc(now) }) as Record<string, unknown>[]).map((r) => [r.id as number, r]))
  return ids.map((id) => {
    const card = cards.get(id)
    const m = marked.get(id)
    return { id, total, card: card ? cardOf(card) : null, titleMarked: m?.titleMarked ?? '', snippetMarked: m?.snippetMarked ?? '' }
  })
}

const searchPage: Statement<SearchParams, SearchRow> = {
  name: 'search.page',
  sqlite: { run: sqlitePage },
  postgres: postgresSearch,
}

/** The best `limit` matches for `terms`, best first, and how many match in all. */
export function* page(params: SearchParams): Steps<{ rows: SearchRow[]; total: number }> {
  const rows = yield* preparedAll(searchPage, params)
  return { rows, total: rows[0]?.total ?? 0 }
}
