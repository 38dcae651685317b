import crypto from 'node:crypto'
import { write } from '@/db'
import { cartLines, carts, collections, orderLines, orders, productCollections, products, stockHolds, variants } from '@/db/schema'

// Shared test factories: each makes one valid row with sensible defaults and
// takes overrides for whatever the test is about, e.g. createVariant({ stock: 1 }).
// They write to the process connection, so call freshDb() first.

type ProductRow = typeof products.$inferSelect
type VariantRow = typeof variants.$inferSelect
type CollectionRow = typeof collections.$inferSelect
type CartRow = typeof carts.$inferSelect
type HoldRow = typeof stockHolds.$inferSelect
type OrderRow = typeof orders.$inferSelect

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

/** A collection, optionally with products in it (in the order given). */
export function createCollection(overrides: Partial<typeof collections.$inferInsert> & { productIds?: number[] } = {}): CollectionRow {
  const { productIds = [], ...values } = overrides
  const n = next()
  return write((tx) => {
    const row = tx
      .insert(collections)
      .values({ slug: `collection-${n}`, title: `Collection ${n}`, ...defined(values) })
      .returning()
      .get()
    productIds.forEach((productId, position) => tx.insert(productCollections).values({ productId, collectionId: row.id, position }).run())
    return row
  })
}

/** A cart (id shaped like a real cookie value) with optional lines. */
export function createCart(overrides: Partial<typeof carts.$inferInsert> & { lines?: { variantId: number; quantity: number }[] } = {}): CartRow {
  const { lines = [], ...values } = overrides
  return write((tx) => {
    const row = tx
      .insert(carts)
      .values({ id: crypto.randomBytes(32).toString('base64url'), ...defined(values) })
      .returning()
      .get()
    for (const line of lines) tx.insert(cartLines).values({ cartId: row.id, ...line }).run()
    return row
  })
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

/**
 * A catalog that tells one product's figures from another's: product i has i + 1 variants,
 * each with its own price and stock (one product has none at all), so a count, sum or minimum
 * taken over the wrong rows shows.
 */
export function createVariedCatalog(size = 6): { product: ProductRow; variants: VariantRow[] }[] {
  const catalog = Array.from({ length: size }, (_, i) => {
    const product = createProduct({ title: `Varied ${String.fromCharCode(65 + i)} ${next()}` })
    const rows = Array.from({ length: i === 2 ? 0 : i + 1 }, (_, j) => createVariant({ productId: product.id, title: `Size ${j}`, priceCents: 1800 + i * 1000 + ((j * 731) % 5) * 250, stock: (i * 7 + j * 13) % 40, position: j }))
    return { product, variants: rows }
  })
  return catalog
}

/** A paid order (as fulfilment records one) with lines; lines default to one unit of a new variant. */
export function createOrder(
  overrides: Partial<typeof orders.$inferInsert> & { lines?: { variantId: number | null; quantity: number; title?: string; unitAmountCents?: number }[] } = {},
): OrderRow {
  const { lines, ...values } = overrides
  const n = next()
  const items = lines ?? [{ variantId: createVariant().id, quantity: 1 }]
  const total = items.reduce((sum, l) => sum + (l.unitAmountCents ?? 2500) * l.quantity, 0)
  return write((tx) => {
    const row = tx
      .insert(orders)
      .values({ stripeCheckoutSessionId: `cs_test_${n}`, publicToken: crypto.randomBytes(24).toString('base64url'), status: 'paid', totalCents: total, subtotalCents: total, currency: 'usd', email: `shopper-${n}@example.com`, customerName: `Shopper ${n}`, paidAt: Date.now(), ...defined(values) })
      .returning()
      .get()
    items.forEach((l, i) => {
      const unit = l.unitAmountCents ?? 2500
      tx.insert(orderLines).values({ orderId: row.id, variantId: l.variantId, stripeLineItemId: `li_${n}_${i}`, title: l.title ?? `Item ${i + 1}`, quantity: l.quantity, unitAmountCents: unit, totalCents: unit * l.quantity, subtotalCents: unit * l.quantity }).run()
    })
    return row
  })
}
