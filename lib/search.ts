import 'server-only'
import { markedParts, termsOf, type TextPart } from '@/db/search-terms'
import * as searchPages from '@/db/search'
import { read } from '@/db/tx'
import type * as catalog from './catalog'

// Full-text search of the active products, on either engine (docs/decisions/047-generator-
// transactions.md): one prepared statement per page, FTS5 on SQLite and the tsvector index on
// PostgreSQL (db/search.ts and db/pg/search.ts), chosen by the runner.
//
// A visitor's text never reaches either engine as syntax: it is cut to a sane length and split
// into words (db/search-terms.ts's termsOf), and every word becomes a quoted prefix ("jack"*
// for FTS5, 'jack':* for to_tsquery), so quotes, NEAR, AND/OR/NOT, *, ^, &, |, !, column
// filters and parentheses are all just letters or nothing. Matches come back wrapped in two
// private-use characters that the page turns into <mark>; everything else is text, escaped by
// React.

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
  return searchPages.toFtsQuery(termsOf(raw), join)
}

/**
 * Products matching every word (by prefix: "jack" finds "Jacket"), best first (bm25 on SQLite,
 * ts_rank_cd with the same column weights on PostgreSQL), then by id; when nothing has every
 * word, those with any of them (isLoose).
 */
export function search(raw: unknown, options: { limit?: number; now?: number } = {}): Promise<SearchResult> {
  const terms = termsOf(raw)
  const limit = Math.min(Math.max(options.limit ?? 48, 1), 100)
  const now = options.now ?? Date.now()
  if (terms.length === 0) return Promise.resolve({ terms, hits: [], total: 0, isLoose: false })
  return read(function* () {
    let isLoose = false
    let found = yield* searchPages.page({ terms, join: 'AND', limit, now })
    if (found.total === 0 && terms.length > 1) {
      found = yield* searchPages.page({ terms, join: 'OR', limit, now })
      isLoose = found.total > 0
    }
    const hits = found.rows.flatMap(({ card, titleMarked, snippetMarked }) => (card ? [{ ...card, titleParts: markedParts(titleMarked), snippetParts: markedParts(snippetMarked) }] : []))
    return { terms, hits, total: found.total, isLoose }
  })
}
