// What the runner costs the shop's catalog reads on SQLite (docs/decisions/047-generator-
// transactions.md): each read converted to db/tx.ts's read() with a prepared step, against the
// same read as it was before the conversion (kept here, verbatim in what it asks SQLite: the
// prepared FTS5 statements and json_each cards of search, the builder queries of
// /api/products, the collections' SQL built per call). The demo catalog, one process, one
// connection; `n` calls of each path, alternating in rounds so drift hits both alike; wall
// clock and this process's CPU time per call. The figures are in decision 047. (The facets are
// timed as their two reads alone: the JavaScript sort that follows is the same on both paths.)
// Run: npx tsx --conditions=react-server bench/catalog-reads.ts [n]
import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { performance } from 'node:perf_hooks'
import { isDeepStrictEqual } from 'node:util'
import { asc, eq, inArray, sql, type SQL } from 'drizzle-orm'
import { getDb, openDatabase, setDb } from '@/db'
import { migrate } from '@/db/migrate'
import { products, variants } from '@/db/schema'
import { COLUMN_WEIGHTS as WEIGHTS, MARK_CLOSE, MARK_OPEN, markedParts, SNIPPET_WORDS, termsOf } from '@/db/search-terms'
import * as catalogReads from '@/db/catalog-reads'
import { preparedAll, read } from '@/db/tx'
import { seedDemo } from '@/demo/seed'
import * as catalog from '@/lib/catalog'
import * as inventory from '@/lib/inventory'
import * as search from '@/lib/search'

const ROUNDS = 10
const QUERIES = ['rain', 'jacket', 'wool', 'merino beanie', 'mug', 'organic cotton', 'navy', 'camp blanket', 'sock', 'waterproof shell', 'tote', 'candle', 'xyzzy', 'ha']

// ---- the reads as they were

type HitRow = { id: number; titleMarked: string; snippetMarked: string }
type CardRow = Omit<catalog.ProductCard, 'isSoldOut' | 'isFeatured'> & { isSoldOut: number; isFeatured: number }

function oldSearchStatements() {
  const client = getDb().$client
  const firstImage = `(SELECT i.path FROM product_images i WHERE i.product_id = p.id ORDER BY i.position, i.id LIMIT 1)`
  const firstImageAlt = `coalesce(nullif((SELECT i.alt FROM product_images i WHERE i.product_id = p.id ORDER BY i.position, i.id LIMIT 1), ''), p.title)`
  return {
    rank: client
      .prepare(`SELECT rowid FROM product_search WHERE product_search MATCH ? ORDER BY bm25(product_search, ${WEIGHTS.title}, ${WEIGHTS.description}, ${WEIGHTS.skus}, ${WEIGHTS.options}, ${WEIGHTS.collections}), rowid LIMIT ?`)
      .pluck(),
    count: client.prepare(`SELECT count(*) FROM product_search WHERE product_search MATCH ?`).pluck(),
    marked: client.prepare(
      `SELECT rowid AS id, highlight(product_search, 0, '${MARK_OPEN}', '${MARK_CLOSE}') AS titleMarked,
         snippet(product_search, 1, '${MARK_OPEN}', '${MARK_CLOSE}', '…', ${SNIPPET_WORDS}) AS snippetMarked
       FROM product_search WHERE product_search MATCH ? AND +rowid IN (SELECT value FROM json_each(?))`,
    ),
    cards: client.prepare(`
      WITH grouped AS (
        SELECT v.product_id, min(v.price_cents) AS min_price, max(v.price_cents) AS max_price, min(v.currency) AS currency,
          sum(${inventory.availableSqlText()}) AS available
        FROM variants v WHERE v.product_id IN (SELECT value FROM json_each(@ids)) GROUP BY v.product_id
      )
      SELECT p.id, p.slug, p.title, p.created_at AS createdAt, p.is_featured AS isFeatured,
        g.min_price AS minPriceCents, g.max_price AS maxPriceCents, g.currency,
        ${firstImage} AS imagePath, ${firstImageAlt} AS imageAlt, (g.available = 0) AS isSoldOut
      FROM grouped g JOIN products p ON p.id = g.product_id AND p.status = 'active'`),
  }
}

function oldSearch(s: ReturnType<typeof oldSearchStatements>, raw: string, limit = 48, now = Date.now()) {
  const terms = termsOf(raw)
  if (terms.length === 0) return { terms, hits: [], total: 0, isLoose: false }
  const run = (match: string) => {
    const ids = s.rank.all(match, limit) as number[]
    if (ids.length === 0) return { rows: [] as HitRow[], total: 0 }
    const total = ids.length < limit ? ids.length : (s.count.get(match) as number)
    const byId = new Map((s.marked.all(match, JSON.stringify(ids)) as HitRow[]).map((r) => [r.id, r]))
    return { rows: ids.flatMap((id) => byId.get(id) ?? []), total }
  }
  let isLoose = false
  let found = run(search.toFtsQuery(raw, 'AND')!)
  if (found.total === 0 && terms.length > 1) {
    found = run(search.toFtsQuery(raw, 'OR')!)
    isLoose = found.total > 0
  }
  const ids = found.rows.map((r) => r.id)
  const cards = new Map((s.cards.all({ ids: JSON.stringify(ids), now }) as CardRow[]).map((r) => [r.id, { ...r, isSoldOut: r.isSoldOut === 1, isFeatured: r.isFeatured === 1 }]))
  const hits = found.rows.flatMap((row) => {
    const card = cards.get(row.id)
    return card ? [{ ...card, titleParts: markedParts(row.titleMarked), snippetParts: markedParts(row.snippetMarked) }] : []
  })
  return { terms, hits, total: found.total, isLoose }
}

function oldListForApi(): catalog.ApiProduct[] {
  const db = getDb()
  const rows = db.select({ id: products.id, slug: products.slug, title: products.title }).from(products).where(eq(products.status, 'active')).orderBy(asc(products.id)).all()
  if (rows.length === 0) return []
  const vs = db
    .select({ id: variants.id, productId: variants.productId, sku: variants.sku, title: variants.title, priceCents: variants.priceCents, currency: variants.currency })
    .from(variants)
    .where(inArray(variants.productId, rows.map((r) => r.id)))
    .orderBy(asc(variants.productId), asc(variants.position), asc(variants.id))
    .all()
  const stock = inventory.available(vs.map((v) => v.id))
  const byProduct = new Map<number, catalog.ApiProduct['variants']>()
  for (const v of vs) {
    const list = byProduct.get(v.productId) ?? []
    list.push({ id: v.id, sku: v.sku, title: v.title, priceCents: v.priceCents, currency: v.currency, available: stock.get(v.id) ?? 0 })
    byProduct.set(v.productId, list)
  }
  return rows.map((r) => ({ ...r, variants: byProduct.get(r.id) ?? [] }))
}

function oldListCollections(): catalog.CollectionSummary[] {
  return getDb()
    .all<catalog.CollectionSummary>(sql`
    SELECT c.id, c.slug, c.title, c.description, c.is_featured AS isFeatured, c.updated_at AS updatedAt,
      (SELECT count(*) FROM product_collections pc JOIN products p ON p.id = pc.product_id AND p.status = 'active' WHERE pc.collection_id = c.id) AS productCount,
      (SELECT i.path FROM product_collections pc JOIN products p ON p.id = pc.product_id AND p.status = 'active'
         JOIN product_images i ON i.product_id = p.id WHERE pc.collection_id = c.id ORDER BY pc.position, i.position LIMIT 1) AS imagePath,
      c.title AS imageAlt
    FROM collections c ORDER BY c.position, c.id`)
    .map((c) => ({ ...c, isFeatured: Boolean(c.isFeatured) }))
}

function oldGetProduct(slug: string): catalog.ProductDetail | null {
  const db = getDb()
  const product = db.get<Omit<catalog.ProductDetail, 'images' | 'variants' | 'options' | 'collections'>>(sql`
    SELECT id, slug, title, description, created_at AS createdAt, updated_at AS updatedAt
    FROM products WHERE slug = ${slug} AND status = 'active'`)
  if (!product) return null
  const images = db.all<catalog.ProductImage>(sql`
    SELECT id, path, coalesce(nullif(alt, ''), ${product.title}) AS alt, width, height
    FROM product_images WHERE product_id = ${product.id} ORDER BY position, id`)
  const variantRows = db.all<Omit<catalog.ProductVariant, 'options'> & { options: string }>(sql`
    SELECT id, sku, title, price_cents AS priceCents, currency, options, image_id AS imageId
    FROM variants WHERE product_id = ${product.id} ORDER BY position, id`)
  const collections = db.all<{ slug: string; title: string }>(sql`
    SELECT c.slug, c.title FROM product_collections pc JOIN collections c ON c.id = pc.collection_id
    WHERE pc.product_id = ${product.id} ORDER BY c.position, c.id`)
  // the options as the page reads them (lib/catalog's optionsOf, unchanged by the conversion, is not exported)
  return { ...product, images, variants: variantRows.map((v) => ({ ...v, options: catalog.parseOptions(v.options) })), options: [], collections }
}

// The listing as it was: its SQL assembled per call with drizzle's sql`…` and run with db.get/db.all.
function oldListProducts(query: catalog.ListingQuery = {}, now = Date.now()): catalog.Listing {
  const db = getDb()
  const firstImage = sql.raw(`(SELECT i.path FROM product_images i WHERE i.product_id = p.id ORDER BY i.position, i.id LIMIT 1)`)
  const firstImageAlt = sql.raw(`coalesce(nullif((SELECT i.alt FROM product_images i WHERE i.product_id = p.id ORDER BY i.position, i.id LIMIT 1), ''), p.title)`)
  const clampInt = (n: number, min: number, max: number) => (Number.isFinite(n) ? Math.min(Math.max(Math.trunc(n), min), max) : min)
  const perPage = clampInt(query.perPage ?? catalog.PER_PAGE, 1, 48)
  const variantFilters: SQL[] = []
  for (const [name, values] of Object.entries(query.options ?? {})) {
    if (values.length === 0) continue
    variantFilters.push(sql`json_extract(v.options, ${`$."${name.replace(/["\\]/g, '')}"`}) IN (${sql.join(
      values.map((v) => sql`${v}`),
      sql`, `,
    )})`)
  }
  const hasOptionFilter = variantFilters.length > 0
  const collectionJoin = query.collection
    ? sql`JOIN product_collections pc ON pc.product_id = p.id AND pc.collection_id = (SELECT id FROM collections WHERE slug = ${query.collection})`
    : sql``
  const base = sql`
    WITH matched AS (
      SELECT v.product_id, v.id, v.price_cents, v.currency, v.image_id, v.position, ${inventory.availableSql(now)} AS available
      FROM variants v JOIN products p ON p.id = v.product_id AND p.status = 'active'
      ${hasOptionFilter ? sql`WHERE ${sql.join(variantFilters, sql` AND `)}` : sql``}
    ), eligible AS (
      SELECT * FROM matched ${query.inStock ? sql`WHERE available > 0` : sql``}
    ), grouped AS (
      SELECT product_id, min(price_cents) AS min_price, max(price_cents) AS max_price, min(currency) AS currency, sum(available) AS available
      FROM eligible GROUP BY product_id
    )`
  const total = db.get<{ n: number }>(sql`${base} SELECT count(*) AS n FROM grouped g JOIN products p ON p.id = g.product_id ${collectionJoin}`)?.n ?? 0
  const pageCount = Math.max(1, Math.ceil(total / perPage))
  const page = clampInt(query.page ?? 1, 1, pageCount)
  const sort = query.sort ?? 'featured'
  const order = {
    featured: query.collection ? sql`pc.position ASC, p.created_at DESC` : sql`p.is_featured DESC, p.created_at DESC`,
    newest: sql`p.created_at DESC`,
    'price-asc': sql`g.min_price ASC, p.title COLLATE NOCASE ASC`,
    'price-desc': sql`g.min_price DESC, p.title COLLATE NOCASE ASC`,
    name: sql`p.title COLLATE NOCASE ASC`,
  }[sort]
  const image = hasOptionFilter
    ? sql`coalesce((SELECT i.path FROM eligible e JOIN product_images i ON i.id = e.image_id WHERE e.product_id = p.id ORDER BY e.position, e.id LIMIT 1), ${firstImage})`
    : firstImage
  const imageAlt = hasOptionFilter
    ? sql`coalesce((SELECT nullif(i.alt, '') FROM eligible e JOIN product_images i ON i.id = e.image_id WHERE e.product_id = p.id ORDER BY e.position, e.id LIMIT 1), ${firstImageAlt})`
    : firstImageAlt
  const rows = db.all<CardRow>(sql`${base}
    SELECT p.id, p.slug, p.title, p.created_at AS createdAt, p.is_featured AS isFeatured,
      g.min_price AS minPriceCents, g.max_price AS maxPriceCents, g.currency,
      ${image} AS imagePath, ${imageAlt} AS imageAlt, (g.available = 0) AS isSoldOut
    FROM grouped g JOIN products p ON p.id = g.product_id ${collectionJoin}
    ORDER BY ${order}, p.id ASC
    LIMIT ${perPage} OFFSET ${(page - 1) * perPage}`)
  return { items: rows.map((r) => ({ ...r, isSoldOut: r.isSoldOut === 1, isFeatured: r.isFeatured === 1 })), total, page, perPage, pageCount }
}

// The facets' two queries as they were (the option values read without an order: the map's
// order then came from json_each's).
function oldFacetRows() {
  const db = getDb()
  const collections = db.all<{ slug: string; title: string }>(sql`
    SELECT c.slug, c.title FROM collections c
    WHERE EXISTS (SELECT 1 FROM product_collections pc JOIN products p ON p.id = pc.product_id AND p.status = 'active' WHERE pc.collection_id = c.id)
    ORDER BY c.position, c.id`)
  const pairs = db.all<{ name: string; value: string }>(sql`
    SELECT DISTINCT j.key AS name, j.value AS value
    FROM variants v JOIN products p ON p.id = v.product_id AND p.status = 'active', json_each(v.options) j
    WHERE j.type = 'text'`)
  return { collections, pairs }
}

function oldVariantPictures(ids: number[]): Map<number, catalog.VariantPicture> {
  const rows = getDb().all<catalog.VariantPicture>(sql`
    SELECT v.id AS variantId, p.slug AS productSlug,
      COALESCE(
        (SELECT i.path FROM product_images i WHERE i.id = v.image_id AND i.product_id = v.product_id),
        (SELECT i.path FROM product_images i WHERE i.product_id = v.product_id ORDER BY i.position, i.id LIMIT 1)
      ) AS path
    FROM variants v JOIN products p ON p.id = v.product_id
    WHERE v.id IN (${sql.join(
      ids.map((id) => sql`${id}`),
      sql`, `,
    )})`)
  return new Map(rows.map((r) => [r.variantId, r]))
}

function oldAvailabilityStatement() {
  return getDb().$client.prepare(`SELECT v.id, ${inventory.availableSqlText()} AS available FROM variants v WHERE v.product_id = @productId`)
}

// ---- timing

type Figures = { name: string; beforeUs: number; afterUs: number; beforeCpuUs: number; afterCpuUs: number }

async function compare(name: string, n: number, before: (i: number) => unknown, after: (i: number) => Promise<unknown>): Promise<Figures> {
  for (let i = 0; i < 50; i++) {
    before(i)
    await after(i)
  }
  const totals = { before: 0, after: 0, beforeCpu: 0, afterCpu: 0 }
  const perRound = Math.ceil(n / ROUNDS)
  const timeBefore = async () => {
    const start = performance.now()
    const cpu = process.cpuUsage()
    for (let i = 0; i < perRound; i++) before(i)
    const used = process.cpuUsage(cpu)
    totals.beforeCpu += (used.user + used.system) / 1000
    totals.before += performance.now() - start
  }
  const timeAfter = async () => {
    const start = performance.now()
    const cpu = process.cpuUsage()
    for (let i = 0; i < perRound; i++) await after(i)
    const used = process.cpuUsage(cpu)
    totals.afterCpu += (used.user + used.system) / 1000
    totals.after += performance.now() - start
  }
  for (let round = 0; round < ROUNDS; round++) {
    if (round % 2 === 0) {
      await timeBefore()
      await timeAfter()
    } else {
      await timeAfter()
      await timeBefore()
    }
  }
  const calls = perRound * ROUNDS
  const us = (ms: number) => (ms * 1000) / calls
  return { name, beforeUs: us(totals.before), afterUs: us(totals.after), beforeCpuUs: us(totals.beforeCpu), afterCpuUs: us(totals.afterCpu) }
}

async function main() {
  const n = Number(process.argv[2] ?? 3000)
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'till-bench-catalog-'))
  const db = openDatabase(path.join(dir, 'store.sqlite3'))
  try {
    migrate(db.$client)
    setDb(db)
    seedDemo(db, dir)
    const statements = oldSearchStatements()
    // the two paths must agree before their times mean anything
    for (const q of QUERIES) {
      const now = Date.now()
      if (!isDeepStrictEqual(oldSearch(statements, q, 48, now), await search.search(q, { now }))) throw new Error(`search differs for ${q}`)
    }
    if (!isDeepStrictEqual(oldListForApi(), await catalog.listForApi())) throw new Error('/api/products differs')
    if (!isDeepStrictEqual(oldListCollections(), await catalog.listCollections())) throw new Error('collections differ')
    const slugs = (await catalog.listForApi()).map((p) => p.slug)
    for (const slug of slugs) {
      const [before, after] = [oldGetProduct(slug), await catalog.getProduct(slug)]
      if (!isDeepStrictEqual(before, after && { ...after, options: [] })) throw new Error(`product ${slug} differs`)
    }
    const availability = oldAvailabilityStatement()
    const productIds = (await catalog.listForApi()).map((p) => p.id)
    const oldAvailability = (productId: number) => Object.fromEntries((availability.all({ productId, now: Date.now() }) as { id: number; available: number }[]).map((r) => [r.id, r.available]))
    // the listing: the shop's first page, a filtered one, a collection's, and page 2 by price
    const facets = await catalog.facets()
    const colour = facets.options.find((o) => o.name === 'Colour')!.values
    const slug = facets.collections[0]!.slug
    const listings: catalog.ListingQuery[] = [
      { sort: 'featured' },
      { options: { Colour: colour.slice(0, 3), Size: ['M'] }, inStock: true, sort: 'name' },
      { collection: slug, perPage: 48 },
      { sort: 'price-asc', page: 2 },
    ]
    const listingNow = Date.now()
    for (const query of listings) {
      if (!isDeepStrictEqual(oldListProducts(query, listingNow), await catalog.listProducts(query, listingNow))) throw new Error(`listing differs for ${JSON.stringify(query)}`)
    }
    const oldPairs = oldFacetRows()
    if (!isDeepStrictEqual(facets.collections, oldPairs.collections)) throw new Error('facet collections differ')
    const variantIds = (await catalog.listForApi()).flatMap((p) => p.variants.map((v) => v.id)).slice(0, 6)
    if (!isDeepStrictEqual(oldVariantPictures(variantIds), await catalog.variantPictures(variantIds))) throw new Error('variant pictures differ')
    const figures = [
      await compare('listing (4 queries in turn)', n, (i) => oldListProducts(listings[i % listings.length]), (i) => catalog.listProducts(listings[i % listings.length])),
      await compare('facets (their two reads; the sort after is the same)', n, () => oldFacetRows(), () => read(function* () {
        return { collections: yield* preparedAll(catalogReads.facetCollections, undefined), pairs: yield* preparedAll(catalogReads.optionValues, undefined) }
      })),
      await compare('variantPictures (6 variants)', n, () => oldVariantPictures(variantIds), () => catalog.variantPictures(variantIds)),
      await compare('search (14 queries in turn)', n, (i) => oldSearch(statements, QUERIES[i % QUERIES.length]!), (i) => search.search(QUERIES[i % QUERIES.length]!)),
      await compare('/api/products', n, () => oldListForApi(), () => catalog.listForApi()),
      await compare('collections', n, () => oldListCollections(), () => catalog.listCollections()),
      await compare(`product page: getProduct (${slugs.length} slugs in turn)`, n, (i) => oldGetProduct(slugs[i % slugs.length]!), (i) => catalog.getProduct(slugs[i % slugs.length]!)),
      await compare('product page: productAvailability', n, (i) => oldAvailability(productIds[i % productIds.length]!), (i) => catalog.productAvailability(productIds[i % productIds.length]!)),
    ]
    console.log(`${n} calls of each path, ${ROUNDS} alternating rounds, demo catalog; µs per call (load average ${os.loadavg()[0]!.toFixed(1)})`)
    console.table(
      figures.map((f) => ({
        read: f.name,
        'before µs': f.beforeUs.toFixed(1),
        'runner µs': f.afterUs.toFixed(1),
        'runner / before': (f.afterUs / f.beforeUs).toFixed(2),
        'before CPU µs': f.beforeCpuUs.toFixed(1),
        'runner CPU µs': f.afterCpuUs.toFixed(1),
        'CPU runner / before': (f.afterCpuUs / f.beforeCpuUs).toFixed(2),
      })),
    )
  } finally {
    setDb(undefined)
    db.$client.close()
    fs.rmSync(dir, { recursive: true, force: true })
  }
}

main().catch((err: unknown) => {
  console.error(err)
  process.exitCode = 1
})
