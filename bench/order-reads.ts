// What reading an order through db/tx.ts's runner costs on SQLite: orders.findById (the admin
// order page's, the email jobs' and the refund's read: the order, then its lines) against the
// same two queries as they were read before, synchronously on the connection, kept here
// verbatim. 200 orders of 3 lines; the two alternate in 10 rounds in one process; this
// process's CPU time per call, which other processes on a busy machine do not inflate. The
// figures are in docs/decisions/047-generator-transactions.md.
// Run: npx tsx --conditions=react-server bench/order-reads.ts [n]
import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { asc, eq } from 'drizzle-orm'
import { getDb, openDatabase, setDb } from '@/db'
import { migrate } from '@/db/migrate'
import { orderLines, orders as ordersTable } from '@/db/schema'
import * as orders from '@/lib/orders'

/** The read as it was before the runner: two builder queries on the connection, synchronously. */
function before(id: number) {
  const order = getDb().select().from(ordersTable).where(eq(ordersTable.id, id)).get()
  if (!order) return null
  return { ...order, lines: getDb().select().from(orderLines).where(eq(orderLines.orderId, order.id)).orderBy(asc(orderLines.id)).all() }
}

const n = Number(process.argv[2] ?? 3000)
const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'till-bench-'))
const db = openDatabase(path.join(dir, 'store.sqlite3'))
migrate(db.$client)
setDb(db)
const c = db.$client
for (let i = 0; i < 200; i++) {
  const id = Number(c.prepare(`INSERT INTO orders (stripe_checkout_session_id, public_token, status, total_cents, subtotal_cents, currency, email, created_at, updated_at) VALUES (?, ?, 'paid', 9900, 9900, 'usd', 'a@example.com', 1, 1)`).run(`cs_${i}`, `token_${i}_abcdefghijklmnopqrst`).lastInsertRowid)
  for (let l = 0; l < 3; l++) c.prepare(`INSERT INTO order_lines (order_id, title, quantity, unit_amount_cents, total_cents) VALUES (?, 'Mug', 1, 3300, 3300)`).run(id)
}
const cpuMs = (since: NodeJS.CpuUsage) => {
  const used = process.cpuUsage(since)
  return (used.user + used.system) / 1000
}
async function main() {
  let beforeMs = 0
  let runnerMs = 0
  // warm both paths (statements, the JIT) before timing
  for (let i = 0; i < 200; i++) {
    before(1 + i)
    await orders.findById(1 + i)
  }
  const per = Math.ceil(n / 10)
  for (let round = 0; round < 10; round++) {
    let since = process.cpuUsage()
    for (let i = 0; i < per; i++) before(1 + (i % 200))
    beforeMs += cpuMs(since)
    since = process.cpuUsage()
    for (let i = 0; i < per; i++) await orders.findById(1 + (i % 200))
    runnerMs += cpuMs(since)
  }
  console.log(`findById, ${n} calls each: before ${((beforeMs / n) * 1000).toFixed(1)} µs CPU, through read() ${((runnerMs / n) * 1000).toFixed(1)} µs CPU, ${(runnerMs / beforeMs).toFixed(2)}x`)
  fs.rmSync(dir, { recursive: true, force: true })
}
void main()
