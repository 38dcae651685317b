// What moving checkout (lib/checkout.ts `start`) onto db/tx.ts costs on SQLite, in this
// process's CPU time per checkout (other processes on a busy machine do not inflate it): the
// database's part of one start, which is all that changed (Stripe's calls between the
// transactions are the same either way, and take milliseconds over the network). One checkout
// of a cart of two lines: abandon's look for open sessions, the reservation (the cart, its
// lines, the release of untagged holds, a hold per line, whether it ships), the tagging of the
// holds with the session, and the release of the session's holds (as the next abandon does),
// so every checkout starts from the same rows. "before" is the code as it was before the move,
// kept here as the baseline: synchronous bodies in write() calling inventory's synchronous
// names. "after" is checkout's own steps (`reserving`, `attaching`) through transaction() and
// read(), awaited. Rounds alternate the two, best of 10 rounds each. The figures are in
// docs/decisions/047-generator-transactions.md.
// Run: npx tsx --conditions=react-server bench/checkout-start.ts [n]
import os from 'node:os'
import { and, asc, eq, inArray } from 'drizzle-orm'
import { write } from '@/db'
import { cartLines, carts, productFiles, products, variants } from '@/db/schema'
import { read, readNow, transaction } from '@/db/tx'
import { itemLabel } from '@/lib/catalog'
import * as checkout from '@/lib/checkout'
import { CartEmpty, CheckoutOpen, NotFound } from '@/lib/errors'
import * as inventory from '@/lib/inventory'
import { cpuUs, withScratchStore } from './lib/scratch-store'

const ROUNDS = 10
const CART = 'bench-cart'

const visitor = { clientKey: null, maxSharePercent: 100 }

/** The reservation, attach and release as they were before the move (lib/checkout.ts at the commit before it). */
function before(sessionId: string): number {
  readNow((db, t) => inventory.openSessionsIn(db, t, CART))
  const expiresAt = Date.now() + 60_000
  const reserved = write((tx) => {
    const cart = tx.select().from(carts).where(eq(carts.id, CART)).get()
    if (!cart || cart.status === 'converted') throw new NotFound('Your cart')
    const lines = tx
      .select({
        variantId: cartLines.variantId,
        productId: variants.productId,
        quantity: cartLines.quantity,
        priceCents: variants.priceCents,
        currency: variants.currency,
        title: products.title,
        variantTitle: variants.title,
        sku: variants.sku,
        description: products.description,
        taxCode: products.taxCode,
      })
      .from(cartLines)
      .innerJoin(variants, eq(variants.id, cartLines.variantId))
      .innerJoin(products, and(eq(products.id, variants.productId), eq(products.status, 'active')))
      .where(eq(cartLines.cartId, CART))
      .orderBy(asc(cartLines.id))
      .all()
    if (lines.length === 0) throw new CartEmpty()
    if (readNow((db, t) => inventory.openSessionsIn(db, t, CART)).length > 0) throw new CheckoutOpen('open')
    inventory.releaseUnboundForCart(tx, CART)
    const holdIds = inventory.placeHolds(tx, { cartId: CART, expiresAt, visitor, lines: lines.map((l) => ({ variantId: l.variantId, quantity: l.quantity, label: itemLabel(l.title, l.variantTitle) })) })
    const wanted = [...new Set(lines.map((l) => l.productId))]
    const isShipped = tx.select({ id: productFiles.productId }).from(productFiles).where(inArray(productFiles.productId, wanted)).all().length !== wanted.length
    return { version: cart.version, holdIds, isShipped, lines }
  })
  const attached = write((tx) => inventory.attachSession(tx, reserved.holdIds, sessionId))
  write((tx) => inventory.releaseForSession(tx, sessionId))
  return attached
}

/** The same through the runner, as checkout.start and abandon now do it. */
async function after(sessionId: string): Promise<number> {
  await read((db, t) => inventory.openSessionsIn(db, t, CART))
  const reserved = await transaction((tx, t) => checkout.reserving(tx, t, CART, Date.now() + 60_000, visitor))
  const attached = await transaction((tx, t) => checkout.attaching(tx, t, CART, reserved.holdIds, sessionId))
  await transaction((tx, t) => inventory.releasingForSession(tx, t, sessionId))
  return attached
}

async function main(n: number) {
  await withScratchStore({ fsyncOff: true }, async () => {
    write((tx) => {
      tx.insert(carts).values({ id: CART }).run()
      for (const k of [1, 2]) {
        const product = tx.insert(products).values({ slug: `bench-${k}`, title: `Bench ${k}`, description: 'A mug.' }).returning({ id: products.id }).get()
        const variant = tx.insert(variants).values({ productId: product.id, sku: `BENCH-${k}`, title: 'Blue', priceCents: 1250, stock: 1_000_000_000 }).returning({ id: variants.id }).get()
        tx.insert(cartLines).values({ cartId: CART, variantId: variant.id, quantity: k }).run()
      }
    })
    let session = 0
    // both paths give the same answer before anything is timed
    if (before(`cs_bench_${session++}`) !== 2 || (await after(`cs_bench_${session++}`)) !== 2) throw new Error('bench: a checkout did not tag its two holds')
    for (let i = 0; i < 50; i++) {
      before(`cs_bench_${session++}`)
      await after(`cs_bench_${session++}`)
    }
    let beforeUs = Infinity
    let afterUs = Infinity
    const perRound = Math.ceil(n / ROUNDS)
    for (let round = 0; round < ROUNDS; round++) {
      let cpu = process.cpuUsage()
      for (let i = 0; i < perRound; i++) before(`cs_bench_${session++}`)
      beforeUs = Math.min(beforeUs, cpuUs(cpu) / perRound)
      cpu = process.cpuUsage()
      for (let i = 0; i < perRound; i++) await after(`cs_bench_${session++}`)
      afterUs = Math.min(afterUs, cpuUs(cpu) / perRound)
    }
    console.log(`load ${os.loadavg()[0]!.toFixed(1)}  cpu per checkout (database part), best of ${ROUNDS}: before ${beforeUs.toFixed(1)} µs, after ${afterUs.toFixed(1)} µs, after/before ${(afterUs / beforeUs).toFixed(2)}x`)
  })
}

void main(Number(process.argv[2] ?? 3000))
