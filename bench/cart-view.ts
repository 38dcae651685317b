// What moving the cart view (lib/cart.ts `load`, run by every render of an existing cart)
// onto db/tx.ts's prepared steps costs on SQLite, in this process's CPU time per call (other
// processes on a busy machine do not inflate it). "before" is the view as it was read before
// the move, kept here as the baseline: two better-sqlite3 statements prepared once, called
// directly, availability floored by SQLite's max(). "after" is `cart.load`, awaited: the same
// two reads as prepared steps through read(), floored in JavaScript. Rounds alternate the two,
// best of 10 rounds each, on a cart of three lines with pictures. The figures are in
// docs/decisions/047-generator-transactions.md.
// Run: npx tsx --conditions=react-server bench/cart-view.ts [n]
import os from 'node:os'
import { write } from '@/db'
import { availableSqlText } from '@/db/stock-rules'
import { productImages, products, stockHolds, variants } from '@/db/schema'
import * as cart from '@/lib/cart'
import { itemLabel, parseOptions } from '@/lib/catalog'
import { cpuUs, withScratchStore } from './lib/scratch-store'

const ROUNDS = 10

type Row = { variantId: number; quantity: number; productTitle: string; variantTitle: string; options: string; priceCents: number; productStatus: string; available: number }

async function main(n: number) {
  await withScratchStore({ fsyncOff: false }, async (db) => {
    const cartId = await cart.create()
    for (let i = 0; i < 3; i++) {
      const variantId = write((tx) => {
        const product = tx.insert(products).values({ slug: `bench-${i}`, title: `Bench ${i}` }).returning({ id: products.id }).get()
        tx.insert(productImages).values({ productId: product.id, path: `bench-${i}.jpg`, alt: 'A bench', position: 0 }).run()
        return tx.insert(variants).values({ productId: product.id, sku: `BENCH-${i}`, title: 'Oak', options: { wood: 'oak' }, priceCents: 1000 + i, stock: 50 }).returning({ id: variants.id }).get().id
      })
      // another cart's hold, so availability has something to subtract
      write((tx) => tx.insert(stockHolds).values({ variantId, quantity: 1, expiresAt: Date.now() + 3_600_000 }).run())
      await cart.add(cartId, variantId, 2)
    }

    // before: the two statements as the cart prepared them, called directly
    const client = db.$client
    const cartRow = client.prepare(`SELECT id, version, status FROM carts WHERE id = ?`)
    const lineRows = client.prepare(`
      SELECT cl.variant_id AS variantId, cl.quantity, v.product_id AS productId, p.slug AS productSlug, p.title AS productTitle,
        v.title AS variantTitle, v.sku, v.options, v.price_cents AS priceCents, v.currency, p.status AS productStatus,
        ${availableSqlText({ exceptCart: '@cartId' })} AS available,
        coalesce((SELECT i.path FROM product_images i WHERE i.id = v.image_id),
          (SELECT i.path FROM product_images i WHERE i.product_id = p.id ORDER BY i.position, i.id LIMIT 1)) AS imagePath,
        coalesce(nullif((SELECT i.alt FROM product_images i WHERE i.id = v.image_id), ''), p.title) AS imageAlt
      FROM cart_lines cl JOIN variants v ON v.id = cl.variant_id JOIN products p ON p.id = v.product_id
      WHERE cl.cart_id = @cartId ORDER BY cl.id`)
    const before = () => {
      const row = cartRow.get(cartId) as { id: string; version: number; status: string } | undefined
      if (!row) throw new Error('bench: no cart')
      const lines = (lineRows.all({ cartId, now: Date.now() }) as Row[]).map((r) => ({
        ...r,
        available: r.productStatus === 'active' ? r.available : 0,
        label: itemLabel(r.productTitle, r.variantTitle),
        options: parseOptions(r.options),
        lineTotalCents: r.priceCents * r.quantity,
      }))
      return { ...row, lines, subtotalCents: lines.reduce((sum, l) => sum + l.lineTotalCents, 0) }
    }
    const after = () => cart.load(cartId)

    if (before().subtotalCents !== (await after())!.subtotalCents) throw new Error('bench: the two views differ')
    const perRound = Math.ceil(n / ROUNDS)
    let beforeUs = Infinity
    let afterUs = Infinity
    for (let i = 0; i < 200; i++) {
      before()
      await after()
    }
    for (let round = 0; round < ROUNDS; round++) {
      let cpu = process.cpuUsage()
      for (let i = 0; i < perRound; i++) before()
      beforeUs = Math.min(beforeUs, cpuUs(cpu) / perRound)
      cpu = process.cpuUsage()
      for (let i = 0; i < perRound; i++) await after()
      afterUs = Math.min(afterUs, cpuUs(cpu) / perRound)
    }
    console.log(
      `load ${os.loadavg()[0]!.toFixed(1)}  cart view (3 lines), cpu per call, best of ${ROUNDS} rounds of ${perRound}: before ${beforeUs.toFixed(1)} µs, after ${afterUs.toFixed(1)} µs (${(afterUs / beforeUs).toFixed(2)}x)`,
    )
  })
}

void main(Number(process.argv[2] ?? 5000))
