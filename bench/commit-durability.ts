// What a durable commit costs, as ratios against a baseline in the same process:
//   1. synchronous=FULL vs NORMAL for the same minimal write transaction (WAL mode), and
//   2. recording a whole paid order (orders.applySession: order, lines, stock, holds, cart,
//      email job) vs that minimal FULL commit.
// Run: npm run bench. Numbers are machine-dependent; the ratios are what to compare.
import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { performance } from 'node:perf_hooks'
import { openDatabase, setDb, write } from '@/db'
import { migrate } from '@/db/migrate'
import { healthChecks, products, variants } from '@/db/schema'
import * as orders from '@/lib/orders'
import { checkoutFacts } from '@/lib/payments/stripe'
import { lineItemObject, sessionObject } from '../tests/support/stripe-objects'

const N = Number(process.argv[2] ?? 300)
const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'till-bench-'))
const db = openDatabase(path.join(dir, 'store.sqlite3'))
migrate(db.$client)
setDb(db)

function perOp(label: string, fn: (i: number) => void): number {
  for (let i = 0; i < 20; i++) fn(-1 - i) // warm up
  const start = performance.now()
  for (let i = 0; i < N; i++) fn(i)
  const ms = (performance.now() - start) / N
  console.log(`${label.padEnd(44)} ${ms.toFixed(3)} ms/op`)
  return ms
}

const tinyCommit = (i: number) => write((tx) => tx.insert(healthChecks).values({ id: 'bench', checkedAt: i, pid: 1 }).onConflictDoUpdate({ target: healthChecks.id, set: { checkedAt: i } }).run())

db.$client.pragma('synchronous = NORMAL')
const normal = perOp('minimal commit, synchronous=NORMAL', tinyCommit)
db.$client.pragma('synchronous = FULL')
const full = perOp('minimal commit, synchronous=FULL (baseline)', tinyCommit)

const variant = write((tx) => {
  const p = tx.insert(products).values({ slug: 'bench', title: 'Bench Mug' }).returning().get()
  return tx.insert(variants).values({ productId: p.id, sku: 'BENCH-1', title: 'Default', priceCents: 1500, stock: 10_000_000 }).returning().get()
})
const items = [lineItemObject({ variantId: variant.id, quantity: 2, unitAmount: 1500 }), lineItemObject({ variantId: variant.id, quantity: 1, unitAmount: 1500 })]
const order = perOp('paid order recorded (applySession), FULL', () => write((tx) => orders.applySession(tx, checkoutFacts(sessionObject({ amount_total: 5000 }), items))))
const replay = sessionObject({ amount_total: 5000 })
write((tx) => orders.applySession(tx, checkoutFacts(replay, items)))
const duplicate = perOp('duplicate delivery (finds the order), FULL', () => write((tx) => orders.applySession(tx, checkoutFacts(replay, items))))

console.log('')
console.log(`FULL / NORMAL per commit:           ${(full / normal).toFixed(2)}x`)
console.log(`paid order / minimal FULL commit:   ${(order / full).toFixed(2)}x`)
console.log(`duplicate / minimal FULL commit:    ${(duplicate / full).toFixed(2)}x`)
db.$client.close()
fs.rmSync(dir, { recursive: true, force: true })
