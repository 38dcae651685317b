import { sql } from 'drizzle-orm'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { transaction } from '@/db/tx'
import * as cache from '@/lib/cache'
import * as inventory from '@/lib/inventory'
import { handlers } from '@/lib/jobs/handlers'
import { frontCache, type Scope } from '@/server/contract'
import { insertCartRow } from '../support/engine-admin-rows'
import { insertProduct, insertVariant } from '../support/engine-catalog'
import { ENGINES, useEngine, type TestEngine } from '../support/engines'

// lib/cache.ts on both engines: every stock change writes what it touched to catalog_changes in
// its own transaction (so another process can read it) and tells the response cache, once it
// commits, which products changed and whether the change may be shown stale.

const told: Scope[] = []
beforeEach(() => {
  told.length = 0
  frontCache().invalidate = (scope) => told.push(scope)
})
afterEach(() => {
  delete frontCache().invalidate
})

async function changes(engine: TestEngine) {
  const rows = await engine.rows<{ productId: unknown; isSoldOut: unknown; soldOutVariants: unknown }>(
    sql`SELECT product_id AS "productId", is_sold_out AS "isSoldOut", sold_out_variants AS "soldOutVariants" FROM catalog_changes ORDER BY id`,
  )
  return rows.map((r) => ({ productId: r.productId === null ? null : Number(r.productId), isSoldOut: Number(r.isSoldOut), soldOutVariants: Number(r.soldOutVariants) }))
}
const later = () => Date.now() + 30 * 60 * 1000

/** A product with one variant of `stock` units. */
async function stocked(engine: TestEngine, stock: number): Promise<{ productId: number; variantId: number }> {
  const productId = await insertProduct(engine)
  return { productId, variantId: await insertVariant(engine, { productId, stock }) }
}

const hold = (input: Parameters<typeof inventory.placingHolds>[2]) => transaction((tx, t) => inventory.placingHolds(tx, t, input))

describe.each(ENGINES)('cache on %s', (name) => {
  const engine = useEngine(name)

  describe('stock changes', () => {
    it('a hold writes its product in the same transaction and announces it once committed; a hold that fails writes nothing', async () => {
      const { productId, variantId } = await stocked(engine, 3)
      const cartId = await insertCartRow(engine)
      await hold({ cartId, expiresAt: later(), lines: [{ variantId, quantity: 1 }] })
      expect(await changes(engine)).toEqual([{ productId, isSoldOut: 0, soldOutVariants: 0 }])
      expect(told).toHaveLength(1)
      expect(told[0]!.products?.map((p) => p.hasSoldOutVariant)).toEqual([false])

      await expect(hold({ cartId, expiresAt: later(), lines: [{ variantId, quantity: 1 }, { variantId, quantity: 5 }] })).rejects.toThrow()
      expect(await changes(engine)).toHaveLength(1)
      expect(told).toHaveLength(1)
    })

    it('says when a variant sells out (never to be sent stale) and when the badge flips, not on a sale that only moves a count', async () => {
      const { productId, variantId } = await stocked(engine, 2)
      const cartId = await insertCartRow(engine)
      await hold({ cartId, expiresAt: later(), lines: [{ variantId, quantity: 1 }] })
      await hold({ cartId, expiresAt: later(), lines: [{ variantId, quantity: 1 }] })
      expect((await changes(engine)).at(-1)).toEqual({ productId, isSoldOut: 1, soldOutVariants: 1 })
      const last = told.at(-1)!.products![0]!
      expect(last).toMatchObject({ isSoldOutChanged: true, hasSoldOutVariant: true })
      // back on the shelf: the badge flips again, nothing newly gone
      await transaction((tx, t) => inventory.releasingUnboundForCart(tx, t, cartId))
      expect(told.at(-1)!.products![0]).toMatchObject({ isSoldOutChanged: true, hasSoldOutVariant: false })
      // a hold that leaves some: only the product's own page is concerned
      await hold({ cartId, expiresAt: later(), lines: [{ variantId, quantity: 1 }] })
      expect(told.at(-1)!.products![0]).toMatchObject({ isSoldOutChanged: false, hasSoldOutVariant: false })
    })

    it('a cart written without a hold changes nothing a page shows', async () => {
      const { variantId } = await stocked(engine, 3)
      await insertCartRow(engine, [{ variantId, quantity: 2 }])
      expect(await changes(engine)).toEqual([])
      expect(told).toEqual([])
    })

    it('the sweep that releases holds expired by the clock announces their variants', async () => {
      const { productId, variantId } = await stocked(engine, 1)
      const cartId = await insertCartRow(engine)
      const now = Date.now()
      await hold({ cartId, now: now - 60_000, expiresAt: now - 1, lines: [{ variantId, quantity: 1 }] })
      told.length = 0
      await handlers['holds.release_expired']!({}, { id: 1, attempts: 1, signal: new AbortController().signal })
      expect((await changes(engine)).at(-1)).toEqual({ productId, isSoldOut: 0, soldOutVariants: 0 })
      expect(told.flatMap((s) => s.products ?? []).map((p) => p.slug)).toHaveLength(1)
    })
  })

  describe('catalog edits', () => {
    it('a catalog edit tells the cache everything may have changed', async () => {
      await transaction(cache.markingCatalogChanged)
      expect(await changes(engine)).toEqual([{ productId: null, isSoldOut: 0, soldOutVariants: 0 }])
      expect(told).toEqual([{ all: true, products: [] }])
    })
  })
})
