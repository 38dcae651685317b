// What moving lib/inventory.ts and lib/cache.ts's marks onto db/tx.ts costs on SQLite's hot
// paths, in this process's CPU time per round (other processes on a busy machine do not
// inflate it): a checkout's hold and its release (placeHolds, releaseHolds, each in its own
// write(), as checkout calls them), and a paid order's stock (a hold attached to its session,
// then committingSale with its release and its mark, as order intake calls it). Uses only
// the synchronous names, which exist before and after the move, so the same file measures
// both. Rounds alternate hold/release and sale, best of 10 rounds each, then one mark alone (wall
// time inside one transaction, best of 10 rounds); the committingSale write
// is also timed alone (CPU time has a granularity of a few µs per sample, so its figure is coarser). The figures are in
// docs/decisions/047-generator-transactions.md.
// Run: npx tsx --conditions=react-server bench/inventory-steps.ts [n]
import os from 'node:os'
import { performance } from 'node:perf_hooks'
import { write } from '@/db'
import { runNow } from '@/db/tx'
import { carts, products, variants } from '@/db/schema'
import * as cache from '@/lib/cache'
import * as inventory from '@/lib/inventory'
import { cpuUs, withScratchStore } from './lib/scratch-store'

const ROUNDS = 10

async function main(n: number) {
  await withScratchStore({ fsyncOff: true }, async () => {
    const { variantId } = write((tx) => {
      const product = tx.insert(products).values({ slug: 'bench', title: 'Bench' }).returning({ id: products.id }).get()
      // a second variant, so the product's sold-out row has something to add up
      tx.insert(variants).values({ productId: product.id, sku: 'BENCH-2', title: 'Other', priceCents: 100, stock: 5 }).run()
      return { variantId: tx.insert(variants).values({ productId: product.id, sku: 'BENCH-1', title: 'One', priceCents: 100, stock: 1_000_000_000 }).returning({ id: variants.id }).get().id }
    })
    write((tx) => tx.insert(carts).values({ id: 'bench-cart' }).run())
    const lines = [{ variantId, quantity: 1 }]
    let sale = 0
    const holdAndRelease = () => {
      const ids = write((tx) => inventory.placeHolds(tx, { cartId: 'bench-cart', lines, expiresAt: Date.now() + 60_000 }))
      write((tx) => inventory.releaseHolds(tx, ids))
    }
    // CPU of the committingSale writes alone, added up by sell()
    let commitUs = 0
    const sell = () => {
      const sessionId = `cs_bench_${sale++}`
      const ids = write((tx) => inventory.placeHolds(tx, { cartId: 'bench-cart', lines, expiresAt: Date.now() + 60_000 }))
      write((tx) => inventory.attachSession(tx, ids, sessionId))
      const cpu = process.cpuUsage()
      write((tx) => runNow(tx, (w, t) => inventory.committingSale(w, t, sessionId, null, lines)))
      commitUs += cpuUs(cpu)
    }
    for (let i = 0; i < 50; i++) {
      holdAndRelease()
      sell()
    }
    let holdUs = Infinity
    let saleUs = Infinity
    let commitSaleUs = Infinity
    const perRound = Math.ceil(n / ROUNDS)
    for (let round = 0; round < ROUNDS; round++) {
      let cpu = process.cpuUsage()
      for (let i = 0; i < perRound; i++) holdAndRelease()
      holdUs = Math.min(holdUs, cpuUs(cpu) / perRound)
      cpu = process.cpuUsage()
      commitUs = 0
      for (let i = 0; i < perRound; i++) sell()
      saleUs = Math.min(saleUs, cpuUs(cpu) / perRound)
      commitSaleUs = Math.min(commitSaleUs, commitUs / perRound)
    }
    // One mark alone, inside one write() (no commit to hide it): the statement every sale,
    // hold and release runs, through the runner's native step after the move.
    let markUs = Infinity
    write((tx) => {
      for (let round = 0; round < ROUNDS; round++) {
        const start = performance.now()
        for (let i = 0; i < perRound; i++) runNow(tx, (w, t) => cache.markingStockChanged(w, t, [variantId]))
        markUs = Math.min(markUs, ((performance.now() - start) * 1000) / perRound)
      }
    })
    console.log(`load ${os.loadavg()[0]!.toFixed(1)}  cpu per round, best of ${ROUNDS}: hold + release ${holdUs.toFixed(1)} µs;  hold + attach + committingSale ${saleUs.toFixed(1)} µs, of which committingSale ${commitSaleUs.toFixed(1)} µs; one mark ${markUs.toFixed(1)} µs`)
  })
}

void main(Number(process.argv[2] ?? 3000))
