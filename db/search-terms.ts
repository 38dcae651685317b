// How a visitor's text becomes the words a search index is asked for, how much a word counts
// in each column, and how text marked by the engine comes back as parts. Pure and engine-neutral: lib/search.ts (SQLite's FTS5)
// and db/pg/search.ts (PostgreSQL's tsvector) both build their queries from termsOf(), so the
// two engines are asked the same words and return their marks the same way.
//
// A term holds only letters and digits, so no engine's query syntax (quotes, NEAR, AND/OR/NOT,
// *, ^, column filters, parentheses, tsquery's & | ! <-> :) can come from a visitor.

export const MAX_QUERY_CHARS = 200
const MAX_TERMS = 8
const MAX_TERM_CHARS = 40
export const MARK_OPEN = '\uE000'
export const MARK_CLOSE = '\uE001'
const MARKERS = /[\uE000\uE001]/g

export type TextPart = { text: string; isMatch: boolean }

/** How much a matched word counts in each column of the index: a word in the title counts most. */
export const COLUMN_WEIGHTS = { title: 10, description: 1, skus: 4, options: 2, collections: 3 } as const

/** Words in a result's snippet of its description. */
export const SNIPPET_WORDS = 12

/** The words of a query, as the index would see them: at most 8, each at most 40 chars. */
export function termsOf(raw: unknown): string[] {
  if (typeof raw !== 'string') return []
  const text = raw.slice(0, MAX_QUERY_CHARS).normalize('NFKC').replace(MARKERS, ' ')
  const words = text.match(/[\p{L}\p{N}]+/gu) ?? []
  const terms: string[] = []
  for (const word of words) {
    const term = word.slice(0, MAX_TERM_CHARS)
    if (!terms.some((t) => t.toLowerCase() === term.toLowerCase())) terms.push(term)
    if (terms.length === MAX_TERMS) break
  }
  return terms
}

/** Splits marked text (MARK_OPEN … MARK_CLOSE around each match) into plain and matched runs. */
export function markedParts(marked: string): TextPart[] {
  const parts: TextPart[] = []
  let isMatch = false
  let start = 0
  for (let i = 0; i < marked.length; i++) {
    const ch = marked[i]
    if (ch !== MARK_OPEN && ch !== MARK_CLOSE) continue
    if (i > start) parts.push({ text: marked.slice(start, i), isMatch })
    isMatch = ch === MARK_OPEN
    start = i + 1
  }
  if (start < marked.length) parts.push({ text: marked.slice(start), isMatch })
  return parts
}
