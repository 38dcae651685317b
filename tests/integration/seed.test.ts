import crypto from 'node:crypto'
import fs from 'node:fs'
import path from 'node:path'
import { sql, type SQL } from 'drizzle-orm'
import { describe, expect, it } from 'vitest'
import { PICTURE_SIZE, picturesFolder, type Manifest } from '@/demo/pictures'
import { seedDemoCatalog } from '@/demo/seed'
import { isResizable } from '@/lib/picture-sizes'
import * as search from '@/lib/search'
import { readUpload } from '@/lib/uploads'
import { ENGINES, useEngine } from '../support/engines'
import { useStorageDir } from '../support/storage-dir'

// The demo catalog as the store seeds it at boot (demo/seed.ts seedDemoCatalog), on both
// engines: a believable catalog with real copy, stock that runs low and out, pictures that
// exist, seeded once, searchable. seedDemo, on a SQLite connection of its own, and the
// pictures' drawing are tests/unit/seed.test.ts.

const manifest = JSON.parse(fs.readFileSync(path.join(picturesFolder(), 'manifest.json'), 'utf8')) as Manifest

/** The store's folder, where the seed writes the pictures' uploads. */
const storageDir = () => process.env.STORAGE_DIR!

describe.each(ENGINES)('the demo catalog on %s', (name) => {
  const engine = useEngine(name)
  useStorageDir(engine)

  const all = <T = Record<string, unknown>>(query: SQL) => engine.rows<T>(query)
  const one = async <T = Record<string, unknown>>(query: SQL) => (await engine.rows<T>(query))[0]!
  const count = (query: SQL) => engine.count(query)
  /** A JSON key of a variant's options, as each engine reads JSON. */
  const option = (column: string, key: 'Colour' | 'Size') => (name === 'sqlite' ? sql.raw(`json_extract(${column}, '$.${key}')`) : sql.raw(`${column}->>'${key}'`))

  it('seeds a believable catalog into an empty store', async () => {
    const result = await seedDemoCatalog(storageDir())
    expect(result).not.toBeNull()
    expect(result).toEqual({
      products: await count(sql`SELECT count(*) AS n FROM products`),
      variants: await count(sql`SELECT count(*) AS n FROM variants`),
      collections: await count(sql`SELECT count(*) AS n FROM collections`),
      images: await count(sql`SELECT count(*) AS n FROM product_images`),
    })
    expect(await count(sql`SELECT count(*) AS n FROM products WHERE status = 'active'`)).toBeGreaterThanOrEqual(28)
    expect(await count(sql`SELECT count(*) AS n FROM products WHERE status = 'draft'`)).toBe(1)
    expect(await count(sql`SELECT count(*) AS n FROM collections`)).toBeGreaterThanOrEqual(5)
    expect(await count(sql`SELECT count(*) AS n FROM collections WHERE is_featured = 1`)).toBe(3)
    expect(await count(sql`SELECT count(*) AS n FROM products WHERE is_featured = 1`)).toBe(6)

    // Unique SKUs, real prices in dollars, sizes and colours as options.
    expect(await count(sql`SELECT count(DISTINCT sku) AS n FROM variants`)).toBe(result!.variants)
    const navy = await one<{ priceCents: unknown }>(sql`SELECT sku, title, price_cents AS "priceCents", currency, CAST(options AS TEXT) AS options FROM variants WHERE sku = 'HRJ-NAVY-M'`)
    expect({ ...navy, priceCents: Number(navy.priceCents) }).toEqual({
      sku: 'HRJ-NAVY-M',
      title: 'Navy / M',
      priceCents: 19800,
      currency: 'usd',
      options: JSON.stringify({ Size: 'M', Colour: 'Navy' }),
    })
    const prices = await one<{ lo: unknown; hi: unknown }>(sql`SELECT min(price_cents) AS lo, max(price_cents) AS hi FROM variants`)
    expect(Number(prices.lo)).toBeGreaterThanOrEqual(1800)
    expect(Number(prices.hi)).toBeLessThanOrEqual(24000)
    expect(await count(sql`SELECT count(DISTINCT product_id) AS n FROM variants WHERE ${option('options', 'Colour')} IS NOT NULL AND ${option('options', 'Size')} IS NOT NULL`)).toBeGreaterThanOrEqual(5)
    expect(await count(sql`SELECT count(*) AS n FROM products p WHERE (SELECT count(*) FROM variants v WHERE v.product_id = p.id) = 1`)).toBeGreaterThanOrEqual(3)

    // Real copy, not filler.
    for (const p of await all<{ slug: string; description: string }>(sql`SELECT slug, description FROM products`)) {
      expect(p.description.length, p.slug).toBeGreaterThan(120)
      expect(p.description).not.toMatch(/lorem|ipsum/i)
    }

    // Products sit in several collections, and every collection has products.
    expect(await count(sql`SELECT count(*) AS n FROM (SELECT product_id FROM product_collections GROUP BY product_id HAVING count(*) >= 2) AS several`)).toBeGreaterThanOrEqual(10)
    expect(await count(sql`SELECT count(*) AS n FROM collections c WHERE NOT EXISTS (SELECT 1 FROM product_collections pc WHERE pc.collection_id = c.id)`)).toBe(0)

    // Newest-first means something: spread over the last 90 days.
    const span = await one<{ oldest: unknown; newest: unknown }>(sql`SELECT min(created_at) AS oldest, max(created_at) AS newest FROM products`)
    expect(Number(span.newest) - Number(span.oldest)).toBeGreaterThan(60 * 24 * 3600 * 1000)
    expect(Date.now() - Number(span.oldest)).toBeLessThanOrEqual(90 * 24 * 3600 * 1000)
    expect(await count(sql`SELECT count(DISTINCT created_at) AS n FROM products`)).toBe(result!.products)
  })

  it('has low, sold-out variants and a sold-out product', async () => {
    await seedDemoCatalog(storageDir())
    expect(await count(sql`SELECT count(*) AS n FROM variants WHERE stock = 0`)).toBeGreaterThanOrEqual(1)
    expect(await count(sql`SELECT count(*) AS n FROM variants WHERE stock BETWEEN 1 AND 3`)).toBeGreaterThanOrEqual(3)
    const soldOut = await all<{ slug: string }>(sql`SELECT p.slug FROM products p WHERE p.status = 'active' AND NOT EXISTS (SELECT 1 FROM variants v WHERE v.product_id = p.id AND v.stock > 0)`)
    expect(soldOut.map((p) => p.slug)).toEqual(['fig-leaf-candle'])
  })

  it('gives every product pictures that exist and are JPEG uploads, and points colours at their own', async () => {
    await seedDemoCatalog(storageDir())
    expect(await count(sql`SELECT count(*) AS n FROM products p WHERE NOT EXISTS (SELECT 1 FROM product_images i WHERE i.product_id = p.id)`)).toBe(0)
    expect(await count(sql`SELECT count(*) AS n FROM (SELECT product_id FROM product_images GROUP BY product_id HAVING count(*) > 3) AS many`)).toBe(0)
    const images = await all<{ path: string; alt: string; width: unknown; height: unknown }>(sql`SELECT path, alt, width, height FROM product_images`)
    for (const image of images) {
      // the demo's own JPEGs, sent as they are (no copies, no srcset: see demo/pictures.ts)
      expect(image.path).toMatch(/^products\/[a-z0-9-]+-[1-3]\.jpg$/)
      expect(isResizable(image.path)).toBe(false)
      expect(image.alt.length).toBeGreaterThan(10)
      expect([Number(image.width), Number(image.height)]).toEqual([PICTURE_SIZE, PICTURE_SIZE])
      const file = path.join(storageDir(), 'uploads', image.path)
      expect(fs.existsSync(file), file).toBe(true)
      const data = fs.readFileSync(file)
      expect([...data.subarray(0, 3)]).toEqual([0xff, 0xd8, 0xff])
      expect(crypto.createHash('sha256').update(data).digest('hex')).toBe(manifest[image.path.slice('products/'.length)]?.sha256)
    }
    expect(new Set(images.map((i) => i.path)).size).toBe(images.length)
    // Each colour variant shows that colour's picture, from its own product.
    const colour = option('v.options', 'Colour')
    const lacksColour = name === 'sqlite' ? sql`instr(i.alt, ${colour}) = 0` : sql`strpos(i.alt, ${colour}) = 0`
    const mismatched = await all(sql`SELECT v.sku FROM variants v LEFT JOIN product_images i ON i.id = v.image_id
      WHERE ${colour} IS NOT NULL AND (i.id IS NULL OR i.product_id != v.product_id OR ${lacksColour})`)
    expect(mismatched).toEqual([])

    // and the uploads route can read them
    const upload = readUpload(images[0]!.path)
    expect(upload?.contentType).toBe('image/jpeg')
  })

  it('seeds once: a second call returns null and adds nothing', async () => {
    const size = () => count(sql`SELECT (SELECT count(*) FROM products) + (SELECT count(*) FROM variants) + (SELECT count(*) FROM product_images) + (SELECT count(*) FROM collections) AS n`)
    expect(await seedDemoCatalog(storageDir())).not.toBeNull()
    const before = await size()
    expect(await seedDemoCatalog(storageDir())).toBeNull()
    expect(await size()).toBe(before)
  })

  it('leaves a store that already has products alone', async () => {
    await engine.rows(sql`INSERT INTO products (slug, title) VALUES ('own', 'Our own thing') RETURNING id`)
    expect(await seedDemoCatalog(storageDir())).toBeNull()
    expect(await count(sql`SELECT count(*) AS n FROM products`)).toBe(1)
    expect(fs.existsSync(path.join(storageDir(), 'uploads'))).toBe(false)
  })

  it('is searchable: a "jack" prefix finds the jacket, drafts stay out of the index', async () => {
    await seedDemoCatalog(storageDir())
    const jacket = Number((await one<{ id: unknown }>(sql`SELECT id FROM products WHERE slug = 'harbor-rain-jacket'`)).id)
    const found = async (q: string) => (await search.search(q, { limit: 100 })).hits.map((h) => h.id)
    expect(await found('jack')).toContain(jacket)
    // by SKU, colour and collection too
    expect(await found('HRJ-NAVY-M')).toContain(jacket)
    expect(await found('outerwear')).toContain(jacket)
    // the draft is the parka
    expect(await count(sql`SELECT count(*) AS n FROM products WHERE status = 'draft' AND title LIKE '%Parka%'`)).toBe(1)
    expect(await found('parka')).toEqual([])
    if (name === 'sqlite') {
      // FTS5's own index, as the triggers keep it
      const hits = async (match: string) => (await all<{ rowid: unknown }>(sql`SELECT rowid FROM product_search WHERE product_search MATCH ${match}`)).map((r) => Number(r.rowid))
      expect(await hits('jack*')).toContain(jacket)
      expect(await hits('"HRJ-NAVY-M"')).toContain(jacket)
      expect(await hits('outerwear')).toContain(jacket)
      expect(await hits('parka')).toEqual([])
    }
  })
})
