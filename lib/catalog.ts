import { asc, eq, inArray, sql } from 'drizzle-orm'
import { getDb } from '@/db'
import { products, variants } from '@/db/schema'
import * as inventory from './inventory'

// The catalog: what shoppers may see. Only active products are public.

export type ApiVariant = { id: number; sku: string; title: string; priceCents: number; currency: string; available: number }
export type ApiProduct = { id: number; slug: string; title: string; variants: ApiVariant[] }

/** The public catalog for GET /api/products: every active product, available = stock - active holds. */
export function listForApi(): ApiProduct[] {
  const db = getDb()
  const rows = db.select({ id: products.id, slug: products.slug, title: products.title }).from(products).where(eq(products.status, 'active')).orderBy(asc(products.id)).all()
  if (rows.length === 0) return []
  const vs = db
    .select({ id: variants.id, productId: variants.productId, sku: variants.sku, title: variants.title, priceCents: variants.priceCents, currency: variants.currency })
    .from(variants)
    .where(inArray(variants.productId, rows.map((r) => r.id)))
    .orderBy(asc(variants.productId), asc(variants.position), asc(variants.id))
    .all()
  const stock = inventory.available(vs.map((v) => v.id))
  const byProduct = new Map<number, ApiVariant[]>()
  for (const v of vs) {
    const list = byProduct.get(v.productId) ?? []
    list.push({ id: v.id, sku: v.sku, title: v.title, priceCents: v.priceCents, currency: v.currency, available: stock.get(v.id) ?? 0 })
    byProduct.set(v.productId, list)
  }
  return rows.map((r) => ({ ...r, variants: byProduct.get(r.id) ?? [] }))
}

export type HomeProduct = { id: number; slug: string; title: string; minPriceCents: number; currency: string; imagePath: string | null; imageAlt: string }

/** Active products, newest first, with their first image and lowest price. */
export function listForHome(): HomeProduct[] {
  return getDb().all<HomeProduct>(sql`
    SELECT p.id, p.slug, p.title,
      (SELECT min(v.price_cents) FROM variants v WHERE v.product_id = p.id) AS minPriceCents,
      coalesce((SELECT v.currency FROM variants v WHERE v.product_id = p.id LIMIT 1), 'usd') AS currency,
      (SELECT i.path FROM product_images i WHERE i.product_id = p.id ORDER BY i.position LIMIT 1) AS imagePath,
      coalesce((SELECT i.alt FROM product_images i WHERE i.product_id = p.id ORDER BY i.position LIMIT 1), p.title) AS imageAlt
    FROM products p WHERE p.status = 'active' ORDER BY p.created_at DESC, p.id DESC`)
}
