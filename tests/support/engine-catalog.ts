import { sql } from 'drizzle-orm'
import type { TestEngine } from './engines'

// Catalog rows for the tests that run on both engines (tests/support/engines.ts), written with
// raw SQL that each engine renders its way. The SQLite-only factories (factories.ts) write
// through the one SQLite connection and cannot reach a PostgreSQL store.

export const OWNER = { id: 1, email: 'owner@example.com', role: 'owner' as const }
export const STAFF = { id: 2, email: 'sam@example.com', role: 'staff' as const }

/** The owner and a staff member the ledger and the audit log name (ids 1 and 2). */
export async function insertAdmins(engine: TestEngine): Promise<void> {
  await engine.rows(sql`INSERT INTO admin_users (id, email, password_hash, role) VALUES (1, 'owner@example.com', 'unused', 'owner'), (2, 'sam@example.com', 'unused', 'staff') RETURNING id`)
}

let made = 0

type ProductValues = { slug?: string; title?: string; description?: string; status?: string; taxCode?: string | null }

/** A product (active unless said otherwise); its id. */
export async function insertProduct(engine: TestEngine, values: ProductValues = {}): Promise<number> {
  const n = ++made
  const [row] = await engine.rows<{ id: number | string }>(sql`
    INSERT INTO products (slug, title, description, status, tax_code)
    VALUES (${values.slug ?? `product-${n}`}, ${values.title ?? `Product ${n}`}, ${values.description ?? ''}, ${values.status ?? 'active'}, ${values.taxCode ?? null})
    RETURNING id`)
  return Number(row!.id)
}

type VariantValues = { productId?: number; sku?: string; title?: string; priceCents?: number; stock?: number; options?: Record<string, string>; position?: number }

/** A variant (of a new product unless `productId`); its id. */
export async function insertVariant(engine: TestEngine, values: VariantValues = {}): Promise<number> {
  const productId = values.productId ?? (await insertProduct(engine))
  const n = ++made
  const [row] = await engine.rows<{ id: number | string }>(sql`
    INSERT INTO variants (product_id, sku, title, price_cents, stock, options, position)
    VALUES (${productId}, ${values.sku ?? `SKU-${n}`}, ${values.title ?? 'Default'}, ${values.priceCents ?? 2500}, ${values.stock ?? 10}, ${JSON.stringify(values.options ?? {})}, ${values.position ?? 0})
    RETURNING id`)
  return Number(row!.id)
}

/** A collection; its id. */
export async function insertCollection(engine: TestEngine, slug: string, title = slug): Promise<number> {
  const [row] = await engine.rows<{ id: number | string }>(sql`INSERT INTO collections (slug, title) VALUES (${slug}, ${title}) RETURNING id`)
  return Number(row!.id)
}

export async function addToCollection(engine: TestEngine, collectionId: number, productId: number): Promise<void> {
  await engine.rows(sql`INSERT INTO product_collections (collection_id, product_id) VALUES (${collectionId}, ${productId}) RETURNING product_id`)
}

/** A variant's price and stock as the database has them. */
export async function variantOf(engine: TestEngine, id: number): Promise<{ priceCents: number; stock: number }> {
  const [row] = await engine.rows<{ priceCents: number | string; stock: number | string }>(sql`SELECT price_cents AS "priceCents", stock FROM variants WHERE id = ${id}`)
  return { priceCents: Number(row!.priceCents), stock: Number(row!.stock) }
}

export async function setStock(engine: TestEngine, id: number, stock: number): Promise<void> {
  await engine.rows(sql`UPDATE variants SET stock = ${stock} WHERE id = ${id} RETURNING id`)
}

/** Every outcome of `attempts` run at once: how many were made, and the refusals. */
export async function settled<T>(attempts: readonly Promise<T>[]): Promise<{ made: T[]; refused: unknown[] }> {
  const outcomes = await Promise.allSettled(attempts)
  return {
    made: outcomes.flatMap((o) => (o.status === 'fulfilled' ? [o.value] : [])),
    refused: outcomes.flatMap((o) => (o.status === 'rejected' ? [o.reason as unknown] : [])),
  }
}
