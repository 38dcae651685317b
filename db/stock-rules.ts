// The rule of "available", as SQLite's text: units on the shelf less the active, unexpired
// holds, never below zero. lib/inventory.ts owns the rule and builds its queries from this; it
// lives in db/ because db/catalog-changes.ts's recording statement needs it too, and db/
// imports nothing from lib/. Reads on both engines (inventory's and the cart's) select
// unheldSqlText and take the floor in JavaScript. PostgreSQL's text of the same rule (greatest() for SQLite's two-argument max()) is
// in db/pg/changes.ts.

/**
 * "Available" over a `variants` row aliased `alias`. `now` is a parameter name (`@now`) for
 * prepared statements or a literal; `exceptCart` leaves one cart's own holds out (a cart never
 * competes with itself).
 */
export function availableSqlText(options: { alias?: string; now?: string; exceptCart?: string } = {}): string {
  return `max(${unheldSqlText(options)}, 0)`
}

/**
 * The same before the floor at zero (below zero when holds outlast a stock cut): text both
 * engines accept, for a rule that compares it with a positive quantity, where the floor
 * changes nothing.
 */
export function unheldSqlText({ alias = 'v', now = '@now', exceptCart }: { alias?: string; now?: string; exceptCart?: string } = {}): string {
  const ownHolds = exceptCart ? ` AND (h.cart_id IS NULL OR h.cart_id != ${exceptCart})` : ''
  return `${alias}.stock - coalesce((SELECT sum(h.quantity) FROM stock_holds h
    WHERE h.variant_id = ${alias}.id AND h.status = 'active' AND h.expires_at > ${now}${ownHolds}), 0)`
}

/** Per product (those `where` keeps): units available, and how many variants have none, at @now. */
export function soldOutSqlText(where = ''): string {
  const available = availableSqlText({ alias: 'v', now: '@now' })
  return `SELECT v.product_id, coalesce(sum(${available}), 0) AS available, sum(${available} = 0) AS gone FROM variants v ${where} GROUP BY v.product_id`
}
