import { eq } from 'drizzle-orm'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { write } from '@/db'
import { transaction } from '@/db/tx'
import { stockHolds, variants } from '@/db/schema'
import { OutOfStock } from '@/lib/errors'
import * as inventory from '@/lib/inventory'
import { insertCart, insertVariant } from '../support/catalog-rows'
import { freshDb, type TestDb } from '../support/db'

let t: TestDb
beforeEach(() => {
  t = freshDb()
})
afterEach(() => t.close())

const later = () => Date.now() + 30 * 60 * 1000

describe('inventory', () => {
  it('available is stock minus active, unexpired holds', async () => {
    const { variantId } = insertVariant({ stock: 5 })
    const cartId = insertCart([])
    write((tx) => inventory.placeHolds(tx, { cartId, expiresAt: later(), lines: [{ variantId, quantity: 2 }] }))
    expect(inventory.availableOne(variantId)).toBe(3)
    // an expired hold stops counting even before the job tidies it
    write((tx) => inventory.placeHolds(tx, { cartId, expiresAt: Date.now() - 1, now: Date.now() - 60_000, lines: [{ variantId, quantity: 1 }] }))
    expect(inventory.availableOne(variantId)).toBe(3)
    expect(await transaction((tx, tables) => inventory.releasingExpired(tx, tables))).toBe(1)
  })

  it('refuses a hold beyond what is available and says how many are left', () => {
    const { variantId } = insertVariant({ stock: 3 })
    const cartId = insertCart([])
    write((tx) => inventory.placeHolds(tx, { cartId, expiresAt: later(), lines: [{ variantId, quantity: 2 }] }))
    try {
      write((tx) => inventory.placeHolds(tx, { cartId, expiresAt: later(), lines: [{ variantId, quantity: 2, label: 'Mug' }] }))
      expect.unreachable()
    } catch (err) {
      expect(err).toBeInstanceOf(OutOfStock)
      expect((err as OutOfStock).available).toBe(1)
      expect((err as Error).message).toBe('Only 1 of Mug left (you asked for 2).')
    }
  })

  it('a failed multi-line hold leaves nothing behind (the transaction rolls back)', () => {
    const a = insertVariant({ stock: 5 })
    const b = insertVariant({ stock: 0 })
    const cartId = insertCart([])
    expect(() =>
      write((tx) => inventory.placeHolds(tx, { cartId, expiresAt: later(), lines: [{ variantId: a.variantId, quantity: 1 }, { variantId: b.variantId, quantity: 1 }] })),
    ).toThrow(OutOfStock)
    expect(t.db.select().from(stockHolds).all()).toHaveLength(0)
  })

  it('committingSale converts holds and never takes stock below zero', async () => {
    const { variantId } = insertVariant({ stock: 2 })
    const cartId = insertCart([])
    const ids = write((tx) => inventory.placeHolds(tx, { cartId, expiresAt: later(), lines: [{ variantId, quantity: 2 }] }))
    write((tx) => inventory.attachSession(tx, ids, 'cs_a'))
    expect((await transaction((tx, tables) => inventory.committingSale(tx, tables, 'cs_a', null, [{ variantId, quantity: 2 }]))).shortVariantIds).toEqual([])
    expect(t.db.select().from(variants).where(eq(variants.id, variantId)).get()!.stock).toBe(0)
    expect(t.db.select().from(stockHolds).get()!.status).toBe('converted')
    // a sale with no hold and no stock: recorded short, stock stays at zero
    expect((await transaction((tx, tables) => inventory.committingSale(tx, tables, 'cs_b', null, [{ variantId, quantity: 1 }]))).shortVariantIds).toEqual([variantId])
    expect(t.db.select().from(variants).where(eq(variants.id, variantId)).get()!.stock).toBe(0)
  })
})
