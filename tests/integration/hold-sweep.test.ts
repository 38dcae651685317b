import { sql } from 'drizzle-orm'
import { describe, expect, it } from 'vitest'
import { transaction } from '@/db/tx'
import * as inventory from '@/lib/inventory'
import { handlers } from '@/lib/jobs/handlers'
import { ENGINES, useEngine } from '../support/engines'

// The job worker's every-minute sweep (`holds.release_expired`, lib/jobs/handlers.ts) on both
// engines: expired holds are released (their variants marked changed) and the change log's
// rows no app server still needs are pruned, in one transaction through db/tx.ts.

const MINUTE = 60_000

describe.each(ENGINES)('the hold sweep on %s', (name) => {
  const engine = useEngine(name)

  it('releases expired holds, keeps live ones, and prunes change rows older than ten minutes', async () => {
    const [product] = await engine.rows<{ id: number | string }>(sql`INSERT INTO products (slug, title) VALUES ('mug', 'Mug') RETURNING id`)
    const productId = Number(product!.id)
    const [variant] = await engine.rows<{ id: number | string }>(sql`INSERT INTO variants (product_id, sku, title, price_cents, stock) VALUES (${productId}, 'MUG', 'One', 2500, 5) RETURNING id`)
    const variantId = Number(variant!.id)
    for (const cart of ['cart-expired', 'cart-live']) await engine.rows(sql`INSERT INTO carts (id) VALUES (${cart}) RETURNING id`)
    const holdFor = (cartId: string) =>
      transaction((tx, t) => inventory.placingHolds(tx, t, { cartId, lines: [{ variantId, quantity: 2, label: 'the mug' }], expiresAt: Date.now() + 60 * MINUTE }))
    const [expired] = await holdFor('cart-expired')
    const [live] = await holdFor('cart-live')
    await engine.rows(sql`UPDATE stock_holds SET expires_at = ${Date.now() - MINUTE} WHERE id = ${expired!} RETURNING id`)
    const now = Date.now()
    await engine.rows(sql`INSERT INTO catalog_changes (product_id, slug, origin, created_at) VALUES (NULL, NULL, 'old', ${now - 11 * MINUTE}) RETURNING id`)
    await engine.rows(sql`INSERT INTO catalog_changes (product_id, slug, origin, created_at) VALUES (NULL, NULL, 'recent', ${now - 5 * MINUTE}) RETURNING id`)

    await handlers['holds.release_expired']!({}, { id: 1, attempts: 1, signal: new AbortController().signal })

    const statuses = await engine.rows<{ id: number | string; status: string }>(sql`SELECT id, status FROM stock_holds ORDER BY id`)
    expect(statuses.map((r) => [Number(r.id), r.status])).toEqual([
      [expired, 'released'],
      [live, 'active'],
    ])
    const origins = await engine.rows<{ origin: string }>(sql`SELECT origin FROM catalog_changes WHERE origin IN ('old', 'recent') ORDER BY id`)
    expect(origins.map((r) => r.origin)).toEqual(['recent'])
    // the release marked the mug's product changed, for every app server's cache
    expect(await engine.count(sql`SELECT count(*) AS n FROM catalog_changes WHERE product_id = ${productId} AND created_at >= ${now}`)).toBeGreaterThan(0)
  })
})
