import { sql } from 'drizzle-orm'
import { describe, expect, it } from 'vitest'
import { get, read, transaction } from '@/db/tx'
import * as cache from '@/lib/cache'
import { HoldLimit, InvalidInput, OutOfStock } from '@/lib/errors'
import * as inventory from '@/lib/inventory'
import { ENGINES, useEngine, type TestEngine } from '../support/engines'

// Holds, releases and stock changes (lib/inventory.ts) and the catalog-change marks they write
// (lib/cache.ts) on both engines, through db/tx.ts. On PostgreSQL, two app servers at once:
// holds never take more than the shelf has, a hold is released once, and the mark is part of
// the transaction that made the change.

const OWNER_EMAIL = 'owner@example.com'
const HOUR = 3_600_000

let made = 0
/** A product with one variant of `stock` units (and a second, always in stock); the variant's id and its product's. */
async function insertVariant(engine: TestEngine, stock: number): Promise<{ variantId: number; productId: number }> {
  made++
  const [product] = await engine.rows<{ id: number | string }>(sql`INSERT INTO products (slug, title) VALUES (${`p-${made}`}, ${`Product ${made}`}) RETURNING id`)
  const productId = Number(product!.id)
  await engine.rows(sql`INSERT INTO variants (product_id, sku, title, price_cents, stock) VALUES (${productId}, ${`SKU-${made}-b`}, 'Other', 2500, 100) RETURNING id`)
  const [variant] = await engine.rows<{ id: number | string }>(
    sql`INSERT INTO variants (product_id, sku, title, price_cents, stock) VALUES (${productId}, ${`SKU-${made}`}, 'One', 2500, ${stock}) RETURNING id`,
  )
  return { variantId: Number(variant!.id), productId }
}

/** The admin who adjusts stock (the ledger names them by id). */
async function insertOwner(engine: TestEngine): Promise<{ id: number; email: string }> {
  const [row] = await engine.rows<{ id: number | string }>(sql`INSERT INTO admin_users (email, password_hash) VALUES (${OWNER_EMAIL}, 'x') RETURNING id`)
  return { id: Number(row!.id), email: OWNER_EMAIL }
}

async function insertCart(engine: TestEngine, id: string): Promise<string> {
  await engine.rows(sql`INSERT INTO carts (id) VALUES (${id}) RETURNING id`)
  return id
}

const hold = (cartId: string, variantId: number, quantity: number, visitor?: inventory.VisitorBound) =>
  transaction((tx, t) => inventory.placingHolds(tx, t, { cartId, lines: [{ variantId, quantity, label: 'the mug' }], expiresAt: Date.now() + HOUR, visitor }))

const stockOf = async (engine: TestEngine, variantId: number) => engine.count(sql`SELECT stock AS n FROM variants WHERE id = ${variantId}`)
const heldOf = async (engine: TestEngine, variantId: number) =>
  engine.count(sql`SELECT coalesce(sum(quantity), 0) AS n FROM stock_holds WHERE variant_id = ${variantId} AND status = 'active'`)
const changesOf = (engine: TestEngine, productId: number) =>
  engine.rows<{ isSoldOut: number | string; gone: number | string }>(
    sql`SELECT is_sold_out AS "isSoldOut", sold_out_variants AS gone FROM catalog_changes WHERE product_id = ${productId} ORDER BY id`,
  ).then((rows) => rows.map((r) => ({ isSoldOut: Number(r.isSoldOut), gone: Number(r.gone) })))

describe.each(ENGINES)('inventory on %s', (name) => {
  const engine = useEngine(name)

  it('holds what is available, refuses a short line and a visitor past their share, and marks each hold', async () => {
    const { variantId, productId } = await insertVariant(engine, 10)
    const [id] = await hold(await insertCart(engine, 'cart-a'), variantId, 6)
    expect(id).toBeGreaterThan(0)
    // 20% of 10 units is 2: this address may hold 2 over all its carts, and 3 are still free
    const visitor = { clientKey: 'client-1', maxSharePercent: 20 }
    await hold(await insertCart(engine, 'cart-b'), variantId, 2, visitor)
    const limited = await hold(await insertCart(engine, 'cart-c'), variantId, 1, visitor).catch((err: unknown) => err)
    expect(limited).toBeInstanceOf(HoldLimit)
    expect(limited).toMatchObject({ allowed: 2, requested: 1 })
    const refused = await hold(await insertCart(engine, 'cart-d'), variantId, 3).catch((err: unknown) => err)
    expect(refused).toBeInstanceOf(OutOfStock)
    expect(refused).toMatchObject({ available: 2, requested: 3 })
    // never below one unit: 1% of 10 is 0, and the last free units may still be held one at a time
    await hold(await insertCart(engine, 'cart-e'), variantId, 1, { clientKey: 'client-2', maxSharePercent: 1 })
    await hold(await insertCart(engine, 'cart-f'), variantId, 1)
    expect(await heldOf(engine, variantId)).toBe(10)
    // one row per hold placed; the last filled the variant: one variant of two sold out
    expect(await changesOf(engine, productId)).toEqual([
      { isSoldOut: 0, gone: 0 },
      { isSoldOut: 0, gone: 0 },
      { isSoldOut: 0, gone: 0 },
      { isSoldOut: 0, gone: 1 },
    ])
  })

  it('releases a hold once, by id, by session, by cart and by expiry, and marks each release', async () => {
    const { variantId, productId } = await insertVariant(engine, 10)
    const cart = await insertCart(engine, 'cart-r')
    const [first] = await hold(cart, variantId, 1)
    expect(await transaction((tx, t) => inventory.releasingHolds(tx, t, [first!]))).toBe(1)
    expect(await transaction((tx, t) => inventory.releasingHolds(tx, t, [first!]))).toBe(0)
    const [bound] = await hold(cart, variantId, 2)
    expect(await transaction((tx, t) => inventory.attachingSession(tx, t, [bound!], 'cs_bound'))).toBe(1)
    // a hold bound to an open session stays when the cart lets go of the others
    await hold(cart, variantId, 1)
    expect(await transaction((tx, t) => inventory.releasingUnboundForCart(tx, t, cart))).toBe(1)
    expect(await transaction((tx, t) => inventory.releasingForSession(tx, t, 'cs_bound'))).toBe(1)
    await transaction((tx, t) => inventory.placingHolds(tx, t, { cartId: cart, lines: [{ variantId, quantity: 4 }], expiresAt: 1000, now: 500 }))
    expect(await transaction((tx, t) => inventory.releasingExpired(tx, t, 2000))).toBe(1)
    expect(await heldOf(engine, variantId)).toBe(0)
    // 4 holds placed, 4 releases that released something
    expect(await changesOf(engine, productId)).toHaveLength(8)
  })

  it('adjusts stock never below zero, with its ledger row, its audit row and its mark', async () => {
    const { variantId, productId } = await insertVariant(engine, 2)
    const owner = await insertOwner(engine)
    await expect(inventory.adjustByAdmin(owner, { variantId, delta: -3, note: 'broken' })).rejects.toThrow(/below zero/)
    await expect(inventory.adjustByAdmin(owner, { variantId, delta: 4, note: ' ' })).rejects.toBeInstanceOf(InvalidInput)
    expect(await inventory.adjustByAdmin(owner, { variantId, delta: -2, note: 'broken' })).toEqual({ stockBefore: 2, stockAfter: 0 })
    expect(await inventory.adjustByAdmin(owner, { variantId, delta: 5, note: 'delivery' })).toEqual({ stockBefore: 0, stockAfter: 5 })
    expect(await engine.rows(sql`SELECT delta, stock_after AS "stockAfter", reason FROM stock_ledger WHERE variant_id = ${variantId} ORDER BY id`)).toEqual([
      { delta: -2, stockAfter: 0, reason: 'adjust' },
      { delta: 5, stockAfter: 5, reason: 'adjust' },
    ])
    expect(await engine.count(sql`SELECT count(*) AS n FROM audit_log WHERE action = 'stock.adjust' AND subject = ${`variant:${variantId}`}`)).toBe(2)
    // the admin's ledger page reads it newest first, naming the owner
    expect((await inventory.ledgerFor(variantId)).map((r) => [r.reason, r.delta, r.stockAfter, r.note, r.adminEmail])).toEqual([
      ['adjust', 5, 5, 'delivery', OWNER_EMAIL],
      ['adjust', -2, 0, 'broken', OWNER_EMAIL],
    ])
    expect(await changesOf(engine, productId)).toEqual([
      { isSoldOut: 0, gone: 1 },
      { isSoldOut: 0, gone: 0 },
    ])
  })

  it('moves stock by import only from the figure it read, and restocks a refund', async () => {
    const { variantId } = await insertVariant(engine, 4)
    await transaction((tx, t) => inventory.settingFromImport(tx, t, { variantId, from: 4, to: 9, note: 'file.csv', adminUserId: null }))
    await expect(transaction((tx, t) => inventory.settingFromImport(tx, t, { variantId, from: 4, to: 1, note: 'file.csv', adminUserId: null }))).rejects.toThrow(/stock of a variant changed \(a sale\) while the import was being applied/)
    expect(await transaction((tx, t) => inventory.restockingFromRefund(tx, t, { variantId, quantity: 2, orderId: 7, adminUserId: null }))).toBe(true)
    expect(await stockOf(engine, variantId)).toBe(11)
    expect(await engine.rows(sql`SELECT delta, reason FROM stock_ledger WHERE variant_id = ${variantId} ORDER BY id`)).toEqual([
      { delta: 5, reason: 'import' },
      { delta: 2, reason: 'refund_restock' },
    ])
  })

  it('writes a stock change and its catalog_changes row in one transaction: rolled back together', async () => {
    const { variantId, productId } = await insertVariant(engine, 5)
    const before = await engine.count(sql`SELECT count(*) AS n FROM catalog_changes`)
    await expect(
      transaction(function* (tx, t) {
        yield* inventory.adjusting(tx, t, { variantId, delta: -5, note: 'counted', adminUserId: null })
        // the mark is written by now, inside this transaction
        const mark = yield* get(tx.select({ id: t.catalogChanges.id }).from(t.catalogChanges).where(sql`${t.catalogChanges.productId} = ${productId}`))
        expect(mark).toBeDefined()
        throw new Error('rolled back after the mark')
      }),
    ).rejects.toThrow(/rolled back after the mark/)
    expect(await stockOf(engine, variantId)).toBe(5)
    expect(await engine.count(sql`SELECT count(*) AS n FROM catalog_changes`)).toBe(before)
    await transaction((tx, t) => cache.markingCatalogChanged(tx, t))
    expect(await engine.count(sql`SELECT count(*) AS n FROM catalog_changes WHERE product_id IS NULL`)).toBe(1)
  })

  it('available is stock minus active, unexpired holds', async () => {
    const { variantId } = await insertVariant(engine, 5)
    const cartId = await insertCart(engine, 'cart-avail')
    const availableOne = async () => (await read((db, t) => inventory.availableIn(db, t, [variantId]))).get(variantId)
    await transaction((tx, t) => inventory.placingHolds(tx, t, { cartId, expiresAt: Date.now() + HOUR / 2, lines: [{ variantId, quantity: 2 }] }))
    expect(await availableOne()).toBe(3)
    // an expired hold stops counting even before the job tidies it
    await transaction((tx, t) => inventory.placingHolds(tx, t, { cartId, expiresAt: Date.now() - 1, now: Date.now() - 60_000, lines: [{ variantId, quantity: 1 }] }))
    expect(await availableOne()).toBe(3)
    expect(await transaction((tx, t) => inventory.releasingExpired(tx, t))).toBe(1)
  })

  it('refuses a hold beyond what is available and says how many are left', async () => {
    const { variantId } = await insertVariant(engine, 3)
    const cartId = await insertCart(engine, 'cart-short')
    await transaction((tx, t) => inventory.placingHolds(tx, t, { cartId, expiresAt: Date.now() + HOUR / 2, lines: [{ variantId, quantity: 2 }] }))
    const err = await transaction((tx, t) => inventory.placingHolds(tx, t, { cartId, expiresAt: Date.now() + HOUR / 2, lines: [{ variantId, quantity: 2, label: 'Mug' }] })).catch((e: unknown) => e)
    expect(err).toBeInstanceOf(OutOfStock)
    expect((err as OutOfStock).available).toBe(1)
    expect((err as Error).message).toBe('Only 1 of Mug left (you asked for 2).')
  })

  it('a failed multi-line hold leaves nothing behind (the transaction rolls back)', async () => {
    const a = await insertVariant(engine, 5)
    const b = await insertVariant(engine, 0)
    const cartId = await insertCart(engine, 'cart-both')
    const lines = [
      { variantId: a.variantId, quantity: 1 },
      { variantId: b.variantId, quantity: 1 },
    ]
    await expect(transaction((tx, t) => inventory.placingHolds(tx, t, { cartId, expiresAt: Date.now() + HOUR / 2, lines }))).rejects.toThrow(OutOfStock)
    expect(await engine.count(sql`SELECT count(*) AS n FROM stock_holds`)).toBe(0)
  })

  it('committingSale converts holds and never takes stock below zero', async () => {
    const { variantId } = await insertVariant(engine, 2)
    const cartId = await insertCart(engine, 'cart-sale')
    const ids = await transaction((tx, t) => inventory.placingHolds(tx, t, { cartId, expiresAt: Date.now() + HOUR / 2, lines: [{ variantId, quantity: 2 }] }))
    await transaction((tx, t) => inventory.attachingSession(tx, t, ids, 'cs_a'))
    expect((await transaction((tx, t) => inventory.committingSale(tx, t, 'cs_a', null, [{ variantId, quantity: 2 }]))).shortVariantIds).toEqual([])
    expect(await stockOf(engine, variantId)).toBe(0)
    expect(await engine.rows(sql`SELECT status FROM stock_holds`)).toEqual([{ status: 'converted' }])
    // a sale with no hold and no stock: recorded short, stock stays at zero
    expect((await transaction((tx, t) => inventory.committingSale(tx, t, 'cs_b', null, [{ variantId, quantity: 1 }]))).shortVariantIds).toEqual([variantId])
    expect(await stockOf(engine, variantId)).toBe(0)
  })

  it.runIf(name === 'postgres')('40 shoppers on two app servers holding the last 5 units: exactly 5 get one, the shelf never goes below zero', async () => {
    const { variantId } = await insertVariant(engine, 5)
    const owner = await insertOwner(engine)
    const carts = await Promise.all(Array.from({ length: 40 }, (_, n) => insertCart(engine, `cart-${n}`)))
    const servers = engine.appServers(2)
    try {
      const outcomes = await Promise.allSettled(carts.map((cart) => hold(cart, variantId, 1)))
      const refused = outcomes.filter((o) => o.status === 'rejected').map((o) => (o as PromiseRejectedResult).reason as unknown)
      expect(outcomes.filter((o) => o.status === 'fulfilled')).toHaveLength(5)
      expect(refused.every((err) => err instanceof OutOfStock)).toBe(true)
      expect(await heldOf(engine, variantId)).toBe(5)
      // and every unit the shelf lost was taken once: 20 concurrent cuts of one unit leave 0, never -1
      const cuts = await Promise.allSettled(Array.from({ length: 20 }, () => inventory.adjustByAdmin(owner, { variantId, delta: -1, note: 'counted' })))
      expect(cuts.filter((o) => o.status === 'fulfilled')).toHaveLength(5)
      expect(await stockOf(engine, variantId)).toBe(0)
      expect(await engine.count(sql`SELECT count(*) AS n FROM stock_ledger WHERE variant_id = ${variantId}`)).toBe(5)
    } finally {
      await servers.end()
    }
  })

  it.runIf(name === 'postgres')('one hold released by 20 transactions on two app servers at once is released, and marked, once', async () => {
    const { variantId, productId } = await insertVariant(engine, 5)
    const [id] = await hold(await insertCart(engine, 'cart-x'), variantId, 2)
    const marksBefore = (await changesOf(engine, productId)).length
    const servers = engine.appServers(2)
    try {
      const released = await Promise.all(Array.from({ length: 20 }, () => transaction((tx, t) => inventory.releasingHolds(tx, t, [id!]))))
      expect(released.reduce((a, b) => a + b, 0)).toBe(1)
      expect((await changesOf(engine, productId)).length - marksBefore).toBe(1)
      expect(await heldOf(engine, variantId)).toBe(0)
    } finally {
      await servers.end()
    }
  })
})
