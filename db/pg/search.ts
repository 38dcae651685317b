import { available, CARD_COLUMNS, searchRow, type SearchParams, type SearchRow } from '../catalog-reads'
import { COLUMN_WEIGHTS, MARK_CLOSE, MARK_OPEN, SNIPPET_WORDS } from '../search-terms'
import type { EngineStatement } from '../tx'

// Search on PostgreSQL: the counterpart of lib/search.ts's FTS5 search, over the tsvector
// index `product_search` that db/pg/migrations/0001_add_search_triggers.sql keeps in step
// (docs/decisions/039-postgresql-engine.md). Same words asked (termsOf), same rules: every
// word by prefix, best first, ties by product id; when no product has every word, those with
// any of them (isLoose). Same shape returned, so the page cannot tell the engines apart.
//
// A visitor's text never reaches to_tsquery as syntax. Each term (letters and digits only) is
// first cut by product_search_words() (db/pg/migrations/0002), the function that cut the
// index's text: unaccent() then punctuation to spaces; only then is it quoted. Quoting first
// and folding after would let a visitor close the quote: unaccent turns some letters into
// punctuation (the modifier letter ʼ becomes an apostrophe). Quotes and backslashes are still
// doubled inside the quoted lexeme, `:*` makes it a prefix, and the terms are joined with &
// (or |). A term the fold leaves without a word drops out of the query, as to_tsquery drops
// an operand without a lexeme.

/**
 * ts_rank_cd's weights for labels {D, C, B, A}: FTS5's bm25 column weights scaled to 0..1, the
 * title's being 1. The index labels description D, options C, collections B, and title and SKUs
 * both A (four labels for five columns), so a SKU counts as a title word. Normalization 1
 * divides by 1 + log(document length): a word in a long document counts less, as bm25's length
 * normalization does. Of the ranking functions and normalizations tried on the demo catalog it
 * put the same product first as FTS5 most often (tests/integration/pg-search.test.ts).
 */
const WEIGHTS = `{${[COLUMN_WEIGHTS.description, COLUMN_WEIGHTS.options, COLUMN_WEIGHTS.collections, COLUMN_WEIGHTS.title].map((w) => w / COLUMN_WEIGHTS.title).join(', ')}}`

/** A term as a quoted prefix lexeme for to_tsquery, cut as the index was first (see the top of the file). */
const LEXEME_SQL = `'''' || replace(replace(product_search_words(term), '\\', '\\\\'), '''', '''''') || ''':*'`

// One statement per page: the matches ranked and counted (count(*) OVER () runs before LIMIT),
// then, for the page's rows only, the card as db/catalog-reads.ts's columns build it (active
// products with variants; sold out when no variant has a unit that is not held). The tsquery
// is a scalar subquery, a parameter the planner can take to the GIN index; a row joined in
// could only filter each document. (At 10,000 products it still reads the table for prefix
// queries, and is right to: the index scan measured slower.)
const SEARCH_SQL = `
  WITH q AS (
    SELECT to_tsquery('simple', string_agg(${LEXEME_SQL}, $2)) AS query FROM unnest($1::text[]) AS term
  ), page AS (
    SELECT s.product_id AS id, count(*) OVER () AS total, ts_rank_cd('${WEIGHTS}', s.document, (SELECT query FROM q), 1) AS rank
    FROM product_search s WHERE s.document @@ (SELECT query FROM q)
    ORDER BY rank DESC, s.product_id LIMIT $3
  ), grouped AS (
    SELECT v.product_id, min(v.price_cents) AS min_price, max(v.price_cents) AS max_price, min(v.currency) AS currency,
      sum(${available.postgres('$4')}) AS available
    FROM page JOIN variants v ON v.product_id = page.id GROUP BY v.product_id
  )
  SELECT page.id AS "matchId", page.total, p.id IS NOT NULL AS "hasCard", ${CARD_COLUMNS}, p.description
  FROM page
    LEFT JOIN grouped g ON g.product_id = page.id
    LEFT JOIN products p ON p.id = g.product_id AND p.status = 'active'
  ORDER BY page.rank DESC, page.id`

/**
 * PostgreSQL's side of db/search.ts's statement: products matching every word (by prefix:
 * "jack" finds "Jacket"), or any of them, best first by ts_rank_cd with FTS5's column weights,
 * then by id; the title and a snippet of the description marked here (below).
 */
export const postgresSearch: EngineStatement<SearchParams, SearchRow> = {
  text: SEARCH_SQL,
  values: ({ terms, join, limit, now }) => [terms, join === 'AND' ? ' & ' : ' | ', limit, Math.trunc(now)],
  row: (raw, { terms }) =>
    Number(raw.hasCard) === 1 ? searchRow(raw, marked(raw.title as string, terms), snippet(raw.description as string, terms)) : searchRow(raw, '', ''),
}

// Highlighting. ts_headline cannot mark what the index matched: it reads the text through the
// configuration alone, and the index folds accents with unaccent() applied to the text first,
// so "Crème" would stay unmarked for "creme" (and running it on unaccent(text) would show the
// shopper "Creme"). So the words are marked here, as FTS5's highlight() and snippet() mark
// them: a word (a run of letters and digits, as termsOf cuts the query) is a match when,
// accents and case folded, it starts with a term; the text itself is kept as it is.

const WORDS = /[\p{L}\p{N}]+/gu
const fold = (s: string) => s.normalize('NFKD').replace(/\p{M}/gu, '').toLowerCase()

type Word = { start: number; end: number; isMatch: boolean; term: number }

function wordsOf(text: string, terms: string[]): Word[] {
  const folded = terms.map(fold)
  return Array.from(text.matchAll(WORDS), (m) => {
    const word = fold(m[0])
    const term = folded.findIndex((t) => word.startsWith(t))
    return { start: m.index, end: m.index + m[0].length, isMatch: term >= 0, term }
  })
}

function markWords(text: string, words: Word[], from: number, to: number): string {
  let out = ''
  let at = from
  for (const w of words) {
    if (!w.isMatch || w.start < from || w.end > to) continue
    out += text.slice(at, w.start) + MARK_OPEN + text.slice(w.start, w.end) + MARK_CLOSE
    at = w.end
  }
  return out + text.slice(at, to)
}

/** The whole text with every matched word marked (FTS5's highlight()). */
function marked(text: string, terms: string[]): string {
  return markWords(text, wordsOf(text, terms), 0, text.length)
}

/**
 * At most SNIPPET_WORDS words of the text with an ellipsis where it was cut, chosen much as
 * FTS5's snippet() chooses: 1000 for each different term in the window and 1 for each repeat,
 * 100 more when the window starts the sentence its first match is in (120 at the start of the
 * text). A window that starts no such sentence is full length; among equals, the one whose
 * matches sit nearest its middle, then the earliest, wins.
 */
function snippet(text: string, terms: string[]): string {
  const words = wordsOf(text, terms)
  if (words.length <= SNIPPET_WORDS) return marked(text, terms)
  let best = { first: 0, last: 0, score: [-1] }
  const sentenceStarts = words.map((w, i) => i === 0 || /[.:]\s+$/.test(text.slice(words[i - 1]!.end, w.start)))
  for (let first = 0; first < words.length; first++) {
    const window = words.slice(first, first + SNIPPET_WORDS)
    const matches = window.filter((w) => w.isMatch)
    const different = new Set(matches.map((w) => w.term)).size
    const lead = window.findIndex((w) => w.isMatch)
    // the sentence its first match is in, not an earlier one
    const startsSentence = sentenceStarts[first]! && (lead < 0 || !sentenceStarts.slice(first + 1, first + lead + 1).includes(true))
    if (!startsSentence && first + SNIPPET_WORDS > words.length) continue
    const span = lead < 0 ? 0 : window.findLastIndex((w) => w.isMatch) - lead + 1
    const centred = lead < 0 ? 0 : -Math.abs(lead - Math.floor((SNIPPET_WORDS - span) / 2))
    const score = [different * 1000 + matches.length - different + (startsSentence ? (first === 0 ? 120 : 100) : 0), centred]
    if (isBetter(score, best.score)) best = { first, last: first + window.length - 1, score }
  }
  const from = best.first === 0 ? 0 : words[best.first]!.start
  const to = best.last === words.length - 1 ? text.length : words[best.last]!.end
  return (from > 0 ? '…' : '') + markWords(text, words, from, to) + (to < text.length ? '…' : '')
}

/** Compares two scores figure by figure, the first that differs deciding. */
function isBetter(a: number[], b: number[]): boolean {
  for (let i = 0; i < Math.max(a.length, b.length); i++) {
    const x = a[i] ?? -Infinity
    const y = b[i] ?? -Infinity
    if (x !== y) return x > y
  }
  return false
}
