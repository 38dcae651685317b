import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import type Database from 'better-sqlite3'
import { expect, inject } from 'vitest'
import { openDatabase, STORE_FILE } from '@/db'
import { seedDemo } from '@/demo/seed'

// A SQLite store with the demo catalog and as many paid orders as a test asks for: what the
// PostgreSQL tests move into a server of their own (db/pg/move.ts) before working on it.

/** A migrated store with the demo catalog in its own STORAGE_DIR (the caller removes `dir`), its connection left open as a running store's would be. */
export function demoStore(): { dir: string; file: string; sqlite: Database.Database } {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'till-move-'))
  const file = path.join(dir, STORE_FILE)
  fs.copyFileSync(inject('templateDb'), file)
  const db = openDatabase(file)
  expect(seedDemo(db, dir)).not.toBeNull()
  return { dir, file, sqlite: db.$client }
}

/** `count` paid orders with 1–3 lines each, written in one transaction with plain SQL. */
export function addOrders(sqlite: Database.Database, count: number, firstCreatedAt = 1_764_000_000_000): void {
  const variants = sqlite.prepare('SELECT id, sku, price_cents AS priceCents FROM variants ORDER BY id').all() as { id: number; sku: string; priceCents: number }[]
  const order = sqlite.prepare(
    `INSERT INTO orders (stripe_checkout_session_id, public_token, status, total_cents, subtotal_cents, currency, email, discount_codes, is_oversold, paid_at, created_at, updated_at)
     VALUES (?, ?, 'paid', ?, ?, 'usd', ?, ?, ?, ?, ?, ?)`,
  )
  const line = sqlite.prepare('INSERT INTO order_lines (order_id, variant_id, sku, title, quantity, unit_amount_cents, total_cents) VALUES (?, ?, ?, ?, ?, ?, ?)')
  sqlite.transaction(() => {
    const start = (sqlite.prepare('SELECT count(*) AS n FROM orders').get() as { n: number }).n
    for (let i = 0; i < count; i++) {
      const n = start + i
      const lines = Array.from({ length: 1 + (n % 3) }, (_, k) => ({ variant: variants[(n + k * 7) % variants.length]!, quantity: 1 + ((n + k) % 4) }))
      const total = lines.reduce((sum, l) => sum + l.variant.priceCents * l.quantity, 0)
      const at = firstCreatedAt + n * 60_000
      const { lastInsertRowid } = order.run(`cs_test_${n}`, `token_${n}`, total, total, `buyer${n}@example.com`, n % 5 === 0 ? '["SPRING10"]' : '[]', n % 97 === 0 ? 1 : 0, at, at, at)
      for (const l of lines) line.run(lastInsertRowid, l.variant.id, l.variant.sku, `Line of ${n}`, l.quantity, l.variant.priceCents, l.variant.priceCents * l.quantity)
    }
  }).immediate()
}
