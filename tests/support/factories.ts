import crypto from 'node:crypto'
import { write } from '@/db'
import { products, stockHolds, variants } from '@/db/schema'

// Shared test factories: each makes one valid row with sensible defaults and
// takes overrides for whatever the test is about, e.g. createVariant({ stock: 1 }).
// They write to the process connection, so call freshDb() first.

type ProductRow = typeof products.$inferSelect
type VariantRow = typeof variants.$inferSelect
type HoldRow = typeof stockHolds.$inferSelect

let sequence = 0
const next = () => `${++sequence}-${crypto.randomBytes(3).toString('hex')}`

/** Overrides without the keys set to undefined, so `{ sku: undefined }` keeps the default. */
function defined<T extends object>(overrides: T): T {
  return Object.fromEntries(Object.entries(overrides).filter(([, v]) => v !== undefined)) as T
}

export function createProduct(overrides: Partial<typeof products.$inferInsert> = {}): ProductRow {
  const n = next()
  return write((tx) =>
    tx
      .insert(products)
      .values({ slug: `product-${n}`, title: `Product ${n}`, description: `A well-made thing, number ${n}.`, ...defined(overrides) })
      .returning()
      .get(),
  )
}

/** A variant; without a productId it gets a product of its own. */
export function createVariant(overrides: Partial<typeof variants.$inferInsert> = {}): VariantRow {
  const productId = overrides.productId ?? createProduct().id
  const n = next()
  return write((tx) =>
    tx
      .insert(variants)
      .values({ sku: `SKU-${n}`.toUpperCase(), title: 'Default', priceCents: 2500, stock: 10, ...defined(overrides), productId })
      .returning()
      .get(),
  )
}

/** An active hold by default, expiring in 30 minutes. */
export function createHold(overrides: Partial<typeof stockHolds.$inferInsert> & { variantId: number; quantity: number }): HoldRow {
  return write((tx) =>
    tx
      .insert(stockHolds)
      .values({ expiresAt: Date.now() + 30 * 60 * 1000, ...defined(overrides) })
      .returning()
      .get(),
  )
}

