import { sql } from 'drizzle-orm'
import type Stripe from 'stripe'
import { transaction } from '@/db/tx'
import { getEnv } from '@/lib/env'
import * as inventory from '@/lib/inventory'
import type { TestEngine } from './engines'

// Rows and checkouts for the order intake's tests on either engine (tests/support/engines.ts):
// raw SQL both engines accept, and holds placed through the runner. lib/checkout is not on
// db/tx.ts yet, so on PostgreSQL a checkout is made here the way it makes one: the cart's
// holds, then a Checkout Session at the Stripe server with the cart's metadata, then the holds
// tagged with it.

let n = 0

/** A product with one variant; the variant's id. */
export async function insertVariantOn(engine: TestEngine, input: { stock?: number; priceCents?: number } = {}): Promise<number> {
  n++
  const now = Date.now()
  const [product] = await engine.rows<{ id: number | string }>(
    sql`INSERT INTO products (slug, title, created_at, updated_at) VALUES (${`intake-${n}-${now}`}, ${`Product ${n}`}, ${now}, ${now}) RETURNING id`,
  )
  const [variant] = await engine.rows<{ id: number | string }>(sql`
    INSERT INTO variants (product_id, sku, title, price_cents, stock, created_at, updated_at)
    VALUES (${Number(product!.id)}, ${`SKU-INTAKE-${n}-${now}`}, 'Default', ${input.priceCents ?? 2500}, ${input.stock ?? 10}, ${now}, ${now}) RETURNING id`)
  return Number(variant!.id)
}

/** A cart with these lines; its id. */
export async function insertCartOn(engine: TestEngine, lines: { variantId: number; quantity: number }[]): Promise<string> {
  const id = `cart-intake-${++n}-${Math.random().toString(36).slice(2)}`
  const now = Date.now()
  // RETURNING: engine.rows reads rows, and SQLite answers only a statement that returns some
  await engine.rows(sql`INSERT INTO carts (id, created_at, updated_at) VALUES (${id}, ${now}, ${now}) RETURNING id`)
  for (const line of lines) await engine.rows(sql`INSERT INTO cart_lines (cart_id, variant_id, quantity) VALUES (${id}, ${line.variantId}, ${line.quantity}) RETURNING id`)
  return id
}

/**
 * A checkout of `lines` from cart `cartId` as lib/checkout starts one (its holds, a session
 * with the cart's metadata, allowing codes, with Stripe Tax when it is on), on either engine;
 * the session's id.
 */
export async function checkoutOn(stripe: Stripe, cartId: string, lines: { variantId: number; quantity: number; priceCents: number }[]): Promise<string> {
  const env = getEnv()
  const expiresAt = Date.now() + (inventory.HOLD_MINUTES * 60 + 360) * 1000
  const holdIds = await transaction((tx, t) => inventory.placingHolds(tx, t, { cartId, expiresAt, lines }))
  const tax = env.isStripeTaxEnabled ? { behavior: env.stripeTaxBehavior, code: env.stripeTaxCode } : null
  const session = await stripe.checkout.sessions.create({
    mode: 'payment',
    line_items: lines.map((l) => ({
      quantity: l.quantity,
      price_data: {
        currency: 'usd',
        unit_amount: l.priceCents,
        ...(tax ? { tax_behavior: tax.behavior } : {}),
        product_data: { name: `Variant ${l.variantId}`, metadata: { variant_id: String(l.variantId) }, ...(tax ? { tax_code: tax.code } : {}) },
      },
    })),
    allow_promotion_codes: true,
    ...(tax ? { automatic_tax: { enabled: true } } : {}),
    metadata: { cart_id: cartId, cart_version: '0' },
    client_reference_id: cartId,
    shipping_address_collection: { allowed_countries: env.shippingCountries as ('US' | 'GB')[] },
    success_url: `${env.appUrl}/checkout/success?session_id={CHECKOUT_SESSION_ID}`,
    cancel_url: `${env.appUrl}/cart`,
  })
  await transaction((tx, t) => inventory.attachingSession(tx, t, holdIds, session.id))
  return session.id
}

/** An order's row as the intake's tests compare it, the same on both engines. */
export async function ordersOn(engine: TestEngine): Promise<{ id: number; sessionId: string; status: string; totalCents: number; refundedCents: number; isDisputed: boolean; stockTakenAt: number | null; paymentIntentId: string | null }[]> {
  const rows = await engine.rows<Record<string, unknown>>(sql`
    SELECT id, stripe_checkout_session_id AS "sessionId", status, total_cents AS "totalCents", refunded_cents AS "refundedCents",
      is_disputed AS "isDisputed", stock_taken_at AS "stockTakenAt", stripe_payment_intent_id AS "paymentIntentId"
    FROM orders ORDER BY id`)
  return rows.map((r) => ({
    id: Number(r.id),
    sessionId: r.sessionId as string,
    status: r.status as string,
    totalCents: Number(r.totalCents),
    refundedCents: Number(r.refundedCents),
    isDisputed: Number(r.isDisputed) === 1,
    stockTakenAt: r.stockTakenAt === null ? null : Number(r.stockTakenAt),
    paymentIntentId: (r.paymentIntentId as string | null) ?? null,
  }))
}

/** A variant's units on the shelf. */
export async function stockOn(engine: TestEngine, variantId: number): Promise<number> {
  return Number((await engine.rows<{ stock: number | string }>(sql`SELECT stock FROM variants WHERE id = ${variantId}`))[0]!.stock)
}
