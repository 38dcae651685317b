import pg from 'pg'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { openDatabase } from '@/db'
import { moveToPostgres } from '@/db/pg/move'
import { postgresEngine } from '@/db/pg/steps'
import { usePostgres } from '@/db/tx'
import { seedDemo } from '@/demo/seed'
import * as catalog from '@/lib/catalog'
import * as search from '@/lib/search'
import { freshStore, type TestDb } from '../support/db'
import { ENGINES, type EngineName } from '../support/engines'
import { createHold, createProduct, createVariant } from '../support/factories'
import { startPostgres, type Postgres } from '../support/postgres'

// The shop's catalog reads on the runner (docs/decisions/047-generator-transactions.md) give
// the same products in the same order on both engines: the demo catalog, with an accented
// product and a live hold added, seeded into SQLite and moved into a real PostgreSQL
// (db/pg/move.ts), then each read asked of SQLite and of PostgreSQL in one process.

let server: Postgres
let pool: pg.Pool
let t: TestDb
let heldVariantId: number
let twinIds: number[]
// one clock for both engines, so a hold expiring between two calls cannot change a result
const now = Date.now()

beforeAll(async () => {
  server = await startPostgres()
  pool = new pg.Pool({ connectionString: server.url, max: 2 })
  t = freshStore()
  expect(seedDemo(t.db, t.dir)).not.toBeNull()
  const accented = createProduct({ slug: 'creme-cafe-mug', title: 'Crème Café Mug', description: 'A naïve glaze, 100% stoneware, the colour of crème brûlée.', status: 'active' })
  createVariant({ productId: accented.id, sku: 'CCM-ÉCRU', stock: 5, options: { Colour: 'Écru' } })
  const held = createVariant({ productId: accented.id, sku: 'CCM-NOIR', stock: 3, options: { Colour: 'Noir' } })
  createHold({ variantId: held.id, quantity: 2, expiresAt: now + 600_000 })
  heldVariantId = held.id
  // Titles where a sort by name can go wrong: two that differ only in case, at the same price,
  // the small one first by id (the tie falls to the id, not to the capital), a small first
  // letter, an accented capital and an accented small letter (both after z in SQLite's
  // NOCASE), and _ (between Z and a in bytes).
  twinIds = []
  for (const [slug, title, colour] of [
    ['zinc-notebook-small', 'zinc notebook', 'Zinc'],
    ['zinc-notebook', 'Zinc Notebook', 'Zinc'],
    ['apex-pen', 'apex pen', 'Zinc'],
    ['elan-lamp', 'Élan Lamp', 'Écru'],
    ['eclair-tin', 'éclair tin', 'Noir'],
    ['under-kit', 'Z_ Kit', 'Zinc'],
  ] as const) {
    const product = createProduct({ slug, title, description: 'A listing fixture.', status: 'active', createdAt: now - 1000 })
    if (slug.startsWith('zinc')) twinIds.push(product.id)
    createVariant({ productId: product.id, sku: slug.toUpperCase(), priceCents: 1800, stock: slug === 'elan-lamp' ? 0 : 4, options: { Colour: colour } })
  }
  const source = openDatabase(t.file, { readonly: true }).$client
  try {
    await moveToPostgres(source, pool)
  } finally {
    source.close()
  }
})

afterAll(async () => {
  usePostgres(undefined)
  await pool?.end()
  t?.close()
  await server?.stop()
})

/** `read` run with the domain's bodies on `engine`; SQLite again afterwards. */
async function on<T>(engine: EngineName, read: () => Promise<T>): Promise<T> {
  usePostgres(engine === 'postgres' ? postgresEngine(pool) : undefined)
  try {
    return await read()
  } finally {
    usePostgres(undefined)
  }
}

/** What a shopper may type: a prefix, two words, a word of a description, accents and case, nothing found, LIKE's and SQL's own characters. */
const QUERIES = ['jack', 'rai', 'rain jacket', 'wool blanket', 'gloves', 'waterproof', 'CAFE', 'café', 'creme', 'Crème BRÛLÉE', 'zzyzx', 'socks parka', '%', '100%', '_', 'wool_blanket', "'", "don't", '"canvas tote"', "mug' OR '1'='1"]

describe.each(ENGINES)('the shop catalog reads on %s', (name) => {
  it('GET /api/products: the same active products and variants, in the same order, with the same availability', async () => {
    const products = await on(name, () => catalog.listForApi(now))
    expect(products).toEqual(await on('sqlite', () => catalog.listForApi(now)))
    expect(products.length).toBeGreaterThanOrEqual(24)
    expect(products.map((p) => p.id)).toEqual([...products.map((p) => p.id)].sort((a, b) => a - b))
    // the demo's Alpine Down Parka is a draft
    expect(products.some((p) => p.slug.startsWith('alpine'))).toBe(false)
    const mug = products.find((p) => p.slug === 'creme-cafe-mug')!
    expect(mug.variants.map((v) => [v.sku, v.available])).toEqual([
      ['CCM-ÉCRU', 5],
      ['CCM-NOIR', 1],
    ])
    expect(mug.variants[1]!.id).toBe(heldVariantId)
    expect(mug.variants[0]).toEqual({ id: expect.any(Number), sku: 'CCM-ÉCRU', title: 'Default', priceCents: expect.any(Number), currency: 'usd', available: 5 })
  })

  it('collections: the same list, counts and pictures, and the same sitemap', async () => {
    const collections = await on(name, () => catalog.listCollections())
    expect(collections).toEqual(await on('sqlite', () => catalog.listCollections()))
    expect(collections.filter((c) => c.productCount > 0).length).toBeGreaterThanOrEqual(3)
    expect(collections.every((c) => typeof c.isFeatured === 'boolean' && Number.isInteger(c.productCount))).toBe(true)
    const first = collections.find((c) => c.productCount > 0)!
    expect(await on(name, () => catalog.getCollection(first.slug))).toEqual(first)
    expect(await on(name, () => catalog.getCollection('no-such-collection'))).toBeNull()
    const sitemap = await on(name, () => catalog.sitemapEntries())
    expect(sitemap).toEqual(await on('sqlite', () => catalog.sitemapEntries()))
    expect(sitemap.products.length).toBeGreaterThanOrEqual(24)
    expect(sitemap.collections.map((c) => c.slug)).toEqual(collections.filter((c) => c.productCount > 0).map((c) => c.slug))
  })

  it('product page: every product the same by slug (pictures, variants, options, collections), and the same availability', async () => {
    const slugs = (await on('sqlite', () => catalog.listForApi(now))).map((p) => p.slug)
    for (const slug of slugs) {
      const product = await on(name, () => catalog.getProduct(slug))
      expect(product, slug).toEqual(await on('sqlite', () => catalog.getProduct(slug)))
      expect(await on(name, () => catalog.productAvailability(product!.id, now)), slug).toEqual(await on('sqlite', () => catalog.productAvailability(product!.id, now)))
    }
    const mug = (await on(name, () => catalog.getProduct('creme-cafe-mug')))!
    expect(mug.variants.map((v) => v.options)).toEqual([{ Colour: 'Écru' }, { Colour: 'Noir' }])
    expect(mug.options).toEqual([{ name: 'Colour', values: ['Écru', 'Noir'] }])
    expect(await on(name, () => catalog.productAvailability(mug.id, now))).toEqual({ [mug.variants[0]!.id]: 5, [heldVariantId]: 1 })
    const jacket = (await on(name, () => catalog.getProduct('harbor-rain-jacket')))!
    expect(jacket.images.length).toBeGreaterThan(0)
    expect(jacket.collections.length).toBeGreaterThan(0)
    // drafts and unknown slugs are not shown
    expect(await on(name, () => catalog.getProduct('alpine-down-parka'))).toBeNull()
    expect(await on(name, () => catalog.getProduct('no-such-product'))).toBeNull()
  })

  it('search: the same product ids, in the same order, and the same cards for a fixed list of queries', async () => {
    let found = 0
    for (const q of QUERIES) {
      const result = await on(name, () => search.search(q, { limit: 100, now }))
      const lite = await on('sqlite', () => search.search(q, { limit: 100, now }))
      expect(result.hits.map((h) => h.id).sort((a, b) => a - b), q).toEqual(lite.hits.map((h) => h.id).sort((a, b) => a - b))
      expect([result.total, result.isLoose, result.terms], q).toEqual([lite.total, lite.isLoose, lite.terms])
      const card = ({ titleParts: _t, snippetParts: _s, ...rest }: (typeof result.hits)[number]) => rest
      expect(result.hits.map(card).sort((a, b) => a.id - b.id), q).toEqual(lite.hits.map(card).sort((a, b) => a.id - b.id))
      found += result.hits.length
    }
    expect(found).toBeGreaterThan(20)
    // what each kind of query finds, on either engine
    const titles = async (q: string) => (await on(name, () => search.search(q, { now }))).hits.map((h) => h.title)
    expect(await titles('jack')).toContain('Harbor Rain Jacket')
    expect(await titles('CAFE')).toEqual(['Crème Café Mug'])
    expect(await titles('creme brulee')).toEqual(['Crème Café Mug'])
    expect(await titles('zzyzx')).toEqual([])
    // LIKE's wildcards and a quote are no syntax: "100%" is the word 100, "%" and "_" are nothing
    expect(await titles('100%')).toEqual(await titles('100'))
    expect(await titles('100%')).toContain('Crème Café Mug')
    expect(await titles('%')).toEqual([])
    expect(await titles('_')).toEqual([])
    expect(await titles("mug' OR '1'='1")).toEqual(await titles('mug or 1'))
    const mug = (await on(name, () => search.search('noir', { now }))).hits.find((h) => h.title === 'Crème Café Mug')!
    expect(mug.isSoldOut).toBe(false)
  })
})

describe.each(ENGINES)('the listing on %s', (name) => {
  const both = async <T>(read: () => Promise<T>): Promise<T> => {
    const result = await on(name, read)
    expect(result).toEqual(await on('sqlite', read))
    return result
  }

  it('every sort, two pages each: the same products in the same order, with the same cards and totals', async () => {
    for (const sort of catalog.SORTS) {
      const first = await both(() => catalog.listProducts({ sort, perPage: 7 }, now))
      const second = await both(() => catalog.listProducts({ sort, perPage: 7, page: 2 }, now))
      expect(first.items, sort).toHaveLength(7)
      expect(second.items, sort).toHaveLength(7)
      expect(first.total, sort).toBeGreaterThanOrEqual(30)
      expect([second.page, second.total, second.pageCount], sort).toEqual([2, first.total, Math.ceil(first.total / 7)])
      // the pages do not overlap, and the whole listing has each active product once
      expect(new Set([...first.items, ...second.items].map((p) => p.id)).size, sort).toBe(14)
      const everything = await both(() => catalog.listProducts({ sort, perPage: 48 }, now))
      expect(everything.items.map((p) => p.id).slice(0, 14), sort).toEqual([...first.items, ...second.items].map((p) => p.id))
    }
    const byName = (await on(name, () => catalog.listProducts({ sort: 'name', perPage: 48 }, now))).items.map((p) => p.title)
    // SQLite's NOCASE: A-Z folded, the rest by code point; twins in case by id
    expect(byName.slice(-5)).toEqual(['Z_ Kit', 'zinc notebook', 'Zinc Notebook', 'Élan Lamp', 'éclair tin'])
    expect(byName.indexOf('apex pen')).toBeLessThan(byName.findIndex((title) => /^[b-z]/i.test(title)))
    const byPrice = (await on(name, () => catalog.listProducts({ sort: 'price-asc', perPage: 48 }, now))).items
    expect(byPrice.filter((p) => twinIds.includes(p.id)).map((p) => p.id)).toEqual([...twinIds].sort((a, b) => a - b))
  })

  it('each filter, and two combined: the same pages on both engines', async () => {
    const facets = await both(() => catalog.facets())
    const collections = (await on('sqlite', () => catalog.listCollections())).filter((c) => c.productCount > 0)
    const colours = facets.options.find((o) => o.name === 'Colour')!.values
    const sizes = facets.options.find((o) => o.name === 'Size')!.values
    const queries: catalog.ListingQuery[] = [
      { collection: collections[0]!.slug },
      { collection: collections[1]!.slug, sort: 'price-desc' },
      { options: { Colour: [colours[0]!] } },
      { options: { Colour: colours.slice(0, 3) }, sort: 'name' },
      { options: { Size: ['M'] }, sort: 'price-asc' },
      { inStock: true, sort: 'newest' },
      { collection: collections[0]!.slug, options: { Size: [sizes[0]!] } },
      { options: { Colour: colours.slice(0, 4), Size: ['M', 'L'] }, sort: 'name' },
      { options: { Colour: ['Écru', 'Zinc'] }, inStock: true, sort: 'name' },
      { collection: collections[0]!.slug, inStock: true, sort: 'price-asc' },
    ]
    for (const query of queries) {
      for (const page of [1, 2]) {
        const listing = await both(() => catalog.listProducts({ ...query, perPage: 3, page }, now))
        if (page === 1) expect(listing.total, JSON.stringify(query)).toBeGreaterThan(0)
      }
    }
    // a filter on a value shows that value's picture; Écru's lamp is sold out, so in stock leaves the mug
    const ecru = await on(name, () => catalog.listProducts({ options: { Colour: ['Écru'] }, sort: 'name' }, now))
    expect(ecru.items.map((p) => [p.title, p.isSoldOut])).toEqual([
      ['Crème Café Mug', false],
      ['Élan Lamp', true],
    ])
    expect((await on(name, () => catalog.listProducts({ options: { Colour: ['Écru', 'Zinc'] }, inStock: true, sort: 'name' }, now))).items.map((p) => p.title)).toEqual(['apex pen', 'Crème Café Mug', 'Z_ Kit', 'zinc notebook', 'Zinc Notebook'])
    // the held Noir has 1 of 3 left: still in stock
    expect((await on(name, () => catalog.listProducts({ options: { Colour: ['Noir'] }, inStock: true, sort: 'name' }, now))).items.map((p) => p.title)).toEqual(['Crème Café Mug', 'éclair tin'])
    // past the last page: the last page; nothing matches: page 1 of nothing
    const last = await both(() => catalog.listProducts({ sort: 'name', perPage: 10, page: 99 }, now))
    expect(last.page).toBe(last.pageCount)
    expect(last.items.length).toBeGreaterThan(0)
    expect(await both(() => catalog.listProducts({ options: { Colour: ['No such colour'] }, page: 3 }, now))).toEqual({ items: [], total: 0, page: 1, perPage: 12, pageCount: 1 })
  })

  it('facets: the same collections and option values, in the same order', async () => {
    const facets = await both(() => catalog.facets())
    expect(facets.collections.length).toBeGreaterThanOrEqual(3)
    expect([facets.options[0]!.name, facets.options.at(-1)!.name]).toEqual(['Colour', 'Size'])
    const colours = facets.options[0]!.values
    expect(colours).toEqual(expect.arrayContaining(['Écru', 'Noir', 'Zinc']))
    expect(new Set(colours).size).toBe(colours.length)
    expect(facets.options.at(-1)!.values.length).toBeGreaterThanOrEqual(3)
  })

  it("the home page, every collection's products (and so a product page's related ones) and the order pages' pictures", async () => {
    const home = await both(() => catalog.home(now))
    expect(home.featured.length).toBeGreaterThanOrEqual(4)
    expect(home.newest.length).toBeGreaterThan(0)
    expect(home.featuredCollections.length).toBeGreaterThan(0)
    for (const collection of (await on('sqlite', () => catalog.listCollections())).filter((c) => c.productCount > 0)) {
      // what catalog.cached.collection keeps, whose items a product page shows as related
      const listing = await both(() => catalog.listProducts({ collection: collection.slug, perPage: 48 }, now))
      expect(listing.total, collection.slug).toBe(collection.productCount)
    }
    const variantIds = (await on('sqlite', () => catalog.listForApi(now))).flatMap((p) => p.variants.map((v) => v.id))
    const pictures = await on(name, () => catalog.variantPictures([...variantIds, 999_999]))
    // a map by variant id, whatever order the engine read the rows in; an unknown id left out
    expect(pictures).toEqual(await on('sqlite', () => catalog.variantPictures(variantIds)))
    expect(pictures.size).toBe(variantIds.length)
    expect([...pictures.values()].filter((p) => p.path !== null).length).toBeGreaterThan(variantIds.length / 2)
  })
})

describe('the engine in use answers', () => {
  it('each read sees the rows of the engine the runner is on, not the SQLite file', async () => {
    // a product and collection written to PostgreSQL alone
    const { rows } = await pool.query<{ id: string }>(`INSERT INTO products (slug, title, description, status) VALUES ('pg-only-lantern', 'Quokka Lantern', 'Only on PostgreSQL.', 'active') RETURNING id`)
    const productId = Number(rows[0]!.id)
    await pool.query(`INSERT INTO variants (product_id, sku, title, price_cents, stock) VALUES ($1, 'PG-ONLY', 'Default', 1200, 4)`, [productId])
    const { rows: collection } = await pool.query<{ id: string }>(`INSERT INTO collections (slug, title) VALUES ('pg-only', 'PostgreSQL only') RETURNING id`)
    await pool.query(`INSERT INTO product_collections (product_id, collection_id) VALUES ($1, $2)`, [productId, collection[0]!.id])
    try {
      for (const [engine, isThere] of [
        ['postgres', true],
        ['sqlite', false],
      ] as const) {
        expect((await on(engine, () => catalog.listForApi(now))).some((p) => p.slug === 'pg-only-lantern'), engine).toBe(isThere)
        expect((await on(engine, () => catalog.listCollections())).find((c) => c.slug === 'pg-only')?.productCount, engine).toBe(isThere ? 1 : undefined)
        expect((await on(engine, () => catalog.sitemapEntries())).collections.some((c) => c.slug === 'pg-only'), engine).toBe(isThere)
        expect((await on(engine, () => search.search('quokka', { now }))).hits.map((h) => h.title), engine).toEqual(isThere ? ['Quokka Lantern'] : [])
        expect((await on(engine, () => catalog.getProduct('pg-only-lantern')))?.variants.map((v) => v.sku), engine).toEqual(isThere ? ['PG-ONLY'] : undefined)
        expect(Object.values(await on(engine, () => catalog.productAvailability(productId, now))), engine).toEqual(isThere ? [4] : [])
        expect((await on(engine, () => catalog.listProducts({ collection: 'pg-only' }, now))).items.map((p) => p.slug), engine).toEqual(isThere ? ['pg-only-lantern'] : [])
        expect((await on(engine, () => catalog.facets())).collections.some((c) => c.slug === 'pg-only'), engine).toBe(isThere)
        const [variant] = (await on('postgres', () => catalog.listForApi(now))).find((p) => p.slug === 'pg-only-lantern')!.variants
        expect((await on(engine, () => catalog.variantPictures([variant!.id]))).get(variant!.id)?.productSlug, engine).toBe(isThere ? 'pg-only-lantern' : undefined)
      }
    } finally {
      await pool.query(`DELETE FROM products WHERE id = $1`, [productId])
      await pool.query(`DELETE FROM collections WHERE slug = 'pg-only'`)
    }
  })
})
