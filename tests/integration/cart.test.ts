import { sql } from 'drizzle-orm'
import { describe, expect, it } from 'vitest'
import { read } from '@/db/tx'
import * as cart from '@/lib/cart'
import { NotFound, OutOfStock } from '@/lib/errors'
import * as inventory from '@/lib/inventory'
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
})
