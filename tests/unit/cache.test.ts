import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { POST } from '@/app/api/cache/route'
import { getDb, write } from '@/db'
import { runNow } from '@/db/tx'
import * as cache from '@/lib/cache'
import * as inventory from '@/lib/inventory'
import { handlers } from '@/lib/jobs/handlers'
import { frontCache, type Scope } from '@/server/contract'
import { insertCart, insertVariant } from '../support/catalog-rows'
import { freshDb, type TestDb } from '../support/db'

// lib/cache.ts: every stock change writes what it touched to catalog_changes in its own
// transaction (so another process can read it) and tells the response cache, once it
// commits, which products changed and whether the change may be shown stale.

let t: TestDb
const told: Scope[] = []
beforeEach(() => {
  t = freshDb()
  told.length = 0
  frontCache().invalidate = (scope) => told.push(scope)
})
afterEach(() => {
  delete frontCache().invalidate
  t.close()
})

const changes = () =>
  getDb().$client.prepare('SELECT product_id AS productId, is_sold_out AS isSoldOut, sold_out_variants AS soldOutVariants FROM catalog_changes ORDER BY id').all() as {
    productId: number
    isSoldOut: number
    soldOutVariants: number
  }[]
const later = () => Date.now() + 30 * 60 * 1000

describe('cache: stock changes', () => {
  it('a hold writes its product in the same transaction and announces it once committed; a hold that fails writes nothing', () => {
    const { productId, variantId } = insertVariant({ stock: 3 })
    const cartId = insertCart([])
    write((tx) => inventory.placeHolds(tx, { cartId, expiresAt: later(), lines: [{ variantId, quantity: 1 }] }))
    expect(changes()).toEqual([{ productId, isSoldOut: 0, soldOutVariants: 0 }])
    expect(told).toHaveLength(1)
    expect(told[0]!.products?.map((p) => p.hasSoldOutVariant)).toEqual([false])

    expect(() => write((tx) => inventory.placeHolds(tx, { cartId, expiresAt: later(), lines: [{ variantId, quantity: 1 }, { variantId, quantity: 5 }] }))).toThrow()
    expect(changes()).toHaveLength(1)
    expect(told).toHaveLength(1)
  })

  it('says when a variant sells out (never to be sent stale) and when the badge flips, not on a sale that only moves a count', () => {
    const { productId, variantId } = insertVariant({ stock: 2 })
    const cartId = insertCart([])
    write((tx) => inventory.placeHolds(tx, { cartId, expiresAt: later(), lines: [{ variantId, quantity: 1 }] }))
    write((tx) => inventory.placeHolds(tx, { cartId, expiresAt: later(), lines: [{ variantId, quantity: 1 }] }))
    expect(changes().at(-1)).toEqual({ productId, isSoldOut: 1, soldOutVariants: 1 })
    const last = told.at(-1)!.products![0]!
    expect(last).toMatchObject({ isSoldOutChanged: true, hasSoldOutVariant: true })
    // back on the shelf: the badge flips again, nothing newly gone
    write((tx) => inventory.releaseUnboundForCart(tx, cartId))
    expect(told.at(-1)!.products![0]).toMatchObject({ isSoldOutChanged: true, hasSoldOutVariant: false })
    // a hold that leaves some: only the product's own page is concerned
    write((tx) => inventory.placeHolds(tx, { cartId, expiresAt: later(), lines: [{ variantId, quantity: 1 }] }))
    expect(told.at(-1)!.products![0]).toMatchObject({ isSoldOutChanged: false, hasSoldOutVariant: false })
  })

  it('a cart written without a hold changes nothing a page shows', () => {
    const { variantId } = insertVariant({ stock: 3 })
    insertCart([{ variantId, quantity: 2 }])
    expect(changes()).toEqual([])
    expect(told).toEqual([])
  })

  it('the sweep that releases holds expired by the clock announces their variants', async () => {
    const { productId, variantId } = insertVariant({ stock: 1 })
    const cartId = insertCart([])
    const now = Date.now()
    write((tx) => inventory.placeHolds(tx, { cartId, now: now - 60_000, expiresAt: now - 1, lines: [{ variantId, quantity: 1 }] }))
    told.length = 0
    await handlers['holds.release_expired']!({}, { id: 1, attempts: 1, signal: new AbortController().signal })
    expect(changes().at(-1)).toEqual({ productId, isSoldOut: 0, soldOutVariants: 0 })
    expect(told.flatMap((s) => s.products ?? []).map((p) => p.slug)).toHaveLength(1)
  })
})

describe('cache: catalog edits and the loopback revalidation', () => {
  it('a catalog edit tells the cache everything may have changed', () => {
    write((tx) => runNow(tx, cache.markingCatalogChanged))
    expect(changes()).toEqual([{ productId: null, isSoldOut: 0, soldOutVariants: 0 }])
    expect(told).toEqual([{ all: true, products: [] }])
  })

  it('POST /api/cache answers 404 to anyone without the process token', async () => {
    const ask = (headers: Record<string, string>) =>
      POST(new Request('http://localhost/api/cache', { method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body: JSON.stringify({ tags: ['catalog'] }) }))
    expect((await ask({})).status).toBe(404)
    expect((await ask({ [cache.revalidateTokenHeader]: 'guess' })).status).toBe(404)
    expect((await ask({ [cache.revalidateTokenHeader]: 'x'.repeat(48) })).status).toBe(404)
  })
})
