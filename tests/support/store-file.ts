import path from 'node:path'
import Database from 'better-sqlite3'

// A test's own connection to a running server's database: SQLite's locking makes a second
// process safe, exactly like the blue and green releases during a deploy.
export function openStore(storageDir: string): Database.Database {
  const sqlite = new Database(path.join(storageDir, 'store.sqlite3'))
  sqlite.pragma('busy_timeout = 5000')
  sqlite.pragma('foreign_keys = ON')
  return sqlite
}

export function makeCart(sqlite: Database.Database, lines: { variantId: number; quantity: number }[]): string {
  const id = `t${Math.random().toString(36).slice(2)}${Math.random().toString(36).slice(2)}`.padEnd(43, '0')
  const tx = sqlite.transaction(() => {
    sqlite.prepare('INSERT INTO carts (id) VALUES (?)').run(id)
    for (const l of lines) sqlite.prepare('INSERT INTO cart_lines (cart_id, variant_id, quantity) VALUES (?, ?, ?)').run(id, l.variantId, l.quantity)
  })
  tx.immediate()
  return id
}

export function someVariant(sqlite: Database.Database): { id: number; priceCents: number; productId: number } {
  return sqlite
    .prepare(`SELECT v.id, v.price_cents AS priceCents, v.product_id AS productId FROM variants v JOIN products p ON p.id = v.product_id WHERE p.status = 'active' AND v.stock > 0 ORDER BY v.id LIMIT 1`)
    .get() as { id: number; priceCents: number; productId: number }
}
