import { sql } from 'drizzle-orm'
import { describe, expect, it } from 'vitest'
import * as collections from '@/lib/collections'
import { InvalidInput, NotFound } from '@/lib/errors'
import * as products from '@/lib/products'
import { OWNER, insertAdmins, insertProduct, insertVariant, settled } from '../support/engine-catalog'
import { ENGINES, useEngine } from '../support/engines'
import { rejected } from '../support/thrown'

// The owner's catalog writes (lib/products.ts, lib/collections.ts) and the admin's reads of
// them, on both engines: products and variants with their ledger and audit rows, a SKU unique
// in any case, a stale form refused, pictures in order, collections and their members; every
// figure the admin lists show is compared with the rows. On PostgreSQL, two app servers saving
// at once: of saves drawn from one version one is made, a SKU or an address is claimed once,
// pictures keep distinct places.

const FIELDS: products.ProductFields = { title: 'Harbor Rain Jacket', description: 'Keeps you dry.', status: 'active', isFeatured: false }
const variantInput = (sku: string, stock = 3, priceCents = 19800): products.VariantInput => ({ sku, title: 'S', priceCents, stock, options: { Size: 'S' } })

describe.each(ENGINES)('catalog writes on %s', (name) => {
  const engine = useEngine(name)
  const count = (query: ReturnType<typeof sql>) => engine.count(query)
  const versionOf = (id: number) => count(sql`SELECT updated_at AS n FROM products WHERE id = ${id}`)

  it('creates a product with its variants, opening stock in the ledger and one audit row; a second of the same title gets its own address', async () => {
    await insertAdmins(engine)
    const first = await products.create(OWNER, FIELDS, [variantInput('HRJ-S', 3), variantInput('HRJ-M', 0)])
    expect(first).toMatchObject({ slug: 'harbor-rain-jacket', sameTitleAs: null })
    const second = await products.create(OWNER, { ...FIELDS, title: 'harbor rain jacket' }, [variantInput('HRJ-B')])
    expect(second).toMatchObject({ slug: 'harbor-rain-jacket-2', sameTitleAs: { id: first.id, slug: first.slug } })
    const view = (await products.get(first.id))!
    expect(view.variants.map((v) => [v.sku, v.stock, v.position, v.held, v.options])).toEqual([
      ['HRJ-S', 3, 0, 0, { Size: 'S' }],
      ['HRJ-M', 0, 1, 0, { Size: 'S' }],
    ])
    expect(await count(sql`SELECT count(*) AS n FROM stock_ledger WHERE reason = 'initial'`)).toBe(2) // HRJ-S and HRJ-B; nothing for 0
    expect(await count(sql`SELECT count(*) AS n FROM audit_log WHERE action = 'product.create'`)).toBe(2)
    expect(await count(sql`SELECT count(*) AS n FROM catalog_changes WHERE product_id IS NULL`)).toBe(2)
  })

  it('refuses a SKU already used, in any case, or twice in one form, and writes nothing', async () => {
    await insertAdmins(engine)
    const { id } = await products.create(OWNER, FIELDS, [variantInput('MUG-1')])
    const before = await count(sql`SELECT count(*) AS n FROM products`)
    expect((await rejected(products.create(OWNER, { ...FIELDS, title: 'Other' }, [variantInput('mug-1')]))).message).toMatch(/SKU MUG-1 is already used by “Harbor Rain Jacket”/)
    expect((await rejected(products.create(OWNER, { ...FIELDS, title: 'Other' }, [variantInput('A-1'), variantInput('a-1')]))).message).toMatch(/used twice/)
    expect((await rejected(products.addVariant(OWNER, id, variantInput('Mug-1')))).message).toMatch(/already used/)
    expect(await rejected(products.create(OWNER, FIELDS, []))).toBeInstanceOf(InvalidInput)
    expect(await count(sql`SELECT count(*) AS n FROM products`)).toBe(before)
    expect(await count(sql`SELECT count(*) AS n FROM variants`)).toBe(1)
    // a variant may keep its own SKU, and take a free one
    const [{ id: variantId }] = (await engine.rows<{ id: number | string }>(sql`SELECT id FROM variants WHERE sku = 'MUG-1'`)) as [{ id: number | string }]
    await products.updateVariant(OWNER, Number(variantId), { sku: 'MUG-1', title: 'Blue', priceCents: 1500, options: { Colour: 'Blue' } })
    const other = await products.addVariant(OWNER, id, variantInput('MUG-2', 4))
    expect((await rejected(products.updateVariant(OWNER, other, { sku: 'mug-1', title: 'x', priceCents: 1, options: {} }))).message).toMatch(/already used/)
    expect((await products.get(id))!.variants.map((v) => [v.sku, v.title, v.priceCents, v.position])).toEqual([
      ['MUG-1', 'Blue', 1500, 0],
      ['MUG-2', 'S', 19800, 1],
    ])
    expect(await rejected(products.updateVariant(OWNER, 999_999, { sku: 'X-1', title: 'x', priceCents: 1, options: {} }))).toBeInstanceOf(NotFound)
  })

  it('saves a product from the version its form was drawn from, and refuses a stale one with a message, saving nothing', async () => {
    await insertAdmins(engine)
    const { id } = await products.create(OWNER, FIELDS, [variantInput('CAP-1')])
    const drawn = await versionOf(id)
    const saved = await products.update(OWNER, id, { ...FIELDS, title: 'Harbor Jacket' }, drawn)
    expect(saved).toBeGreaterThan(drawn)
    expect(await versionOf(id)).toBe(saved)
    // a second form drawn before that save
    const stale = await rejected(products.update(OWNER, id, { ...FIELDS, title: 'Something else' }, drawn))
    expect(stale).toBeInstanceOf(products.StaleProduct)
    expect(stale.message).toMatch(/changed this product after you opened it/)
    expect((await products.get(id))!.title).toBe('Harbor Jacket')
    // archiving moves the version on too; a save without a version (no form) is not compared
    await products.setStatus(OWNER, id, 'archived')
    expect(await rejected(products.update(OWNER, id, FIELDS, saved))).toBeInstanceOf(products.StaleProduct)
    await products.update(OWNER, id, { ...FIELDS, status: 'archived', taxCode: 'txcd_35010000' })
    expect((await products.get(id))!).toMatchObject({ title: FIELDS.title, status: 'archived', taxCode: 'txcd_35010000' })
    expect(await engine.rows(sql`SELECT action FROM audit_log WHERE subject = ${`product:${id}`} ORDER BY id`)).toEqual([
      { action: 'product.create' },
      { action: 'product.update' },
      { action: 'product.archive' },
      { action: 'product.update' },
    ])
    expect(await rejected(products.update(OWNER, 999_999, FIELDS))).toBeInstanceOf(NotFound)
  })

  it('adds pictures in order, moves one, removes one (its variants let go of it)', async () => {
    await insertAdmins(engine)
    const { id } = await products.create(OWNER, FIELDS, [variantInput('PIC-1')])
    const picture = (n: number) => ({ path: `products/p${n}.jpg`, width: 800, height: 600, alt: `Picture ${n}` })
    const [a, b, c] = [await products.addImage(OWNER, id, picture(1), []), await products.addImage(OWNER, id, picture(2), []), await products.addImage(OWNER, id, picture(3), [])]
    await engine.rows(sql`UPDATE variants SET image_id = ${c} WHERE product_id = ${id} RETURNING id`)
    await products.moveImage(OWNER, c, 'up')
    await products.moveImage(OWNER, a, 'up') // already first: nothing
    expect((await products.get(id))!.images.map((i) => [i.id, i.position])).toEqual([
      [a, 0],
      [c, 1],
      [b, 2],
    ])
    await products.removeImage(OWNER, c)
    expect((await products.get(id))!.images.map((i) => i.id)).toEqual([a, b])
    expect(await count(sql`SELECT count(*) AS n FROM variants WHERE image_id IS NOT NULL`)).toBe(0)
    expect(await rejected(products.removeImage(OWNER, c))).toBeInstanceOf(NotFound)
    expect(await rejected(products.addImage(OWNER, 999_999, picture(4), []))).toBeInstanceOf(NotFound)
    expect(await count(sql`SELECT count(*) AS n FROM audit_log WHERE action LIKE 'image.%'`)).toBe(5)
  })

  it('keeps collections with unique addresses and puts a product in exactly the ones asked', async () => {
    await insertAdmins(engine)
    const fields = { title: 'Summer', slug: 'summer', description: '', isFeatured: true }
    const summer = await collections.create(OWNER, fields)
    const gifts = await collections.create(OWNER, { ...fields, title: 'Gifts', slug: 'gifts' })
    expect((await rejected(collections.create(OWNER, { ...fields, title: 'Again' }))).message).toBe('The address summer is already used by another collection.')
    expect((await rejected(collections.update(OWNER, gifts, fields))).message).toMatch(/already used/)
    await collections.update(OWNER, gifts, { ...fields, title: 'Presents', slug: 'presents' })
    const { id } = await products.create(OWNER, FIELDS, [variantInput('COL-1')])
    await collections.setForProduct(OWNER, id, [summer, gifts, gifts, 999_999])
    expect((await collections.ofProduct(id)).sort()).toEqual([summer, gifts].sort())
    await collections.setForProduct(OWNER, id, [gifts])
    expect(await collections.ofProduct(id)).toEqual([gifts])
    const listed = await collections.list()
    expect(listed.map((c) => [c.slug, c.title, c.isFeatured, c.productCount])).toEqual([
      ['presents', 'Presents', true, 1],
      ['summer', 'Summer', true, 0],
    ])
    for (const c of listed) expect(c.productCount).toBe(await count(sql`SELECT count(*) AS n FROM product_collections WHERE collection_id = ${c.id}`))
    expect(await rejected(collections.setForProduct(OWNER, 999_999, [gifts]))).toBeInstanceOf(NotFound)
  })

  it('lists products and stock with the figures the rows have, searched by title or SKU as typed', async () => {
    const mug = await insertProduct(engine, { title: 'Mug_Large' })
    await insertVariant(engine, { productId: mug, sku: 'MUG_L', stock: 2, priceCents: 900 })
    await insertVariant(engine, { productId: mug, sku: 'MUG_M', stock: 5, priceCents: 700, position: 1 })
    const wool = await insertProduct(engine, { title: '100% wool', status: 'draft' })
    await insertVariant(engine, { productId: wool, sku: 'WOOL-1', stock: 40, priceCents: 3000 })
    await insertProduct(engine, { title: 'Empty' })
    const { rows, total } = await products.list({ sort: 'title' })
    expect(total).toBe(3)
    for (const row of rows) {
      const [db] = await engine.rows<Record<string, number | string | null>>(sql`SELECT count(*) AS n, coalesce(sum(stock), 0) AS stock, min(price_cents) AS min FROM variants WHERE product_id = ${row.id}`)
      expect([row.variantCount, row.stock, row.minPriceCents]).toEqual([Number(db!.n), Number(db!.stock), db!.min === null ? null : Number(db!.min)])
    }
    expect(rows.map((r) => [r.title, r.variantCount, r.stock, r.minPriceCents])).toEqual([
      ['100% wool', 1, 40, 3000],
      ['Empty', 0, 0, null],
      ['Mug_Large', 2, 7, 700],
    ])
    expect((await products.list({ q: 'mug_l' })).rows.map((r) => r.title)).toEqual(['Mug_Large'])
    expect((await products.list({ q: '100%' })).rows.map((r) => r.title)).toEqual(['100% wool'])
    expect((await products.list({ status: 'draft' })).rows.map((r) => r.title)).toEqual(['100% wool'])
    const stock = await products.stockList({})
    expect(stock.rows.map((r) => [r.sku, r.stock, r.held])).toEqual([
      ['MUG_L', 2, 0],
      ['MUG_M', 5, 0],
      ['WOOL-1', 40, 0],
    ])
    expect((await products.stockList({ lowOnly: true })).rows.map((r) => r.sku)).toEqual(['MUG_L'])
    const label = await products.variantLabel(stock.rows[0]!.id)
    expect(label).toMatchObject({ sku: 'MUG_L', productTitle: 'Mug_Large', stock: 2 })
    expect(await products.variantLabel(999_999)).toBeNull()
  })

  it.runIf(name === 'postgres')('two app servers saving one product from the same version: one is saved, the others are told it is stale', async () => {
    await insertAdmins(engine)
    const { id } = await products.create(OWNER, FIELDS, [variantInput('RACE-1')])
    const drawn = await versionOf(id)
    const servers = engine.appServers(2)
    let outcome: { made: number[]; refused: unknown[] }
    try {
      outcome = await settled(Array.from({ length: 12 }, (_, n) => products.update(OWNER, id, { ...FIELDS, title: `Edit ${n}` }, drawn)))
    } finally {
      await servers.end()
    }
    expect(outcome.made).toHaveLength(1)
    expect(outcome.refused).toHaveLength(11)
    expect(outcome.refused.every((err) => err instanceof products.StaleProduct)).toBe(true)
    expect(await count(sql`SELECT count(*) AS n FROM audit_log WHERE action = 'product.update'`)).toBe(1)
    expect(await versionOf(id)).toBe(outcome.made[0])
  })

  it.runIf(name === 'postgres')('two app servers claiming one SKU, one address or one picture place at once: each claimed once, refusals are messages', async () => {
    await insertAdmins(engine)
    const servers = engine.appServers(2)
    let productId = 0
    try {
      // the same SKU in two cases, the same title, from 8 forms at once
      const creates = await settled(Array.from({ length: 8 }, (_, n) => products.create(OWNER, { ...FIELDS, title: 'Same' }, [variantInput(n % 2 ? 'dup-1' : 'DUP-1')])))
      expect(creates.made).toHaveLength(1)
      expect(creates.refused.every((err) => err instanceof InvalidInput && /already used/.test(err.message))).toBe(true)
      // different SKUs, one title: every product gets its own address
      const titled = await settled(Array.from({ length: 6 }, (_, n) => products.create(OWNER, { ...FIELDS, title: 'Twin' }, [variantInput(`TWIN-${n}`)])))
      expect(titled.refused).toEqual([])
      expect(new Set(titled.made.map((p) => p.slug)).size).toBe(6)
      const fields = { title: 'Sale', slug: 'sale', description: '', isFeatured: false }
      const sales = await settled(Array.from({ length: 6 }, () => collections.create(OWNER, fields)))
      expect(sales.made).toHaveLength(1)
      expect(sales.refused.every((err) => err instanceof InvalidInput)).toBe(true)
      productId = titled.made[0]!.id
      const pictures = await settled(Array.from({ length: 8 }, (_, n) => products.addImage(OWNER, productId, { path: `products/race-${n}.jpg`, width: 10, height: 10, alt: '' }, [])))
      expect(pictures.refused).toEqual([])
      const adds = await settled(Array.from({ length: 6 }, (_, n) => products.addVariant(OWNER, productId, variantInput(`TWIN-0-${n}`))))
      expect(adds.refused).toEqual([])
      const memberships = await settled(Array.from({ length: 6 }, () => collections.setForProduct(OWNER, productId, [sales.made[0]!])))
      expect(memberships.refused).toEqual([])
    } finally {
      await servers.end()
    }
    expect(await count(sql`SELECT count(*) AS n FROM variants WHERE lower(sku) = 'dup-1'`)).toBe(1)
    const places = await engine.rows<{ position: number | string }>(sql`SELECT position FROM product_images ORDER BY position`)
    expect(places.map((p) => Number(p.position))).toEqual([0, 1, 2, 3, 4, 5, 6, 7])
    const variantPlaces = await engine.rows<{ position: number | string }>(sql`SELECT position FROM variants WHERE product_id = ${productId} ORDER BY position`)
    expect(variantPlaces.map((p) => Number(p.position))).toEqual([0, 1, 2, 3, 4, 5, 6])
  })
})
