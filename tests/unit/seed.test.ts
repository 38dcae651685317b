import crypto from 'node:crypto'
import fs from 'node:fs'
import path from 'node:path'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { renderProductImage } from '@/demo/images'
import { allPictures, PICTURE_SIZE, picturesFolder, type Manifest } from '@/demo/pictures'
import { seedDemo } from '@/demo/seed'
import { isResizable } from '@/lib/picture-sizes'
import { resetEnv } from '@/lib/env'
import { readUpload } from '@/lib/uploads'
import { freshDb, type TestDb } from '../support/db'

let t: TestDb
let storageDir: string
beforeEach(() => {
  t = freshDb()
  storageDir = path.join(t.dir, 'storage')
})
afterEach(() => {
  delete process.env.STORAGE_DIR
  resetEnv()
  t.close()
})

const all = <T>(sql: string, ...params: unknown[]) => t.db.$client.prepare(sql).all(...params) as T[]
const one = <T>(sql: string, ...params: unknown[]) => t.db.$client.prepare(sql).get(...params) as T
const count = (sql: string) => one<{ n: number }>(sql).n
const manifest = JSON.parse(fs.readFileSync(path.join(picturesFolder(), 'manifest.json'), 'utf8')) as Manifest

/** Well-formed XML with an <svg> root: tags balance, no attribute is given twice. */
function assertSvg(text: string, file: string) {
  expect(text.trimStart().startsWith('<svg '), file).toBe(true)
  expect(text).toMatch(/^<svg [^>]*viewBox="0 0 800 800"/)
  const stack: string[] = []
  for (const [tag] of text.matchAll(/<[^>]+>/g)) {
    const name = /^<\/?([A-Za-z][\w:-]*)/.exec(tag)?.[1]
    expect(name, `${file}: odd tag ${tag}`).toBeDefined()
    const attrs = [...tag.matchAll(/\s([\w:-]+)="[^"]*"/g)].map((m) => m[1])
    expect(new Set(attrs).size, `${file}: duplicate attribute in ${tag}`).toBe(attrs.length)
    if (tag.startsWith('</')) expect(stack.pop(), `${file}: unbalanced ${tag}`).toBe(name)
    else if (!tag.endsWith('/>')) stack.push(name!)
  }
  expect(stack, `${file}: unclosed tags`).toEqual([])
  const ids = [...text.matchAll(/\sid="([^"]+)"/g)].map((m) => m[1])
  expect(new Set(ids).size, `${file}: duplicate ids`).toBe(ids.length)
  // Text outside tags must be escaped.
  expect(text.replace(/<[^>]+>/g, '')).not.toMatch(/[<>]|&(?!amp;|lt;|gt;|quot;|#39;)/)
}

describe('seedDemo', () => {
  it('seeds a believable catalog into an empty store', () => {
    const result = seedDemo(t.db, storageDir)
    expect(result).not.toBeNull()
    expect(result).toEqual({
      products: count('SELECT count(*) AS n FROM products'),
      variants: count('SELECT count(*) AS n FROM variants'),
      collections: count('SELECT count(*) AS n FROM collections'),
      images: count('SELECT count(*) AS n FROM product_images'),
    })
    expect(count(`SELECT count(*) AS n FROM products WHERE status = 'active'`)).toBeGreaterThanOrEqual(28)
    expect(count(`SELECT count(*) AS n FROM products WHERE status = 'draft'`)).toBe(1)
    expect(count('SELECT count(*) AS n FROM collections')).toBeGreaterThanOrEqual(5)
    expect(count('SELECT count(*) AS n FROM collections WHERE is_featured = 1')).toBe(3)
    expect(count('SELECT count(*) AS n FROM products WHERE is_featured = 1')).toBe(6)

    // Unique SKUs, real prices in dollars, sizes and colours as options.
    expect(count('SELECT count(DISTINCT sku) AS n FROM variants')).toBe(result!.variants)
    expect(one('SELECT sku, title, price_cents AS priceCents, currency, options FROM variants WHERE sku = ?', 'HRJ-NAVY-M')).toEqual({
      sku: 'HRJ-NAVY-M',
      title: 'Navy / M',
      priceCents: 19800,
      currency: 'usd',
      options: JSON.stringify({ Size: 'M', Colour: 'Navy' }),
    })
    const prices = one<{ lo: number; hi: number }>('SELECT min(price_cents) AS lo, max(price_cents) AS hi FROM variants')
    expect(prices.lo).toBeGreaterThanOrEqual(1800)
    expect(prices.hi).toBeLessThanOrEqual(24000)
    expect(count(`SELECT count(DISTINCT product_id) AS n FROM variants WHERE json_extract(options, '$.Colour') IS NOT NULL AND json_extract(options, '$.Size') IS NOT NULL`)).toBeGreaterThanOrEqual(5)
    expect(count(`SELECT count(*) AS n FROM products p WHERE (SELECT count(*) FROM variants v WHERE v.product_id = p.id) = 1`)).toBeGreaterThanOrEqual(3)

    // Real copy, not filler.
    for (const p of all<{ slug: string; description: string }>('SELECT slug, description FROM products')) {
      expect(p.description.length, p.slug).toBeGreaterThan(120)
      expect(p.description).not.toMatch(/lorem|ipsum/i)
    }

    // Products sit in several collections, and every collection has products.
    expect(count('SELECT count(*) AS n FROM (SELECT product_id FROM product_collections GROUP BY product_id HAVING count(*) >= 2)')).toBeGreaterThanOrEqual(10)
    expect(count('SELECT count(*) AS n FROM collections c WHERE NOT EXISTS (SELECT 1 FROM product_collections pc WHERE pc.collection_id = c.id)')).toBe(0)

    // Newest-first means something: spread over the last 90 days.
    const span = one<{ oldest: number; newest: number }>('SELECT min(created_at) AS oldest, max(created_at) AS newest FROM products')
    expect(span.newest - span.oldest).toBeGreaterThan(60 * 24 * 3600 * 1000)
    expect(Date.now() - span.oldest).toBeLessThanOrEqual(90 * 24 * 3600 * 1000)
    expect(count('SELECT count(DISTINCT created_at) AS n FROM products')).toBe(result!.products)
  })

  it('has low, sold-out variants and a sold-out product', () => {
    seedDemo(t.db, storageDir)
    expect(count('SELECT count(*) AS n FROM variants WHERE stock = 0')).toBeGreaterThanOrEqual(1)
    expect(count('SELECT count(*) AS n FROM variants WHERE stock BETWEEN 1 AND 3')).toBeGreaterThanOrEqual(3)
    const soldOut = all<{ slug: string }>(`SELECT p.slug FROM products p WHERE p.status = 'active' AND NOT EXISTS (SELECT 1 FROM variants v WHERE v.product_id = p.id AND v.stock > 0)`)
    expect(soldOut.map((p) => p.slug)).toEqual(['fig-leaf-candle'])
  })

  it('gives every product pictures that exist and are JPEG uploads, and points colours at their own', () => {
    seedDemo(t.db, storageDir)
    expect(count('SELECT count(*) AS n FROM products p WHERE NOT EXISTS (SELECT 1 FROM product_images i WHERE i.product_id = p.id)')).toBe(0)
    expect(count('SELECT count(*) AS n FROM (SELECT product_id FROM product_images GROUP BY product_id HAVING count(*) > 3)')).toBe(0)
    const images = all<{ path: string; alt: string; width: number; height: number }>('SELECT path, alt, width, height FROM product_images')
    for (const image of images) {
      // the demo's own JPEGs, sent as they are (no copies, no srcset: see demo/pictures.ts)
      expect(image.path).toMatch(/^products\/[a-z0-9-]+-[1-3]\.jpg$/)
      expect(isResizable(image.path)).toBe(false)
      expect(image.alt.length).toBeGreaterThan(10)
      expect([image.width, image.height]).toEqual([PICTURE_SIZE, PICTURE_SIZE])
      const file = path.join(storageDir, 'uploads', image.path)
      expect(fs.existsSync(file), file).toBe(true)
      const data = fs.readFileSync(file)
      expect([...data.subarray(0, 3)]).toEqual([0xff, 0xd8, 0xff])
      expect(crypto.createHash('sha256').update(data).digest('hex')).toBe(manifest[image.path.slice('products/'.length)]?.sha256)
    }
    expect(new Set(images.map((i) => i.path)).size).toBe(images.length)
    // Each colour variant shows that colour's picture, from its own product.
    const mismatched = all(`SELECT v.sku FROM variants v LEFT JOIN product_images i ON i.id = v.image_id
      WHERE json_extract(v.options, '$.Colour') IS NOT NULL AND (i.id IS NULL OR i.product_id != v.product_id OR instr(i.alt, json_extract(v.options, '$.Colour')) = 0)`)
    expect(mismatched).toEqual([])

    // and the uploads route can read them
    process.env.STORAGE_DIR = storageDir
    resetEnv()
    const upload = readUpload(images[0]!.path)
    expect(upload?.contentType).toBe('image/jpeg')
  })

  it('draws every picture as well-formed SVG before it becomes a JPEG', () => {
    for (const picture of allPictures()) assertSvg(renderProductImage(picture.spec), picture.file)
  })

  it('seeds once: a second call returns null and adds nothing', () => {
    expect(seedDemo(t.db, storageDir)).not.toBeNull()
    const before = count('SELECT (SELECT count(*) FROM products) + (SELECT count(*) FROM variants) + (SELECT count(*) FROM product_images) + (SELECT count(*) FROM collections) AS n')
    expect(seedDemo(t.db, storageDir)).toBeNull()
    expect(count('SELECT (SELECT count(*) FROM products) + (SELECT count(*) FROM variants) + (SELECT count(*) FROM product_images) + (SELECT count(*) FROM collections) AS n')).toBe(before)
  })

  it('leaves a store that already has products alone', () => {
    t.db.$client.prepare(`INSERT INTO products (slug, title) VALUES ('own', 'Our own thing')`).run()
    expect(seedDemo(t.db, storageDir)).toBeNull()
    expect(count('SELECT count(*) AS n FROM products')).toBe(1)
    expect(fs.existsSync(path.join(storageDir, 'uploads'))).toBe(false)
  })

  it('is searchable: a "jack" prefix finds the jacket, drafts stay out of the index', () => {
    seedDemo(t.db, storageDir)
    const jacket = one<{ id: number }>(`SELECT id FROM products WHERE slug = 'harbor-rain-jacket'`)
    const hits = all<{ rowid: number }>(`SELECT rowid FROM product_search WHERE product_search MATCH 'jack*'`).map((r) => r.rowid)
    expect(hits).toContain(jacket.id)
    // by SKU, colour and collection too
    expect(all<{ rowid: number }>(`SELECT rowid FROM product_search WHERE product_search MATCH '"HRJ-NAVY-M"'`).map((r) => r.rowid)).toContain(jacket.id)
    expect(all<{ rowid: number }>(`SELECT rowid FROM product_search WHERE product_search MATCH 'outerwear'`).map((r) => r.rowid)).toContain(jacket.id)
    expect(all(`SELECT rowid FROM product_search WHERE product_search MATCH 'parka'`)).toEqual([])
  })
})
