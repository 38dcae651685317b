import pg from 'pg'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { openDatabase } from '@/db'
import { moveToPostgres } from '@/db/pg/move'
import { postgresEngine } from '@/db/pg/steps'
import { usePostgres } from '@/db/tx'
import { seedDemo } from '@/demo/seed'
import * as search from '@/lib/search'
import { freshStore, type TestDb } from '../support/db'
import { createProduct, createVariant } from '../support/factories'
import { startPostgres, type Postgres } from '../support/postgres'

// lib/search.ts on PostgreSQL (db/pg/search.ts) against FTS5's (db/search.ts) on the same store: the
// demo catalog seeded into SQLite, moved into a real PostgreSQL with db/pg/move.ts, then every
// query below asked of both engines. The demo catalog is English only, so one product with
// accented words joins it before the move, for the accents to be searched for.

let server: Postgres
let pool: pg.Pool
let t: TestDb
// one clock for both engines, so a hold expiring between two calls cannot change a card
const now = Date.now()

beforeAll(async () => {
  server = await startPostgres()
  pool = new pg.Pool({ connectionString: server.url, max: 2 })
  t = freshStore()
  expect(seedDemo(t.db, t.dir)).not.toBeNull()
  const accented = createProduct({ slug: 'creme-cafe-mug', title: 'Crème Café Mug', description: 'A naïve glaze the colour of crème brûlée; for smørrebrød on the Straße.', status: 'active' })
  createVariant({ productId: accented.id, sku: 'CCM-ÉCRU', options: { Colour: 'Écru' } })
  const source = openDatabase(t.file, { readonly: true }).$client
  try {
    await moveToPostgres(source, pool)
  } finally {
    source.close()
  }
})

afterAll(async () => {
  await pool?.end()
  t?.close()
  await server?.stop()
})

/** lib/search's search on PostgreSQL: the runner switched to the pool for the call, then back to SQLite. */
async function onPostgres(q: unknown, options: { limit?: number; now?: number }): Promise<search.SearchResult> {
  usePostgres(postgresEngine(pool))
  try {
    return await search.search(q, options)
  } finally {
    usePostgres(undefined)
  }
}

const LONG = `${'waterproof jacket with taped seams and a hood '.repeat(5)}tote`

/** What a shopper may type: words, prefixes, codes, accents, case, punctuation, query syntax, nonsense. */
const QUERIES = [
  'jacket',
  'rai',
  'jack',
  'rain jacket',
  'harbor rain jac',
  'wool camp blanket',
  'HRJ-NAVY-M',
  'hrj',
  'outerwear',
  'gifts under',
  'navy',
  'heather grey',
  'XL',
  'L/XL',
  '500 ml',
  'café',
  'CAFE',
  'creme',
  'Crème brûlée',
  'naive',
  'écru',
  'smør',
  'CANVAS',
  'Merino, wool!',
  '"canvas tote"',
  'wool OR cotton',
  'NOT cotton',
  'canv*',
  '-cotton',
  '(mug)',
  'title:mug',
  'NEAR(wool blanket)',
  'mug^2',
  "don't",
  'women’s',
  '3-pack',
  '20L',
  'socks parka',
  'zzyzx',
  '',
  '   \t ',
  LONG,
  '🎒 tote 🌲',
  '中文 tote',
]

/** Single words and pairs with several matches each, for comparing the whole order. */
const RANKED = ['fleece', 'mug', 'merino', 'canvas tote', 'wool blanket', 'tee', 'socks', 'candle', 'hoodie', 'navy', 'canvas', 'cotton', 'wool', 'organic', 'black', 'xl', 'outerwear', 'gifts', 'crew', 'harbor', 'knit', 'camp', 'zip', 'pocket', 'recycled', 'linen', 'sweater', 'rust', 'oat', 'wash cold', 'the']

/** Input built to break a tsquery or an FTS5 expression if either ever saw it as syntax. */
const HOSTILE = [
  "'",
  "''",
  '\\',
  "a'b\\c",
  "wool' | 'x",
  "'):* | !'",
  'a <-> b',
  '!wool',
  '& | !',
  'wool:*',
  'wool:A',
  'ʼ',
  'ʼwoolʼ',
  '\uE000wool\uE001',
  '\u0000',
  '𝔴𝔬𝔬𝔩',
  'ｗｏｏｌ',
  'x'.repeat(500),
  Array.from({ length: 50 }, (_, i) => `w${i}`).join(' '),
]

const ids = (hits: { id: number }[]) => hits.map((h) => h.id).sort((a, b) => a - b)
const sortedCards = (hits: search.SearchResult['hits']) => hits.map(({ titleParts: _title, snippetParts: _snippet, ...card }) => card).sort((a, b) => a.id - b.id)
const text = (parts: search.TextPart[]) => parts.map((p) => (p.isMatch ? `[${p.text}]` : p.text)).join('')

describe('search on PostgreSQL', () => {
  it('finds the same products as FTS5 for every query on the demo catalog', async () => {
    expect(QUERIES.length).toBeGreaterThanOrEqual(25)
    const table: Record<string, string | number | boolean>[] = []
    for (const q of QUERIES) {
      const lite = await search.search(q, { limit: 100, now })
      const post = await onPostgres(q, { limit: 100, now })
      table.push({ query: JSON.stringify(q.length > 40 ? `${q.slice(0, 37)}…` : q), sqlite: lite.total, postgres: post.total, isLoose: lite.isLoose, sameFirst: lite.hits[0]?.id === post.hits[0]?.id })
      expect(post.terms, q).toEqual(lite.terms)
      expect(post.total, q).toBe(lite.total)
      expect(post.isLoose, q).toBe(lite.isLoose)
      expect(ids(post.hits), q).toEqual(ids(lite.hits))
      // the same cards: prices, picture, sold out, featured
      expect(sortedCards(post.hits), q).toEqual(sortedCards(lite.hits))
    }
    console.table(table)
  })

  it('differs from FTS5 only where unaccent folds letters that unicode61 keeps', async () => {
    // By construction: the index folds with unaccent (decision 039), FTS5 with unicode61's
    // remove_diacritics, and the two tables differ.
    // - unaccent turns the modifier letters ʹ ʺ ʻ ʼ ʽ into ASCII quotes, which cut words on
    //   PostgreSQL, while unicode61 keeps them as letters. So "ʼn" (and ŉ, which NFKC makes "ʼn")
    //   is the word "n" on PostgreSQL and a word nothing starts with on SQLite.
    expect((await search.search('ʼn', { limit: 100, now })).total).toBe(0)
    const apostrophe = await onPostgres('ʼn', { limit: 100, now })
    expect(apostrophe.total).toBeGreaterThan(0)
    expect(ids(apostrophe.hits)).toEqual(ids((await onPostgres('n', { limit: 100, now })).hits))
    // - unaccent folds letters that carry no combining accent (ø to o, ß to ss, æ to ae, ł to
    //   l); unicode61 keeps them. Typed with the letter both engines find the product; typed
    //   without it, only PostgreSQL does.
    for (const q of ['smørrebrød', 'Straße']) expect(ids((await onPostgres(q, { now })).hits), q).toEqual(ids((await search.search(q, { now })).hits))
    for (const q of ['smorrebrod', 'strasse']) {
      expect((await search.search(q, { now })).total, q).toBe(0)
      expect((await onPostgres(q, { now })).hits.map((h) => h.title), q).toEqual(['Crème Café Mug'])
    }
  })

  it('finds the same products as FTS5 for every word of the catalog, whole and by its first three letters', async () => {
    const documents = t.db.$client.prepare('SELECT title, description, skus, options, collections FROM product_search').all() as Record<string, string>[]
    const words = new Set<string>()
    for (const document of documents) {
      for (const word of Object.values(document).flatMap((column) => column.match(/[\p{L}\p{N}]+/gu) ?? [])) words.add(word.toLowerCase()).add(word.toLowerCase().slice(0, 3))
    }
    expect(words.size).toBeGreaterThan(500)
    const differ: string[] = []
    for (const word of words) {
      const lite = ids((await search.search(word, { limit: 100, now })).hits)
      const post = ids((await onPostgres(word, { limit: 100, now })).hits)
      if (lite.join() !== post.join()) differ.push(`${word}: ${lite.length} on SQLite, ${post.length} on PostgreSQL`)
    }
    console.log(`${words.size} words and prefixes of the demo catalog asked of both engines, ${differ.length} differ`)
    expect(differ).toEqual([])
  })

  it('puts the same product first as FTS5 when one title has the word, and orders the rest much as bm25 does', async () => {
    for (const q of ['fleece', 'mug', 'canvas tote', 'wool blanket', 'socks', 'hoodie', 'bandana', 'notebook', 'harbor jacket', 'organic tee']) {
      const lite = await search.search(q, { limit: 100, now })
      const post = await onPostgres(q, { limit: 100, now })
      expect(post.hits[0]?.id, q).toBe(lite.hits[0]?.id)
      expect(post.hits[0]?.titleParts.some((p) => p.isMatch), q).toBe(true)
    }
    // How close the whole order comes, printed rather than asserted: ts_rank_cd is not bm25.
    let sameFirst = 0
    let sameOrder = 0
    let pairs = 0
    let pairsInOrder = 0
    for (const q of RANKED) {
      const lite = (await search.search(q, { limit: 100, now })).hits.map((h) => h.id)
      const post = (await onPostgres(q, { limit: 100, now })).hits.map((h) => h.id)
      if (lite[0] === post[0]) sameFirst++
      if (lite.join() === post.join()) sameOrder++
      const at = new Map(post.map((id, i) => [id, i]))
      for (let i = 0; i < lite.length; i++) for (let j = i + 1; j < lite.length; j++) pairsInOrder += at.get(lite[i]!)! < at.get(lite[j]!)! ? 1 : 0
      pairs += (lite.length * (lite.length - 1)) / 2
    }
    console.log(`ranking against FTS5 on ${RANKED.length} queries: same first ${sameFirst}, same whole order ${sameOrder}, pairs in the same order ${((100 * pairsInOrder) / pairs).toFixed(1)}%`)
    expect(sameFirst).toBeGreaterThan(RANKED.length / 2)
  })

  it('counts every match beyond the page, leaves drafts out, and shows held stock as sold out, as FTS5 does', async () => {
    const lite = await search.search('cotton', { limit: 3, now })
    const post = await onPostgres('cotton', { limit: 3, now })
    expect(post.hits).toHaveLength(3)
    expect(lite.total).toBeGreaterThan(3)
    expect(post.total).toBe(lite.total)

    // the demo's Alpine Down Parka is a draft
    expect((await onPostgres('alpine parka', { now })).total).toBe(0)
    expect((await search.search('alpine parka', { now })).total).toBe(0)

    // every unit of a one-variant product held by a cart (and an expired hold elsewhere, which holds nothing)
    const held = t.db.$client
      .prepare(`SELECT v.id, v.stock, p.title FROM variants v JOIN products p ON p.id = v.product_id WHERE p.status = 'active' AND v.stock > 0 AND (SELECT count(*) FROM variants w WHERE w.product_id = p.id) = 1 ORDER BY v.id LIMIT 1`)
      .get() as { id: number; stock: number; title: string }
    const other = t.db.$client.prepare(`SELECT id, stock FROM variants WHERE id != ? AND stock > 0 ORDER BY id LIMIT 1`).get(held.id) as { id: number; stock: number }
    const holds: [number, number, number][] = [
      [held.id, held.stock, now + 600_000],
      [other.id, other.stock, now - 1],
    ]
    for (const [variantId, quantity, expiresAt] of holds) {
      t.db.$client.prepare(`INSERT INTO stock_holds (variant_id, quantity, status, expires_at) VALUES (?, ?, 'active', ?)`).run(variantId, quantity, expiresAt)
      await pool.query(`INSERT INTO stock_holds (variant_id, quantity, status, expires_at) VALUES ($1, $2, 'active', $3)`, [variantId, quantity, expiresAt])
    }
    const word = held.title.split(' ').at(-1)!
    const liteHeld = await search.search(word, { limit: 100, now })
    const postHeld = await onPostgres(word, { limit: 100, now })
    expect(postHeld.hits.find((h) => h.title === held.title)?.isSoldOut).toBe(true)
    expect(sortedCards(postHeld.hits)).toEqual(sortedCards(liteHeld.hits))
    const otherTitle = t.db.$client.prepare(`SELECT p.title FROM products p JOIN variants v ON v.product_id = p.id WHERE v.id = ?`).get(other.id) as { title: string }
    const liteOther = await search.search(otherTitle.title, { limit: 100, now })
    expect(sortedCards((await onPostgres(otherTitle.title, { limit: 100, now })).hits)).toEqual(sortedCards(liteOther.hits))
  })

  it('never throws on hostile input: no tsquery syntax error is possible', async () => {
    for (const q of [...QUERIES, ...HOSTILE]) {
      const post = await onPostgres(q, { limit: 5, now })
      expect(post.hits.length, q).toBeLessThanOrEqual(5)
    }
    // a letter that unaccent() folds to an apostrophe, around a word: still just the word
    expect(ids((await onPostgres('ʼwoolʼ', { now })).hits)).toEqual(ids((await onPostgres('wool', { now })).hits))
  })

  it('marks the matched words of the title and keeps its text exactly', async () => {
    const result = await onPostgres('rain JAC', { now })
    const jacket = result.hits[0]!
    expect(jacket.title).toBe('Harbor Rain Jacket')
    expect(text(jacket.titleParts)).toBe('Harbor [Rain] [Jacket]')
    expect(jacket.titleParts.map((p) => p.text).join('')).toBe(jacket.title)

    // accents folded as the index folds them, the title's own letters kept
    const [product] = (await pool.query<{ id: string }>(`UPDATE products SET title = 'Crème Enamel Mug' WHERE slug = 'enamel-camp-mug' RETURNING id`)).rows
    const mug = (await onPostgres('creme', { now })).hits.find((h) => h.id === Number(product!.id))!
    expect(text(mug.titleParts)).toBe('[Crème] Enamel Mug')
    expect(mug.titleParts.map((p) => p.text).join('')).toBe('Crème Enamel Mug')
    await pool.query(`UPDATE products SET title = 'Enamel Camp Mug' WHERE id = $1`, [product!.id])
  })

  it('cuts the description to a snippet around the matched words, as FTS5 does', async () => {
    const [jacket] = (await onPostgres('gloves', { now })).hits
    const snippet = text(jacket!.snippetParts)
    expect(snippet).toBe('…phone you can reach with [gloves] on. Regular fit with room for…')
    expect(snippet).toBe(text((await search.search('gloves', { now })).hits[0]!.snippetParts))
    // how often the whole title and snippet come out as FTS5's, printed: the window is chosen alike, not by the same code
    let same = 0
    let compared = 0
    for (const q of RANKED) {
      const lite = new Map((await search.search(q, { limit: 100, now })).hits.map((h) => [h.id, `${text(h.titleParts)} | ${text(h.snippetParts)}`]))
      for (const hit of (await onPostgres(q, { limit: 100, now })).hits) {
        compared++
        if (lite.get(hit.id) === `${text(hit.titleParts)} | ${text(hit.snippetParts)}`) same++
      }
    }
    console.log(`marked title and snippet as FTS5's: ${same} of ${compared} hits`)
    expect(same).toBeGreaterThan(compared / 2)
  })
})
