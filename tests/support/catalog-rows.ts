import { write } from '@/db'
import { carts, cartLines, products, variants } from '@/db/schema'

// Minimal rows for lib-level tests that do not need the full factories.
let n = 0

export function insertVariant(overrides: { stock?: number; priceCents?: number } = {}): { productId: number; variantId: number } {
  n++
  return write((tx) => {
    const product = tx.insert(products).values({ slug: `p-${n}-${Date.now()}`, title: `Product ${n}` }).returning({ id: products.id }).get()
    const variant = tx
      .insert(variants)
      .values({ productId: product.id, sku: `SKU-${n}-${Date.now()}`, title: 'Default', priceCents: overrides.priceCents ?? 2500, stock: overrides.stock ?? 10 })
      .returning({ id: variants.id })
      .get()
    return { productId: product.id, variantId: variant.id }
  })
}

export function insertCart(lines: { variantId: number; quantity: number }[]): string {
  const id = `cart-${++n}-${Math.random().toString(36).slice(2)}`
  write((tx) => {
    tx.insert(carts).values({ id }).run()
    for (const line of lines) tx.insert(cartLines).values({ cartId: id, ...line }).run()
  })
  return id
}
