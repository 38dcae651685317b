import { sql } from 'drizzle-orm'
import { beforeEach, describe, expect, it } from 'vitest'
import * as search from '@/lib/search'
import { addToCollection, insertCollection, insertProduct, insertVariant } from '../support/engine-catalog'
import { ENGINES, useEngine } from '../support/engines'

// lib/search.ts on both engines (FTS5 on SQLite, full text on PostgreSQL): prefix matching,
// ranking, every word then any word, highlighting as parts, and hostile queries that give a
// result, never an error. How a query is turned into FTS5's syntax is tests/unit/search.test.ts.

const titles = async (q: unknown) => (await search.search(q)).hits.map((h) => h.title)
const text = (parts: search.TextPart[]) => parts.map((p) => (p.isMatch ? `[${p.text}]` : p.text)).join('')

describe.each(ENGINES)('search on %s', (name) => {
  const engine = useEngine(name)

  async function product(title: string, description = '', extra: { sku?: string; options?: Record<string, string>; status?: 'active' | 'draft' } = {}): Promise<{ id: number }> {
    const id = await insertProduct(engine, { title, description, slug: title.toLowerCase().replace(/\W+/g, '-').replace(/^-|-$/g, '') || 'x', status: extra.status ?? 'active' })
    await insertVariant(engine, { productId: id, sku: extra.sku, options: extra.options ?? {} })
    return { id }
  }

  describe('search', () => {
    it('matches words by prefix: "jack" finds Jacket', async () => {
      await product('Harbor Rain Jacket', 'A storm shell.')
      await product('Everyday Tee', 'Soft cotton.')
      expect(await titles('jack')).toEqual(['Harbor Rain Jacket'])
      expect(await titles('JACK')).toEqual(['Harbor Rain Jacket'])
      expect(await titles('rain jac')).toEqual(['Harbor Rain Jacket'])
    })

    it('ranks a title match above a description match (bm25, title weighted)', async () => {
      await product('Camp Mug', 'Enamel steel mug for the trail, for coffee and for soup.')
      await product('Wool Blanket', 'Bring it to camp with a mug of tea.')
      await product('Coffee Mug Set', 'Two mugs.')
      const hits = await titles('mug')
      expect(hits.slice(0, 2).sort()).toEqual(['Camp Mug', 'Coffee Mug Set'])
      expect(hits[2]).toBe('Wool Blanket')
    })

    it('finds products by SKU, option value and collection name', async () => {
      const jacket = await product('Shell', 'x', { sku: 'HRJ-NAVY-M', options: { Colour: 'Navy', Size: 'M' } })
      await product('Other', 'y', { sku: 'ZZZ-1' })
      await addToCollection(engine, await insertCollection(engine, 'outerwear', 'Outerwear'), jacket.id)
      expect(await titles('HRJ')).toEqual(['Shell'])
      expect(await titles('navy')).toEqual(['Shell'])
      expect(await titles('outerwear')).toEqual(['Shell'])
    })

    it('leaves out products that are not active, and follows status changes', async () => {
      const p = await product('Secret Parka', '', { status: 'draft' })
      expect(await titles('parka')).toEqual([])
      await engine.rows(sql`UPDATE products SET status = 'active' WHERE id = ${p.id} RETURNING id`)
      expect(await titles('parka')).toEqual(['Secret Parka'])
    })

    it('needs every word, and falls back to any word when none has all', async () => {
      await product('Navy Beanie')
      await product('Navy Socks')
      await product('Rust Beanie')
      expect(await titles('navy beanie')).toEqual(['Navy Beanie'])
      const loose = await search.search('navy gloves')
      expect(loose.isLoose).toBe(true)
      expect(loose.hits.map((h) => h.title).sort()).toEqual(['Navy Beanie', 'Navy Socks'])
      expect(await search.search('gloves mittens')).toMatchObject({ hits: [], total: 0, isLoose: false })
    })

    it('highlights matches as parts, never as markup', async () => {
      await product('<b>Jacket</b> & "Co" <script>alert(1)</script>', 'The <img src=x onerror=alert(1)> jacket for rain.')
      const [hit] = (await search.search('jacket')).hits
      expect(text(hit!.titleParts)).toBe('<b>[Jacket]</b> & "Co" <script>alert(1)</script>')
      expect(hit!.titleParts.filter((p) => p.isMatch).map((p) => p.text)).toEqual(['Jacket'])
      expect(text(hit!.snippetParts)).toContain('[jacket]')
      expect(hit!.snippetParts.every((p) => !p.text.includes('\uE000') && !p.text.includes('\uE001'))).toBe(true)
    })

    it('counts every match while marking only the page it returns, in rank order', async () => {
      for (const colour of ['Navy', 'Rust', 'Moss', 'Oat', 'Clay']) await product(`${colour} Wool Beanie`, 'Warm wool.')
      await product('Wool Blanket', 'A blanket.')
      await product('Draft Wool Scarf', '', { status: 'draft' })
      const all = await search.search('wool')
      expect(all.total).toBe(6)
      expect(all.hits).toHaveLength(6)
      const page = await search.search('wool', { limit: 2 })
      expect(page.total).toBe(6)
      expect(page.hits.map((h) => h.id)).toEqual(all.hits.slice(0, 2).map((h) => h.id))
      expect(page.hits.map((h) => text(h.titleParts))).toEqual(all.hits.slice(0, 2).map((h) => text(h.titleParts)))
      expect(page.hits.every((h) => h.titleParts.some((p) => p.isMatch && p.text === 'Wool'))).toBe(true)
      expect((await search.search('wool', { limit: 6 })).total).toBe(6)
    })

    it('carries price, picture and sold-out state like a listing card', async () => {
      const p = await product('Enamel Mug')
      await insertVariant(engine, { productId: p.id, priceCents: 1800, stock: 0 })
      const [hit] = (await search.search('enamel')).hits
      expect(hit).toMatchObject({ slug: 'enamel-mug', minPriceCents: 1800, maxPriceCents: 2500, isSoldOut: false })
    })
  })

  describe('hostile queries', () => {
    beforeEach(async () => {
      // a SKU without digits: a default one could start with "1", a prefix "alert(1)" looks for
      await product('Harbor Rain Jacket', 'Near the sea, or not.', { sku: 'HARBOR-JACKET' })
    })

    it.each([
      ['<script>alert(1)</script>', []],
      ['"', []],
      ['"jack', ['Harbor Rain Jacket']],
      ['jack"', ['Harbor Rain Jacket']],
      ['NEAR(jack rain)', ['Harbor Rain Jacket']],
      ['jack NEAR rain', ['Harbor Rain Jacket']],
      ['jack OR zzz', ['Harbor Rain Jacket']],
      ['NOT', ['Harbor Rain Jacket']],
      ['AND OR NOT', ['Harbor Rain Jacket']],
      ['*', []],
      ['jack*', ['Harbor Rain Jacket']],
      ['^jack', ['Harbor Rain Jacket']],
      ['title:jack', ['Harbor Rain Jacket']],
      ['{title description}: jack', ['Harbor Rain Jacket']],
      ['(jack', ['Harbor Rain Jacket']],
      ['-jack', ['Harbor Rain Jacket']],
      ["jack'; DROP TABLE products; --", ['Harbor Rain Jacket']],
      ['\u0000jack', ['Harbor Rain Jacket']],
      ['\uE000jack\uE001', ['Harbor Rain Jacket']],
      ['', []],
      ['   ', []],
    ])('%j gives a result, not an error', async (q, expected) => {
      // operators are plain words here: "near", "or" and "not" are in the description, and a
      // word nothing has falls back to any-word matching
      expect(await titles(q)).toEqual(expected)
      expect(await engine.count(sql`SELECT count(*) AS n FROM products`)).toBe(1)
    })

    it('non-strings, huge strings and many words are cut down, not refused', async () => {
      expect(await titles(undefined)).toEqual([])
      expect(await titles(['jack'])).toEqual([])
      expect(await titles({ toString: () => 'jack' })).toEqual([])
      expect(await titles('jack ' + 'x'.repeat(10_000))).toEqual(['Harbor Rain Jacket'])
      expect(await titles('x'.repeat(10_000))).toEqual([])
      expect(await titles('jack' + ' '.repeat(10_000) + 'zzz')).toEqual(['Harbor Rain Jacket'])
      expect(search.termsOf('a b c d e f g h i j k l')).toHaveLength(8)
      expect(search.termsOf('x'.repeat(500))[0]).toHaveLength(40)
    })
  })
})
