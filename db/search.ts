import { available, CARD_COLUMNS, searchRow, type SearchParams, type SearchRow } from './catalog-reads'
import { postgresSearch } from './pg/search'
import { COLUMN_WEIGHTS as WEIGHTS, MARK_CLOSE, MARK_OPEN, SNIPPET_WORDS } from './search-terms'
import { preparedAll, type Statement, type Steps } from './tx'

export type { SearchParams, SearchRow }

// One page of search results, on either engine, as one prepared statement (db/tx.ts): FTS5 on
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

// - `page` holds rowids and ranks only: SQLite computes a row's result columns before it
//   sorts, so asking for highlight() and snippet() there would build them for every match
//   ("ha" matches most of a big catalog) to keep 48. MATERIALIZED keeps it computed once.
// - highlight() and snippet() need the MATCH cursor, so the page's rows are found again by
//   scanning the matches; the unary + keeps the rowid list out of FTS5's own lookup, which
//   would run the whole MATCH again for each rowid.
// - A page that is not full holds every match, so the count runs only for a full page (CASE
//   evaluates its branches lazily).
const SQLITE_TEXT = `
  WITH page AS MATERIALIZED (
    SELECT rowid AS id, bm25(product_search, ${WEIGHTS.title}, ${WEIGHTS.description}, ${WEIGHTS.skus}, ${WEIGHTS.options}, ${WEIGHTS.collections}) AS score
    FROM product_search WHERE product_search MATCH @match ORDER BY score, rowid LIMIT @limit
  ), marked AS MATERIALIZED (
    SELECT rowid AS id,
      highlight(product_search, 0, '${MARK_OPEN}', '${MARK_CLOSE}') AS "titleMarked",
      snippet(product_search, 1, '${MARK_OPEN}', '${MARK_CLOSE}', '…', ${SNIPPET_WORDS}) AS "snippetMarked"
    FROM product_search WHERE product_search MATCH @match AND +rowid IN (SELECT id FROM page)
  ), grouped AS (
    SELECT v.product_id, min(v.price_cents) AS min_price, max(v.price_cents) AS max_price, min(v.currency) AS currency,
      sum(${available.sqlite('@now')}) AS available
    FROM variants v WHERE v.product_id IN (SELECT id FROM page) GROUP BY v.product_id
  )
  SELECT page.id AS "matchId",
    CASE WHEN (SELECT count(*) FROM page) < @limit THEN (SELECT count(*) FROM page)
      ELSE (SELECT count(*) FROM product_search WHERE product_search MATCH @match) END AS total,
    p.id IS NOT NULL AS "hasCard", ${CARD_COLUMNS}, m."titleMarked", m."snippetMarked"
  FROM page
    LEFT JOIN marked m ON m.id = page.id
    LEFT JOIN grouped g ON g.product_id = page.id
    LEFT JOIN products p ON p.id = g.product_id AND p.status = 'active'
  ORDER BY page.score, page.id`

export const searchPage: Statement<SearchParams, SearchRow> = {
  name: 'search.page',
  sqlite: {
    text: SQLITE_TEXT,
    values: ({ terms, join, limit, now }) => ({ match: toFtsQuery(terms, join), limit, now: Math.trunc(now) }),
    row: (raw) => searchRow(raw, raw.titleMarked as string, raw.snippetMarked as string),
  },
  postgres: postgresSearch,
}

/** The best `limit` matches for `terms`, best first, and how many match in all. */
export function* page(params: SearchParams): Steps<{ rows: SearchRow[]; total: number }> {
  const rows = yield* preparedAll(searchPage, params)
  return { rows, total: rows[0]?.total ?? 0 }
}
