import crypto from 'node:crypto'
import { sql, type SQL } from 'drizzle-orm'
import type { TestEngine } from './engines'

// Shop rows for the shop-side tests that run on both engines (tests/support/engines.ts): what
// the SQLite-only factories (factories.ts) made, written with raw SQL each engine renders its
// way. Flags are the integers 0 and 1 on both engines; JSON is written as its text.

let made = 0
const next = () => `${++made}-${crypto.randomBytes(3).toString('hex')}`

const idOf = async (engine: TestEngine, query: SQL): Promise<number> => Number((await engine.rows<{ id: number | string }>(query))[0]!.id)

type ShopProduct = { slug?: string; title?: string; status?: 'active' | 'draft' | 'archived'; isFeatured?: boolean; createdAt?: number }

/** A product (active unless said otherwise); its id and slug. */
export async function insertShopProduct(engine: TestEngine, values: ShopProduct = {}): Promise<{ id: number; slug: string }> {
  const n = next()
  const slug = values.slug ?? `product-${n}`
  const now = Date.now()
  const id = await idOf(
    engine,
    sql`INSERT INTO products (slug, title, description, status, is_featured, created_at, updated_at)
      VALUES (${slug}, ${values.title ?? `Product ${n}`}, ${`A well-made thing, number ${n}.`}, ${values.status ?? 'active'}, ${values.isFeatured ? 1 : 0}, ${values.createdAt ?? now}, ${now})
      RETURNING id`,
  )
  return { id, slug }
}

type ShopVariant = { productId?: number; sku?: string; title?: string; priceCents?: number; stock?: number; options?: Record<string, string>; imageId?: number | null; position?: number }

/** A variant (of a new product unless `productId`); its id and its product's. */
export async function insertShopVariant(engine: TestEngine, values: ShopVariant = {}): Promise<{ id: number; productId: number }> {
  const productId = values.productId ?? (await insertShopProduct(engine)).id
  const n = next()
  const id = await idOf(
    engine,
    sql`INSERT INTO variants (product_id, sku, title, price_cents, stock, options, image_id, position)
      VALUES (${productId}, ${values.sku ?? `SKU-${n}`.toUpperCase()}, ${values.title ?? 'Default'}, ${values.priceCents ?? 2500}, ${values.stock ?? 10},
        ${JSON.stringify(values.options ?? {})}, ${values.imageId ?? null}, ${values.position ?? 0})
      RETURNING id`,
  )
  return { id, productId }
}

/** A product picture; its id. */
export async function insertImage(engine: TestEngine, values: { productId: number; path?: string; alt?: string; position?: number }): Promise<number> {
  const n = next()
  return idOf(engine, sql`INSERT INTO product_images (product_id, path, alt, position) VALUES (${values.productId}, ${values.path ?? `products/test-${n}.svg`}, ${values.alt ?? `Picture ${n}`}, ${values.position ?? 0}) RETURNING id`)
}

/** A collection, with products in it in the order given; its id. */
export async function insertCollectionOf(engine: TestEngine, values: { slug?: string; title?: string; isFeatured?: boolean; productIds?: number[] } = {}): Promise<number> {
  const n = next()
  const id = await idOf(
    engine,
    sql`INSERT INTO collections (slug, title, is_featured) VALUES (${values.slug ?? `collection-${n}`}, ${values.title ?? `Collection ${n}`}, ${values.isFeatured ? 1 : 0}) RETURNING id`,
  )
  for (const [position, productId] of (values.productIds ?? []).entries()) {
    await engine.rows(sql`INSERT INTO product_collections (product_id, collection_id, position) VALUES (${productId}, ${id}, ${position}) RETURNING product_id`)
  }
  return id
}

/** A cart (its id shaped like a real cookie value) with lines; its id. */
export async function insertShopCart(engine: TestEngine, values: { status?: 'open' | 'checking_out' | 'converted'; updatedAt?: number; lines?: { variantId: number; quantity: number }[] } = {}): Promise<string> {
  const id = crypto.randomBytes(32).toString('base64url')
  const now = Date.now()
  await engine.rows(sql`INSERT INTO carts (id, status, created_at, updated_at) VALUES (${id}, ${values.status ?? 'open'}, ${now}, ${values.updatedAt ?? now}) RETURNING id`)
  for (const line of values.lines ?? []) await engine.rows(sql`INSERT INTO cart_lines (cart_id, variant_id, quantity) VALUES (${id}, ${line.variantId}, ${line.quantity}) RETURNING id`)
  return id
}

/** A hold (active, expiring in 30 minutes, unless said otherwise); its id. */
export async function insertShopHold(engine: TestEngine, values: { variantId: number; quantity: number; cartId?: string | null; status?: 'active' | 'converted' | 'released'; expiresAt?: number }): Promise<number> {
  return idOf(
    engine,
    sql`INSERT INTO stock_holds (variant_id, cart_id, quantity, status, expires_at, created_at)
      VALUES (${values.variantId}, ${values.cartId ?? null}, ${values.quantity}, ${values.status ?? 'active'}, ${values.expiresAt ?? Date.now() + 30 * 60 * 1000}, ${Date.now()})
      RETURNING id`,
  )
}

/** An order with one line of two Harbor Mugs, in `status`; its id. */
export async function insertShopOrder(engine: TestEngine, values: { key: string; status: string; email?: string | null; totalCents?: number; subtotalCents?: number; refundedCents?: number }): Promise<number> {
  const now = Date.now()
  const id = await idOf(
    engine,
    sql`INSERT INTO orders (stripe_checkout_session_id, public_token, status, total_cents, subtotal_cents, refunded_cents, currency, email, created_at, updated_at)
      VALUES (${`cs_${values.key}`}, ${`token_${values.key}_abcdefghijklmnop`.replace(/[^A-Za-z0-9_-]/g, '_')}, ${values.status}, ${values.totalCents ?? 20300}, ${values.subtotalCents ?? 19800},
        ${values.refundedCents ?? 0}, 'usd', ${values.email === undefined ? 'shopper@example.com' : values.email}, ${now}, ${now})
      RETURNING id`,
  )
  await engine.rows(sql`INSERT INTO order_lines (order_id, title, quantity, unit_amount_cents, total_cents) VALUES (${id}, 'Harbor Mug', 2, 9900, 19800) RETURNING id`)
  return id
}
