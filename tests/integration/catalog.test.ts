import { sql } from 'drizzle-orm'
import { describe, expect, it } from 'vitest'
import * as catalog from '@/lib/catalog'
import * as picker from '@/lib/variant-picker'
import { insertCollectionOf, insertImage, insertShopHold, insertShopProduct, insertShopVariant } from '../support/engine-shop-rows'
import { ENGINES, useEngine, type TestEngine } from '../support/engines'

// The shop's catalog reads (lib/catalog.ts) on both engines, each case with figures written
// for it: listings, their sorts, filters and pages, a product page, availability, the variant
// picker, facets, collections, home and sitemap. catalog-reads.test.ts compares the two
// engines on the demo catalog.

const DAY = 24 * 60 * 60 * 1000

/** A product in Colour x Size, priced per size; stock per "Colour/Size" (default 5). */
async function apparel(engine: TestEngine, title: string, opts: { daysAgo?: number; colours?: string[]; sizes?: string[]; priceCents?: number; stock?: Record<string, number>; isFeatured?: boolean; status?: 'active' | 'draft' | 'archived' } = {}) {
  const createdAt = Date.now() - (opts.daysAgo ?? 0) * DAY
  const product = await insertShopProduct(engine, { title, slug: title.toLowerCase().replace(/\W+/g, '-'), createdAt, isFeatured: opts.isFeatured ?? false, status: opts.status ?? 'active' })
  const images = new Map<string, number>()
  for (const colour of opts.colours ?? ['Navy']) images.set(colour, await insertImage(engine, { productId: product.id, path: `products/${product.slug}-${colour}.svg`, alt: `${title} in ${colour}`, position: images.size }))
  const vs = []
  let position = 0
  for (const colour of opts.colours ?? ['Navy']) {
    for (const size of opts.sizes ?? ['S', 'M', 'L']) {
      vs.push(
        await insertShopVariant(engine, {
          productId: product.id,
          title: `${colour} / ${size}`,
          options: { Colour: colour, Size: size },
          priceCents: (opts.priceCents ?? 5000) + (size === 'L' ? 500 : 0),
          stock: opts.stock?.[`${colour}/${size}`] ?? 5,
          imageId: images.get(colour)!,
          position: position++,
        }),
      )
    }
  }
  return { product, variants: vs }
}

describe.each(ENGINES)('catalog on %s', (name) => {
  const engine = useEngine(name)
  const apparelOf = (title: string, opts: Parameters<typeof apparel>[2] = {}) => apparel(engine, title, opts)

  describe('catalog.listProducts', () => {
    it('lists only active products, with the lowest price and the first picture', async () => {
      await apparelOf('Rain Jacket', { priceCents: 19800 })
      await apparelOf('Hidden Draft', { status: 'draft' })
      await apparelOf('Old Archived', { status: 'archived' })
      const { items, total } = await catalog.listProducts()
      expect(total).toBe(1)
      expect(items).toHaveLength(1)
      expect(items[0]).toMatchObject({ title: 'Rain Jacket', minPriceCents: 19800, maxPriceCents: 20300, currency: 'usd', imagePath: 'products/rain-jacket-Navy.svg', isSoldOut: false })
    })

    it('sorts by price both ways, by newest and by name, with a stable tie-break', async () => {
      await apparelOf('Beta', { priceCents: 3000, daysAgo: 3 })
      await apparelOf('alpha', { priceCents: 9000, daysAgo: 1 })
      await apparelOf('Gamma', { priceCents: 1000, daysAgo: 2 })
      const titles = async (sort: catalog.Sort) => (await catalog.listProducts({ sort })).items.map((p) => p.title)
      expect(await titles('price-asc')).toEqual(['Gamma', 'Beta', 'alpha'])
      expect(await titles('price-desc')).toEqual(['alpha', 'Beta', 'Gamma'])
      expect(await titles('newest')).toEqual(['alpha', 'Gamma', 'Beta'])
      expect(await titles('name')).toEqual(['alpha', 'Beta', 'Gamma'])
    })

    it('featured puts featured products first, and a collection in its own order', async () => {
      const a = await apparelOf('A', { daysAgo: 1 })
      const b = await apparelOf('B', { daysAgo: 2, isFeatured: true })
      const c = await apparelOf('C', { daysAgo: 3 })
      expect((await catalog.listProducts({ sort: 'featured' })).items.map((p) => p.title)).toEqual(['B', 'A', 'C'])
      await insertCollectionOf(engine, { slug: 'picks', productIds: [c.product.id, a.product.id, b.product.id] })
      expect((await catalog.listProducts({ collection: 'picks' })).items.map((p) => p.title)).toEqual(['C', 'A', 'B'])
    })

    it('filters by collection, option values and stock on the same variant', async () => {
      const jacket = await apparelOf('Jacket', { colours: ['Navy', 'Olive'], stock: { 'Olive/M': 0 } })
      await apparelOf('Tee', { colours: ['White'] })
      const sock = await apparelOf('Sock', { colours: ['Olive'], sizes: ['S'] })
      await insertCollectionOf(engine, { slug: 'outerwear', productIds: [jacket.product.id] })

      const titles = async (q: catalog.ListingQuery) => (await catalog.listProducts({ sort: 'name', ...q })).items.map((p) => p.title)
      expect(await titles({ collection: 'outerwear' })).toEqual(['Jacket'])
      expect(await titles({ options: { Colour: ['Olive'] } })).toEqual(['Jacket', 'Sock'])
      expect(await titles({ options: { Colour: ['Olive', 'White'] } })).toEqual(['Jacket', 'Sock', 'Tee'])
      // Olive in M exists but is sold out: in-stock only drops the jacket, not the sock in S
      expect(await titles({ options: { Colour: ['Olive'], Size: ['M'] } })).toEqual(['Jacket'])
      expect(await titles({ options: { Colour: ['Olive'], Size: ['M'] }, inStock: true })).toEqual([])
      expect(await titles({ options: { Size: ['S'] }, inStock: true })).toEqual(['Jacket', 'Sock', 'Tee'])
      // filtering by colour shows that colour's picture
      const olive = (await catalog.listProducts({ options: { Colour: ['Olive'] }, sort: 'name' })).items[0]!
      expect(olive.imagePath).toBe('products/jacket-Olive.svg')
      expect(olive.imageAlt).toBe('Jacket in Olive')
      expect(sock.product.id).toBeGreaterThan(0)
    })

    it('marks a product sold out when no variant can be sold, counting active holds', async () => {
      const mug = await insertShopVariant(engine, { stock: 2 })
      const cards = async () => (await catalog.listProducts()).items
      expect((await cards())[0]!.isSoldOut).toBe(false)
      await insertShopHold(engine, { variantId: mug.id, quantity: 2 })
      expect((await cards())[0]!.isSoldOut).toBe(true)
      expect((await catalog.listProducts({ inStock: true })).total).toBe(0)
      // an expired hold no longer counts
      await insertShopVariant(engine, { productId: mug.productId, stock: 0 })
      await engine.rows(sql`UPDATE stock_holds SET expires_at = ${Date.now() - 1} RETURNING id`)
      expect((await cards())[0]!.isSoldOut).toBe(false)
    })

    it('paginates with a total and clamps pages past the end', async () => {
      for (let i = 0; i < 7; i++) await apparelOf(`Item ${String.fromCharCode(65 + i)}`, { sizes: ['M'] })
      const first = await catalog.listProducts({ sort: 'name', perPage: 3 })
      expect(first).toMatchObject({ total: 7, page: 1, pageCount: 3, perPage: 3 })
      expect(first.items.map((p) => p.title)).toEqual(['Item A', 'Item B', 'Item C'])
      const last = await catalog.listProducts({ sort: 'name', perPage: 3, page: 3 })
      expect(last.items.map((p) => p.title)).toEqual(['Item G'])
      expect((await catalog.listProducts({ sort: 'name', perPage: 3, page: 99 })).page).toBe(3)
      expect((await catalog.listProducts({ perPage: 10_000 })).perPage).toBe(48)
    })

    it('an empty store lists nothing on page 1', async () => {
      expect(await catalog.listProducts({ page: 5 })).toEqual({ items: [], total: 0, page: 1, perPage: 12, pageCount: 1 })
    })
  })

  describe('catalog.getProduct', () => {
    it('returns the product with images, variants, options (Colour first) and collections', async () => {
      const { product, variants } = await apparelOf('Fleece', { colours: ['Forest', 'Oat'], sizes: ['L', 'S', 'M'] })
      await insertCollectionOf(engine, { slug: 'outerwear', title: 'Outerwear', productIds: [product.id] })
      const detail = (await catalog.getProduct('fleece'))!
      expect(detail.title).toBe('Fleece')
      expect(detail.images.map((i) => i.alt)).toEqual(['Fleece in Forest', 'Fleece in Oat'])
      expect(detail.variants).toHaveLength(6)
      expect(detail.variants[0]).toMatchObject({ id: variants[0]!.id, options: { Colour: 'Forest', Size: 'L' } })
      expect(detail.options).toEqual([
        { name: 'Colour', values: ['Forest', 'Oat'] },
        { name: 'Size', values: ['S', 'M', 'L'] },
      ])
      expect(detail.collections).toEqual([{ slug: 'outerwear', title: 'Outerwear' }])
    })

    it('is null for unknown, draft and malformed slugs', async () => {
      await apparelOf('Draft Thing', { status: 'draft' })
      expect(await catalog.getProduct('nope')).toBeNull()
      expect(await catalog.getProduct('draft-thing')).toBeNull()
      expect(await catalog.getProduct("x' OR 1=1 --")).toBeNull()
      expect(await catalog.getProduct('a'.repeat(10_000))).toBeNull()
    })
  })

  describe('catalog.productAvailability', () => {
    it('matches inventory.available for every variant of the product', async () => {
      const { product, variants } = await apparelOf('Parka', { sizes: ['S', 'M'], stock: { 'Navy/S': 3, 'Navy/M': 0 } })
      await insertShopHold(engine, { variantId: variants[0]!.id, quantity: 1 })
      await insertShopHold(engine, { variantId: variants[0]!.id, quantity: 5, expiresAt: Date.now() - 1 })
      const live = await catalog.productAvailability(product.id)
      expect(live).toEqual({ [variants[0]!.id]: 2, [variants[1]!.id]: 0 })
      expect(live).toEqual(await catalog.availability(variants.map((v) => v.id)))
    })
  })

  describe('variant selection', () => {
    it('selects the requested variant, else the first that can be sold', async () => {
      const { variants } = await apparelOf('Hoodie', { colours: ['Grey'], sizes: ['S', 'M'], stock: { 'Grey/S': 0 } })
      const detail = (await catalog.getProduct('hoodie'))!
      const available = await catalog.availability(detail.variants.map((v) => v.id))
      expect(picker.selectVariant(detail, null, available)!.id).toBe(variants[1]!.id)
      expect(picker.selectVariant(detail, variants[0]!.id, available)!.id).toBe(variants[0]!.id)
      expect(picker.selectVariant(detail, 999_999, available)!.id).toBe(variants[1]!.id)
    })

    it('option choices keep the other options and say what is available', async () => {
      const { variants } = await apparelOf('Coat', { colours: ['Duck', 'Indigo'], sizes: ['S', 'M'], stock: { 'Indigo/M': 0 } })
      const detail = (await catalog.getProduct('coat'))!
      const available = await catalog.availability(detail.variants.map((v) => v.id))
      const duckM = variants[1]!
      const choices = picker.optionChoices(detail, detail.variants.find((v) => v.id === duckM.id)!, available)
      const colour = choices.find((c) => c.name === 'Colour')!.choices
      expect(colour).toEqual([
        { value: 'Duck', variantId: duckM.id, isSelected: true, isAvailable: true, isExactMatch: true },
        { value: 'Indigo', variantId: variants[3]!.id, isSelected: false, isAvailable: false, isExactMatch: true },
      ])
      const size = choices.find((c) => c.name === 'Size')!.choices
      expect(size.map((c) => [c.value, c.variantId, c.isSelected])).toEqual([
        ['S', variants[0]!.id, false],
        ['M', duckM.id, true],
      ])
    })
  })

  describe('catalog facets, collections, home and sitemap', () => {
    it('facets list option values on sale in a sensible order', async () => {
      await apparelOf('Tee', { colours: ['White', 'Black'], sizes: ['XL', 'S', 'XS'] })
      await apparelOf('Draft', { colours: ['Pink'], status: 'draft' })
      await insertCollectionOf(engine, { slug: 'empty' })
      const f = await catalog.facets()
      expect(f.options).toEqual([
        { name: 'Colour', param: 'colour', values: ['Black', 'White'] },
        { name: 'Size', param: 'size', values: ['XS', 'S', 'XL'] },
      ])
      expect(f.collections).toEqual([])
    })

    it('facets order values that only look alike (é as one code point or two) the same whatever order they were read in', async () => {
      const precomposed = 'Caf\u00e9'
      const decomposed = 'Cafe\u0301'
      expect(precomposed.localeCompare(decomposed)).toBe(0)
      await insertShopVariant(engine, { options: { Colour: precomposed } })
      await insertShopVariant(engine, { options: { Colour: decomposed } })
      expect((await catalog.facets()).options).toEqual([{ name: 'Colour', param: 'colour', values: [decomposed, precomposed] }])
    })

    it('collections count active products; home and sitemap list what is public', async () => {
      const a = await apparelOf('A', { isFeatured: true })
      const b = await apparelOf('B', { status: 'draft' })
      await insertCollectionOf(engine, { slug: 'c1', title: 'C1', isFeatured: true, productIds: [a.product.id, b.product.id] })
      await insertCollectionOf(engine, { slug: 'c2', title: 'C2', productIds: [b.product.id] })
      expect((await catalog.listCollections()).map((c) => [c.slug, c.productCount])).toEqual([
        ['c1', 1],
        ['c2', 0],
      ])
      expect((await catalog.getCollection('c1'))!.imagePath).toBe('products/a-Navy.svg')
      expect(await catalog.getCollection('../etc')).toBeNull()
      const home = await catalog.home()
      expect(home.featuredCollections.map((c) => c.slug)).toEqual(['c1'])
      expect(home.featured.map((p) => p.title)).toEqual(['A'])
      expect(await catalog.sitemapEntries()).toMatchObject({ products: [{ slug: 'a' }], collections: [{ slug: 'c1' }] })
    })
  })
})
