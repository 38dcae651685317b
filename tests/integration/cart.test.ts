import { sql } from 'drizzle-orm'
import { describe, expect, it } from 'vitest'
import { read } from '@/db/tx'
import * as cart from '@/lib/cart'
import { InvalidInput, NotFound, OutOfStock } from '@/lib/errors'
import * as inventory from '@/lib/inventory'
import { insertImage, insertShopCart, insertShopHold, insertShopProduct, insertShopVariant } from '../support/engine-shop-rows'
import { ENGINES, useEngine, type TestEngine } from '../support/engines'
import { rejected } from '../support/thrown'

// The cart (lib/cart.ts) and inventory's reads on both engines, through db/tx.ts: a change,
// its version, the refusal of more than the shelf has and of a stale form, and the cart view
// with its availability. On PostgreSQL, two app servers changing one cart at once lose no
// line, and of two changes drawn from one version exactly one is made.

const HOUR = 3_600_000

let made = 0
/** An active product with one variant of `stock` units at `priceCents`; the variant's id. */
async function insertVariant(engine: TestEngine, stock: number, priceCents = 1250): Promise<number> {
  const n = ++made
  const [product] = await engine.rows<{ id: number | string }>(sql`INSERT INTO products (slug, title) VALUES (${`cart-p-${n}`}, ${`Mug ${n}`}) RETURNING id`)
  const [variant] = await engine.rows<{ id: number | string }>(
    sql`INSERT INTO variants (product_id, sku, title, price_cents, stock) VALUES (${Number(product!.id)}, ${`CART-${n}`}, 'Blue', ${priceCents}, ${stock}) RETURNING id`,
  )
  return Number(variant!.id)
}

/** An active hold of `quantity` units for another cart, expiring at `expiresAt`. */
async function insertHold(engine: TestEngine, variantId: number, quantity: number, expiresAt: number): Promise<void> {
  await engine.rows(sql`INSERT INTO carts (id) VALUES (${`other-${made}-${expiresAt}`}) ON CONFLICT DO NOTHING RETURNING id`)
  await engine.rows(
    sql`INSERT INTO stock_holds (variant_id, cart_id, quantity, status, expires_at, created_at) VALUES (${variantId}, ${`other-${made}-${expiresAt}`}, ${quantity}, 'active', ${expiresAt}, ${Date.now()}) RETURNING id`,
  )
}

const linesOf = async (engine: TestEngine, cartId: string) =>
  (await engine.rows<{ variantId: number | string; quantity: number | string }>(sql`SELECT variant_id AS "variantId", quantity FROM cart_lines WHERE cart_id = ${cartId} ORDER BY variant_id`)).map((r) => ({
    variantId: Number(r.variantId),
    quantity: Number(r.quantity),
  }))
const versionOf = (engine: TestEngine, cartId: string) => engine.count(sql`SELECT version AS n FROM carts WHERE id = ${cartId}`)

describe.each(ENGINES)('cart on %s', (name) => {
  const engine = useEngine(name)

  it('adds, changes and removes lines, bumping the version each time, and shows them with prices and availability', async () => {
    const mug = await insertVariant(engine, 5, 1250)
    const cup = await insertVariant(engine, 3, 800)
    const id = await cart.create()
    expect(await cart.add(id, mug, 2)).toEqual({ cartId: id, version: 1, variantId: mug, quantity: 2 })
    expect((await cart.add(id, mug, 1)).quantity).toBe(3)
    expect(await cart.add(id, cup, 1)).toMatchObject({ version: 3, quantity: 1 })
    expect(await cart.setQuantity(id, cup, 2)).toMatchObject({ version: 4, quantity: 2 })
    // the same quantity again changes nothing, not even the version
    expect((await cart.setQuantity(id, cup, 2)).version).toBe(4)
    const view = (await cart.load(id))!
    expect(view).toMatchObject({ id, version: 4, status: 'open', subtotalCents: 3 * 1250 + 2 * 800, itemCount: 5, currency: 'usd', hasProblems: false })
    expect(view.lines.map((l) => [l.variantId, l.quantity, l.priceCents, l.available, l.lineTotalCents, l.label, l.problem])).toEqual([
      [mug, 3, 1250, 5, 3750, `Mug ${made - 1} — Blue`, null],
      [cup, 2, 800, 3, 1600, `Mug ${made} — Blue`, null],
    ])
    expect(await cart.count(id)).toBe(5)
    expect(await cart.remove(id, mug)).toMatchObject({ version: 5, quantity: 0 })
    // removing a line that is not there changes nothing
    expect((await cart.remove(id, mug)).version).toBe(5)
    expect(await linesOf(engine, id)).toEqual([{ variantId: cup, quantity: 2 }])
    expect(await cart.setQuantity(id, cup, 0)).toMatchObject({ version: 6, quantity: 0 })
    expect(await linesOf(engine, id)).toEqual([])
    expect(await cart.count(id)).toBe(0)
    expect(await cart.load(cart.newCartId())).toBeNull()
  })

  it('refuses more than is available with a clear message, counting other carts’ holds, and changes nothing', async () => {
    const mug = await insertVariant(engine, 4)
    await insertHold(engine, mug, 1, Date.now() + HOUR)
    const id = await cart.create()
    await cart.add(id, mug, 2)
    const err = await rejected(cart.add(id, mug, 2))
    expect(err).toBeInstanceOf(OutOfStock)
    expect(err).toMatchObject({ available: 3, requested: 4 })
    expect(err.message).toBe(`Only 3 of Mug ${made} — Blue left (you asked for 4).`)
    const set = await rejected(cart.setQuantity(id, mug, 4))
    expect(set).toMatchObject({ name: 'OutOfStock', available: 3, requested: 4 })
    expect(await linesOf(engine, id)).toEqual([{ variantId: mug, quantity: 2 }])
    expect(await versionOf(engine, id)).toBe(1)
    expect(await rejected(cart.add(id, 987_654, 1))).toBeInstanceOf(NotFound)
  })

  it('refuses a change drawn from a version the cart has moved past, and makes one drawn from the current one', async () => {
    const mug = await insertVariant(engine, 9)
    const cup = await insertVariant(engine, 9)
    const id = await cart.create()
    const { version } = await cart.add(id, mug, 1)
    await cart.add(id, cup, 1)
    const stale = [() => cart.setQuantity(id, mug, 3, Date.now(), version), () => cart.remove(id, mug, Date.now(), version), () => cart.add(id, mug, 1, Date.now(), version)]
    for (const change of stale) {
      const err = await rejected(change())
      expect(err).toBeInstanceOf(cart.StaleCart)
      expect(err.message).toMatch(/^Your cart changed in another tab or window, so this change was not made\./)
    }
    expect(await linesOf(engine, id)).toEqual([
      { variantId: mug, quantity: 1 },
      { variantId: cup, quantity: 1 },
    ])
    expect(await cart.setQuantity(id, mug, 3, Date.now(), version + 1)).toMatchObject({ version: version + 2, quantity: 3 })
  })

  it('inventory’s reads: a held unit is not available, an expired hold’s unit is; never below zero', async () => {
    const now = Date.now()
    const mug = await insertVariant(engine, 5)
    const cup = await insertVariant(engine, 1)
    await insertHold(engine, mug, 2, now + HOUR)
    await insertHold(engine, mug, 1, now - 1)
    // more held than on the shelf (a stock cut after the hold): none available, not −2
    await insertHold(engine, cup, 3, now + HOUR)
    const [available, held] = await read(function* (db, t) {
      return [yield* inventory.availableIn(db, t, [mug, cup, 987_654], now), yield* inventory.heldIn(db, t, [mug, cup], now)] as const
    })
    expect(Object.fromEntries(available)).toEqual({ [mug]: 3, [cup]: 0 })
    expect(Object.fromEntries(held)).toEqual({ [mug]: 2, [cup]: 3 })
    // an hour later the live hold has expired too
    const later = await read((db, t) => inventory.availableIn(db, t, [mug], now + 2 * HOUR))
    expect(later.get(mug)).toBe(5)
    // the cart sees the same: the held units are not there to add, and its view says how many are
    const id = await cart.create()
    expect(await rejected(cart.add(id, mug, 4, now))).toMatchObject({ name: 'OutOfStock', available: 3 })
    await cart.add(id, mug, 3, now)
    expect((await cart.load(id, now))!.lines[0]).toMatchObject({ available: 3, problem: null })
    expect((await cart.load(id, now + 2 * HOUR))!.lines[0]).toMatchObject({ available: 5 })
    expect(await read((db, t) => inventory.hasSessionIn(db, t, 'cs_none'))).toBe(false)
    expect(await inventory.hasSession('cs_none')).toBe(false)
  })

  if (name === 'postgres') {
    it('two app servers changing one cart at once keep every line, and of two changes from one version exactly one is made', async () => {
      const variants = await Promise.all(Array.from({ length: 12 }, () => insertVariant(engine, 50)))
      const id = await cart.create()
      const servers = engine.appServers(2)
      try {
        // 12 lines added at once, three units each in three adds: no line and no unit lost
        await Promise.all(variants.flatMap((v) => [cart.add(id, v, 1), cart.add(id, v, 1), cart.add(id, v, 1)]))
        expect(await linesOf(engine, id)).toEqual(variants.map((variantId) => ({ variantId, quantity: 3 })).sort((a, b) => a.variantId - b.variantId))
        expect(await versionOf(engine, id)).toBe(36)
        // ten forms drawn from version 36, sent at once to both servers: one is made, nine refused
        const outcomes = await Promise.allSettled(variants.slice(0, 10).map((v, n) => cart.setQuantity(id, v, n + 5, Date.now(), 36)))
        const made = outcomes.filter((o) => o.status === 'fulfilled')
        expect(made).toHaveLength(1)
        const refused = outcomes.flatMap((o) => (o.status === 'rejected' ? [o.reason as unknown] : []))
        expect(refused).toHaveLength(9)
        expect(refused.every((err) => err instanceof cart.StaleCart)).toBe(true)
        expect(await versionOf(engine, id)).toBe(37)
        const quantities = (await linesOf(engine, id)).map((l) => l.quantity)
        expect(quantities.filter((q) => q !== 3)).toHaveLength(1)
      } finally {
        await servers.end()
      }
    })
  }

  // The cart's refusals, its view and its purge, case by case (moved from the unit tests, rows
  // from tests/support/engine-shop-rows.ts).
  const DAY = 24 * HOUR
  const lines = (id: string) => linesOf(engine, id)
  const version = (id: string) => versionOf(engine, id)

  it('odd ids are not carts', async () => {
    expect(await cart.load('x'.repeat(10_000))).toBeNull()
    expect(await cart.load(cart.newCartId())).toBeNull()
    expect(await cart.count(null)).toBe(0)
  })

  it('holds at most 100 different items (Stripe Checkout takes 100 line items), while more of one already there is fine', async () => {
    const variants = []
    for (let i = 0; i <= cart.MAX_LINES; i++) variants.push((await insertShopVariant(engine, { stock: 5 })).id)
    const id = await insertShopCart(engine, { lines: variants.slice(0, cart.MAX_LINES).map((variantId) => ({ variantId, quantity: 1 })) })
    await expect(cart.add(id, variants[cart.MAX_LINES]!, 1)).rejects.toThrow(/up to 100 different items/)
    expect(await lines(id)).toHaveLength(cart.MAX_LINES)
    expect((await cart.add(id, variants[0]!, 1)).quantity).toBe(2)
  })

  it('a sold-out variant says so', async () => {
    const p = await insertShopProduct(engine, { title: 'Beanie' })
    const v = await insertShopVariant(engine, { productId: p.id, stock: 0 })
    expect((await rejected(cart.add(await cart.create(), v.id, 1))).message).toBe('Beanie is sold out.')
  })

  it('unknown variants, hidden products and checked-out carts are NotFound', async () => {
    const id = await cart.create()
    expect(await rejected(cart.add(id, 987_654, 1))).toBeInstanceOf(NotFound)
    const draft = await insertShopVariant(engine, { productId: (await insertShopProduct(engine, { status: 'draft' })).id })
    expect(await rejected(cart.add(id, draft.id, 1))).toBeInstanceOf(NotFound)
    const done = await insertShopCart(engine, { status: 'converted' })
    expect(await rejected(cart.add(done, (await insertShopVariant(engine)).id, 1))).toBeInstanceOf(NotFound)
    expect(await rejected(cart.add(cart.newCartId(), (await insertShopVariant(engine)).id, 1))).toBeInstanceOf(NotFound)
    expect(await version(id)).toBe(0)
  })

  it('caps a line at 99 and refuses silly quantities', async () => {
    const v = await insertShopVariant(engine, { stock: 500 })
    const id = await cart.create()
    await cart.add(id, v.id, 98)
    expect(await rejected(cart.add(id, v.id, 2))).toBeInstanceOf(InvalidInput)
    for (const q of [0, -1, 100, 1.5, Number.NaN, 1e12]) expect(await rejected(cart.add(id, v.id, q))).toBeInstanceOf(InvalidInput)
    expect(await lines(id)).toEqual([{ variantId: v.id, quantity: 98 }])
  })

  it('sets within what is available, refuses beyond it with the count left, and 0 removes', async () => {
    const v = await insertShopVariant(engine, { stock: 4 })
    const id = await insertShopCart(engine, { lines: [{ variantId: v.id, quantity: 1 }] })
    expect(await cart.setQuantity(id, v.id, 3)).toMatchObject({ quantity: 3, version: 1 })
    const err = await rejected(cart.setQuantity(id, v.id, 5))
    expect(err).toBeInstanceOf(OutOfStock)
    expect(err.message).toMatch(/^Only 4 of .* left \(you asked for 5\)\.$/)
    expect(await lines(id)).toEqual([{ variantId: v.id, quantity: 3 }])
    expect((await cart.setQuantity(id, v.id, 3)).version).toBe(1)
    expect(await cart.setQuantity(id, v.id, 0)).toMatchObject({ quantity: 0, version: 2 })
    expect(await lines(id)).toEqual([])
  })

  it('lowering a line below what is left is allowed; lowering to still too many is not', async () => {
    const v = await insertShopVariant(engine, { stock: 5 })
    const id = await insertShopCart(engine, { lines: [{ variantId: v.id, quantity: 5 }] })
    await engine.rows(sql`UPDATE variants SET stock = 2 WHERE id = ${v.id} RETURNING id`)
    expect(await rejected(cart.setQuantity(id, v.id, 4))).toMatchObject({ name: 'OutOfStock', available: 2 })
    expect((await cart.setQuantity(id, v.id, 2)).quantity).toBe(2)
  })

  it('setting a line that is not in the cart is NotFound', async () => {
    const id = await cart.create()
    expect(await rejected(cart.setQuantity(id, (await insertShopVariant(engine)).id, 1))).toBeInstanceOf(NotFound)
  })

  it('has live prices, availability, pictures and the subtotal', async () => {
    const p = await insertShopProduct(engine, { title: 'Harbor Rain Jacket', slug: 'harbor-rain-jacket' })
    const img = await insertImage(engine, { productId: p.id, path: 'products/hrj-navy.svg', alt: 'Navy jacket' })
    const navy = await insertShopVariant(engine, { productId: p.id, title: 'Navy / M', sku: 'HRJ-NAVY-M', priceCents: 19800, stock: 5, imageId: img, options: { Colour: 'Navy', Size: 'M' } })
    const mug = await insertShopVariant(engine, { priceCents: 1850, stock: 10 })
    const id = await insertShopCart(engine, { lines: [{ variantId: navy.id, quantity: 2 }, { variantId: mug.id, quantity: 1 }] })
    const view = (await cart.load(id))!
    expect(view).toMatchObject({ id, version: 0, status: 'open', subtotalCents: 2 * 19800 + 1850, currency: 'usd', itemCount: 3, hasProblems: false })
    expect(view.lines[0]).toEqual({
      variantId: navy.id,
      productId: p.id,
      productSlug: 'harbor-rain-jacket',
      productTitle: 'Harbor Rain Jacket',
      variantTitle: 'Navy / M',
      label: 'Harbor Rain Jacket — Navy / M',
      sku: 'HRJ-NAVY-M',
      options: { Colour: 'Navy', Size: 'M' },
      quantity: 2,
      priceCents: 19800,
      currency: 'usd',
      available: 5,
      imagePath: 'products/hrj-navy.svg',
      imageAlt: 'Navy jacket',
      lineTotalCents: 39600,
      problem: null,
    })
  })

  it('flags lines that sold out, fell below the quantity, or left the shop since they were added', async () => {
    const short = await insertShopVariant(engine, { stock: 5 })
    const gone = await insertShopVariant(engine, { stock: 5 })
    const hidden = await insertShopVariant(engine, { stock: 5 })
    const fine = await insertShopVariant(engine, { stock: 5 })
    const id = await insertShopCart(engine, {
      lines: [
        { variantId: short.id, quantity: 3 },
        { variantId: gone.id, quantity: 1 },
        { variantId: hidden.id, quantity: 1 },
        { variantId: fine.id, quantity: 1 },
      ],
    })
    await engine.rows(sql`UPDATE variants SET stock = 2 WHERE id = ${short.id} RETURNING id`)
    await insertShopHold(engine, { variantId: gone.id, quantity: 5 })
    await engine.rows(sql`UPDATE products SET status = 'archived' WHERE id = ${hidden.productId} RETURNING id`)
    const view = (await cart.load(id))!
    expect(view.lines.map((l) => [l.problem, l.available])).toEqual([
      ['short', 2],
      ['sold_out', 0],
      ['unavailable', 0],
      [null, 5],
    ])
    expect(view.hasProblems).toBe(true)
  })

  it('a checked-out cart counts as empty in the header', async () => {
    const v = await insertShopVariant(engine)
    const id = await insertShopCart(engine, { status: 'converted', lines: [{ variantId: v.id, quantity: 2 }] })
    expect(await cart.count(id)).toBe(0)
    expect((await cart.load(id))!.status).toBe('converted')
  })

  it('purgeIdle deletes carts idle for 30 days with their lines, and keeps the rest', async () => {
    const now = Date.now()
    const v = await insertShopVariant(engine)
    const old = await insertShopCart(engine, { updatedAt: now - 31 * DAY, lines: [{ variantId: v.id, quantity: 1 }] })
    const recent = await insertShopCart(engine, { updatedAt: now - 29 * DAY, lines: [{ variantId: v.id, quantity: 1 }] })
    const hold = await insertShopHold(engine, { variantId: v.id, quantity: 1, cartId: old, status: 'released' })
    expect(await cart.purgeIdle(now)).toBe(1)
    expect(await engine.rows(sql`SELECT id FROM carts`)).toEqual([{ id: recent }])
    expect(await lines(old)).toEqual([])
    expect(await engine.rows(sql`SELECT cart_id AS "cartId" FROM stock_holds WHERE id = ${hold}`)).toEqual([{ cartId: null }])
    expect(await cart.purgeIdle(now)).toBe(0)
  })

  it('a change keeps a cart alive', async () => {
    const now = Date.now()
    const v = await insertShopVariant(engine)
    const id = await insertShopCart(engine, { updatedAt: now - 40 * DAY })
    await cart.add(id, v.id, 1, now)
    expect(await cart.purgeIdle(now)).toBe(0)
  })
})
