import { sql } from 'drizzle-orm'
import { sqlAll, type Steps } from './tx'

/**
 * How many paid orders used each discount code, the code lower-cased (Stripe compares codes
 * without case): a read step. The codes are a JSON array on the order, taken apart by each
 * engine's own function (SQLite's json_each, PostgreSQL's json_array_elements_text); the
 * counts come back as numbers on both.
 */
export function* paidOrdersByCode(): Steps<{ code: string; n: number }[]> {
  const rows = yield* sqlAll<{ code: string; n: number | string }>({
    sqlite: sql`
      SELECT lower(code.value) AS code, count(*) AS n
      FROM orders, json_each(orders.discount_codes) AS code
      WHERE orders.paid_at IS NOT NULL
      GROUP BY lower(code.value)`,
    postgres: sql`
      SELECT lower(code) AS code, count(*) AS n
      FROM orders, json_array_elements_text(orders.discount_codes) AS code
      WHERE orders.paid_at IS NOT NULL
      GROUP BY lower(code)`,
  })
  return rows.map((r) => ({ code: r.code, n: Number(r.n) }))
}
