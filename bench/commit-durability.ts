// What a durable commit costs, as ratios against a baseline in the same process:
//   1. synchronous=FULL vs NORMAL for the same minimal write transaction (WAL mode), and
//   2. recording a whole paid order (orders.applyingSession: order, lines, stock, holds, cart,
//      email job) vs that minimal FULL commit.
// Part of npm run bench (bench/index.ts); runs on its own too (below). Numbers are
// machine-dependent; the ratios are what to compare.
import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { performance } from 'node:perf_hooks'
import { openDatabase, setDb, write } from '@/db'
import { migrate } from '@/db/migrate'
import { runNow } from '@/db/tx'
import { healthChecks, products, variants } from '@/db/schema'
import { captureLogs } from '@/lib/log'
import * as orders from '@/lib/orders'
import { checkoutFacts } from '@/lib/payments/stripe'
import { lineItemObject, sessionObject } from '../tests/support/stripe-objects'

export type DurabilityFigures = { normalMs: number; fullMs: number; orderMs: number; duplicateMs: number }

/** Per-operation milliseconds, each the mean of `n` runs after 20 to warm up. */
export function commitDurability(n: number, print: (line: string) => void = () => {}): DurabilityFigures {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'till-bench-'))
  const db = openDatabase(path.join(dir, 'store.sqlite3'))
  // Each recorded order logs a line; held here, so the bench's stdout stays the table alone.
  const logs = captureLogs()
  try {
    migrate(db.$client)
    setDb(db)

    const perOp = (label: string, fn: (i: number) => void): number => {
      for (let i = 0; i < 20; i++) fn(-1 - i) // warm up
      const start = performance.now()
      for (let i = 0; i < n; i++) fn(i)
      const ms = (performance.now() - start) / n
      print(`${label.padEnd(44)} ${ms.toFixed(3)} ms/op`)
      return ms
    }

    const tinyCommit = (i: number) => write((tx) => tx.insert(healthChecks).values({ id: 'bench', checkedAt: i, pid: 1 }).onConflictDoUpdate({ target: healthChecks.id, set: { checkedAt: i } }).run())

    db.$client.pragma('synchronous = NORMAL')
    const normalMs = perOp('minimal commit, synchronous=NORMAL', tinyCommit)
    db.$client.pragma('synchronous = FULL')
    const fullMs = perOp('minimal commit, synchronous=FULL (baseline)', tinyCommit)

    const variant = write((tx) => {
      const p = tx.insert(products).values({ slug: 'bench', title: 'Bench Mug' }).returning().get()
      return tx.insert(variants).values({ productId: p.id, sku: 'BENCH-1', title: 'Default', priceCents: 1500, stock: 10_000_000 }).returning().get()
    })
    const items = [lineItemObject({ variantId: variant.id, quantity: 2, unitAmount: 1500 }), lineItemObject({ variantId: variant.id, quantity: 1, unitAmount: 1500 })]
    // A session of this store's own Checkout (its cart named): any other is not an order at all,
    // and applyingSession would only look it up.
    const storeSession = () => sessionObject({ amount_total: 5000, metadata: { cart_id: 'bench-cart' } })
    const orderMs = perOp('paid order recorded (applyingSession), FULL', () => write((tx) => runNow(tx, (w, t) => orders.applyingSession(w, t, checkoutFacts(storeSession(), items)))))
    const replay = storeSession()
    write((tx) => runNow(tx, (w, t) => orders.applyingSession(w, t, checkoutFacts(replay, items))))
    const duplicateMs = perOp('duplicate delivery (finds the order), FULL', () => write((tx) => runNow(tx, (w, t) => orders.applyingSession(w, t, checkoutFacts(replay, items)))))
    return { normalMs, fullMs, orderMs, duplicateMs }
  } finally {
    logs.stop()
    setDb(undefined)
    db.$client.close()
    fs.rmSync(dir, { recursive: true, force: true })
  }
}

// Run on its own: npx tsx --conditions=react-server bench/commit-durability.ts [n]
if (require.main === module) {
  const f = commitDurability(Number(process.argv[2] ?? 300), console.log)
  console.log('')
  console.log(`FULL / NORMAL per commit:           ${(f.fullMs / f.normalMs).toFixed(2)}x`)
  console.log(`paid order / minimal FULL commit:   ${(f.orderMs / f.fullMs).toFixed(2)}x`)
  console.log(`duplicate / minimal FULL commit:    ${(f.duplicateMs / f.fullMs).toFixed(2)}x`)
}
