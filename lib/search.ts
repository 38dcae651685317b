import 'server-only'
import { getDb } from '@/db'
import { COLUMN_WEIGHTS as WEIGHTS, MARK_CLOSE, MARK_OPEN, markedParts, SNIPPET_WORDS, termsOf, type TextPart } from '@/db/search-terms'
import * as catalog from './catalog'

// Full-text search over `product_search` (FTS5, rowid = products.id, kept in step by
// triggers; see db/migrations/0001_add_search_index.sql).
//
// A visitor's text never reaches FTS5 as syntax: it is cut to a sane length, split into
// words the way the unicode61 tokenizer would, and every word becomes a quoted prefix
// ("jack"*), so quotes, NEAR, AND/OR/NOT, *, ^, column filters and parentheses are all
// just letters or nothing. Matches come back wrapped in two private-use characters that
// the page turns into <mark>; everything else is text, escaped by React. The words and the
// marks are db/search-terms.ts's, shared with PostgreSQL's search (db/pg/search.ts).

export { MAX_QUERY_CHARS, markedParts, termsOf, type TextPart } from '@/db/search-terms'

type SearchHit = catalog.ProductCard & { titleParts: TextPart[]; snippetParts: TextPart[] }
export type SearchResult = {
  /** the words searched for, as shown back to the visitor */
  terms: string[]
  hits: SearchHit[]
  total: number
  /** no product had every word, so these have any of them */
  isLoose: boolean
}

/** An FTS5 MATCH expression that can only mean "words starting with these", or null. */
export function toFtsQuery(raw: unknown, join: 'AND' | 'OR' = 'AND'): string | null {
  const terms = termsOf(raw)
  if (terms.length === 0) return null
  // Terms hold only letters and digits, so the quotes cannot be escaped out of.
  return terms.map((t) => `"${t}"*`).join(join === 'AND' ? ' ' : ' OR ')
}

type HitRow = { id: number; titleMarked: string; snippetMarked: string }

type Statements = {
  rank: { all(match: string, limit: number): number[] }
  count: { get(match: string): number }
  marked: { all(match: string, ids: string): HitRow[] }
}
const statements = new WeakMap<object, Statements>()

// Prepared once per connection: at 10,000 products building the statements cost about as
// much as running them for most queries.
function prepared(): Statements {
  const client = getDb().$client
  let s = statements.get(client)
  if (!s) {
    s = {
      // Rowids only: SQLite computes a row's result columns before it sorts, so asking for
      // highlight() and snippet() here would build them for every match ("ha" matches most
      // of a big catalog) to keep 48. The index holds active products only (its triggers),
      // so no join with products is needed to rank or count.
      rank: client
        .prepare(
          `SELECT rowid FROM product_search WHERE product_search MATCH ?
           ORDER BY bm25(product_search, ${WEIGHTS.title}, ${WEIGHTS.description}, ${WEIGHTS.skus}, ${WEIGHTS.options}, ${WEIGHTS.collections}), rowid LIMIT ?`,
        )
        .pluck() as unknown as Statements['rank'],
      count: client.prepare(`SELECT count(*) FROM product_search WHERE product_search MATCH ?`).pluck() as unknown as Statements['count'],
      // highlight() and snippet() need the MATCH cursor, so the page's rows are found again
      // by scanning the matches. The unary + keeps the rowid list out of FTS5's own lookup,
      // which would run the whole MATCH again for each rowid.
      marked: client.prepare(
        `SELECT rowid AS id,
           highlight(product_search, 0, '${MARK_OPEN}', '${MARK_CLOSE}') AS titleMarked,
           snippet(product_search, 1, '${MARK_OPEN}', '${MARK_CLOSE}', '…', ${SNIPPET_WORDS}) AS snippetMarked
         FROM product_search WHERE product_search MATCH ? AND +rowid IN (SELECT value FROM json_each(?))`,
      ) as unknown as Statements['marked'],
    }
    statements.set(client, s)
  }
  return s
}

/** The best `limit` matches, best first (bm25, then id), with their marked text, and how many match. */
function run(match: string, limit: number): { rows: HitRow[]; total: number } {
  const s = prepared()
  const ids = s.rank.all(match, limit)
  if (ids.length === 0) return { rows: [], total: 0 }
  // A page that is not full holds every match.
  const total = ids.length < limit ? ids.length : s.count.get(match)
  const byId = new Map(s.marked.all(match, JSON.stringify(ids)).map((r) => [r.id, r]))
  return { rows: ids.flatMap((id) => byId.get(id) ?? []), total }
}

/**
 * Products matching every word (by prefix: "jack" finds "Jacket"), best first by bm25;
 * when nothing has every word, those with any of them (isLoose).
 */
export function search(raw: unknown, options: { limit?: number; now?: number } = {}): SearchResult {
  const terms = termsOf(raw)
  const limit = Math.min(Math.max(options.limit ?? 48, 1), 100)
  if (terms.length === 0) return { terms, hits: [], total: 0, isLoose: false }
  let isLoose = false
  let found = run(toFtsQuery(raw, 'AND')!, limit)
  if (found.total === 0 && terms.length > 1) {
    found = run(toFtsQuery(raw, 'OR')!, limit)
    isLoose = found.total > 0
  }
  const cards = new Map(catalog.cards(found.rows.map((r) => r.id), options.now).map((c) => [c.id, c]))
  const hits: SearchHit[] = []
  for (const row of found.rows) {
    const card = cards.get(row.id)
    if (!card) continue
    hits.push({ ...card, titleParts: markedParts(row.titleMarked), snippetParts: markedParts(row.snippetMarked) })
  }
  return { terms, hits, total: found.total, isLoose }
}
