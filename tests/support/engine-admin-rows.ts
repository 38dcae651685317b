import crypto from 'node:crypto'
import { sql } from 'drizzle-orm'
import type { ShippingAddress } from '@/db/schema'
import type { TestEngine } from './engines'
import { insertProduct, insertVariant } from './engine-catalog'

// Rows the owner-side tests need on both engines (tests/support/engines.ts), written with raw SQL
// each engine renders its way: orders with lines, holds, carts, and a catalog whose products'
// figures all differ. The SQLite-only factories (factories.ts) cannot reach a PostgreSQL store.

let made = 0
const next = () => `${++made}-${crypto.randomBytes(3).toString('hex')}`

/** A JSON column's value: SQLite hands back the text, PostgreSQL the parsed value. */
export const parsed = (value: unknown): unknown => (typeof value === 'string' ? JSON.parse(value) : value)

type LineValues = { variantId: number | null; quantity: number; title?: string; unitAmountCents?: number }
type OrderValues = {
  email?: string | null
  customerName?: string | null
  status?: string
  createdAt?: number
  totalCents?: number
  shippingCents?: number
  refundedCents?: number
  discountCents?: number
  discountCodes?: string[]
  shippingAddress?: ShippingAddress | null
  carrier?: string | null
  trackingNumber?: string | null
  /** one unit of a new variant unless given */
  lines?: LineValues[]
}

/** A paid order (as fulfilment records one) with its lines; its id and email. */
export async function insertOrderRow(engine: TestEngine, values: OrderValues = {}): Promise<{ id: number; email: string | null }> {
  const n = next()
  const lines = values.lines ?? [{ variantId: await insertVariant(engine), quantity: 1 }]
  const linesCents = lines.reduce((sum, l) => sum + (l.unitAmountCents ?? 2500) * l.quantity, 0)
  const total = values.totalCents ?? linesCents
  const email = values.email === undefined ? `shopper-${n}@example.com` : values.email
  const now = Date.now()
  const createdAt = values.createdAt ?? now
  const [row] = await engine.rows<{ id: number | string }>(sql`
    INSERT INTO orders (stripe_checkout_session_id, public_token, status, total_cents, subtotal_cents, shipping_cents, refunded_cents, discount_cents, discount_codes,
      currency, email, customer_name, shipping_address, carrier, tracking_number, paid_at, created_at, updated_at)
    VALUES (${`cs_test_${n}`}, ${crypto.randomBytes(24).toString('base64url')}, ${values.status ?? 'paid'}, ${total}, ${total}, ${values.shippingCents ?? 0}, ${values.refundedCents ?? 0},
      ${values.discountCents ?? 0}, ${JSON.stringify(values.discountCodes ?? [])}, 'usd', ${email}, ${values.customerName === undefined ? `Shopper ${n}` : values.customerName},
      ${values.shippingAddress ? JSON.stringify(values.shippingAddress) : null}, ${values.carrier ?? null}, ${values.trackingNumber ?? null}, ${now}, ${createdAt}, ${createdAt})
    RETURNING id`)
  const id = Number(row!.id)
  for (const [i, l] of lines.entries()) {
    const unit = l.unitAmountCents ?? 2500
    await engine.rows(sql`
      INSERT INTO order_lines (order_id, variant_id, stripe_line_item_id, title, quantity, unit_amount_cents, total_cents, subtotal_cents)
      VALUES (${id}, ${l.variantId}, ${`li_${n}_${i}`}, ${l.title ?? `Item ${i + 1}`}, ${l.quantity}, ${unit}, ${unit * l.quantity}, ${unit * l.quantity})
      RETURNING id`)
  }
  return { id, email }
}

/** A hold on a variant, active and expiring in 30 minutes unless said otherwise; its id. */
export async function insertHold(engine: TestEngine, values: { variantId: number; quantity: number; status?: string; expiresAt?: number }): Promise<number> {
  const [row] = await engine.rows<{ id: number | string }>(sql`
    INSERT INTO stock_holds (variant_id, quantity, status, expires_at, created_at)
    VALUES (${values.variantId}, ${values.quantity}, ${values.status ?? 'active'}, ${values.expiresAt ?? Date.now() + 30 * 60_000}, ${Date.now()})
    RETURNING id`)
  return Number(row!.id)
}

/** An open cart (id shaped like a cookie value) with lines; its id. */
export async function insertCartRow(engine: TestEngine, lines: { variantId: number; quantity: number }[] = []): Promise<string> {
  const id = crypto.randomBytes(32).toString('base64url')
  const now = Date.now()
  await engine.rows(sql`INSERT INTO carts (id, created_at, updated_at) VALUES (${id}, ${now}, ${now}) RETURNING id`)
  for (const l of lines) await engine.rows(sql`INSERT INTO cart_lines (cart_id, variant_id, quantity, added_at) VALUES (${id}, ${l.variantId}, ${l.quantity}, ${now}) RETURNING id`)
  return id
}

export type VariedProduct = { product: { id: number; title: string }; variants: { id: number; sku: string; priceCents: number; stock: number }[] }

/**
 * A catalog that tells one product's figures from another's: product i has i + 1 variants, each
 * with its own price and stock (one product has none at all), so a count, sum or minimum taken
 * over the wrong rows shows.
 */
export async function insertVariedCatalog(engine: TestEngine, size = 6): Promise<VariedProduct[]> {
  const catalog: VariedProduct[] = []
  for (let i = 0; i < size; i++) {
    const n = next()
    const title = `Varied ${String.fromCharCode(65 + i)} ${n}`
    const productId = await insertProduct(engine, { title, slug: `varied-${n}` })
    const variants: VariedProduct['variants'] = []
    for (let j = 0; j < (i === 2 ? 0 : i + 1); j++) {
      const values = { sku: `VAR-${n}-${j}`.toUpperCase(), priceCents: 1800 + i * 1000 + ((j * 731) % 5) * 250, stock: (i * 7 + j * 13) % 40 }
      variants.push({ id: await insertVariant(engine, { productId, title: `Size ${j}`, position: j, ...values }), ...values })
    }
    catalog.push({ product: { id: productId, title }, variants })
  }
  return catalog
}
