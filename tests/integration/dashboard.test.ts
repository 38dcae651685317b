import { sql } from 'drizzle-orm'
import { describe, expect, it } from 'vitest'
import * as dashboard from '@/lib/dashboard'
import * as products from '@/lib/products'
import { ENGINES, useEngine, type TestEngine } from '../support/engines'

// Every figure of the owner's dashboard (lib/dashboard.ts), on both engines, checked against
// the rows: revenue, orders and the average per period, the daily series, the best sellers,
// low stock with its held units, oversold orders, webhook health, the last reconcile run and
// the job counts. The expected values are computed here in SQL, apart from the code under test.

const DAY = 24 * 3600 * 1000
const SOLD = sql.raw(`status IN ('paid', 'fulfilled', 'partially_refunded', 'refunded')`)

async function id(engine: TestEngine, query: ReturnType<typeof sql>): Promise<number> {
  const [row] = await engine.rows<{ id: number | string }>(query)
  return Number(row!.id)
}

async function seed(engine: TestEngine, now: number) {
  const orders: [string, number, number, number, boolean][] = [
    // status, total, refunded, age in days, oversold
    ['paid', 4100, 1000, 0, false],
    ['fulfilled', 2000, 0, 3, false],
    ['partially_refunded', 4200, 700, 10, true],
    ['refunded', 3100, 3100, 2, false],
    ['canceled', 9900, 0, 2, true],
    ['payment_failed', 9999, 0, 1, false],
    ['paid', 1234, 0, 40, true],
    ['paid', 1554, 0, 0, true],
  ]
  const lines: [number, string, number, number][] = [
    // order index, title, quantity, total
    [0, 'Mug', 2, 4100],
    [1, 'Tote', 1, 2000],
    [2, 'Mug', 1, 4200],
    [3, 'Cap', 3, 3100],
    [4, 'Mug', 9, 9900],
    [6, 'Tote', 7, 1234],
    [7, 'Pin', 2, 777],
    [7, 'Sock', 2, 777],
  ]
  const ids: number[] = []
  for (const [i, [status, total, refunded, age, isOversold]] of orders.entries()) {
    const at = now - age * DAY - 1000
    ids.push(
      await id(
        engine,
        sql`INSERT INTO orders (stripe_checkout_session_id, public_token, status, total_cents, subtotal_cents, refunded_cents, currency, email, is_oversold, created_at, updated_at)
            VALUES (${`cs_dash_${i}`}, ${`token_dash_${i}_abcdefghijklmnopqrstuv`}, ${status}, ${total}, ${total}, ${refunded}, 'usd', 'shopper@example.com', ${isOversold ? 1 : 0}, ${at}, ${at}) RETURNING id`,
      ),
    )
  }
  for (const [order, title, quantity, total] of lines) {
    await engine.rows(sql`INSERT INTO order_lines (order_id, title, quantity, unit_amount_cents, total_cents) VALUES (${ids[order]!}, ${title}, ${quantity}, ${Math.round(total / quantity)}, ${total}) RETURNING id`)
  }
  const product = async (slug: string, status: string) => id(engine, sql`INSERT INTO products (slug, title, status) VALUES (${slug}, ${slug}, ${status}) RETURNING id`)
  const variant = async (productId: number, sku: string, stock: number) =>
    id(engine, sql`INSERT INTO variants (product_id, sku, title, price_cents, stock) VALUES (${productId}, ${sku}, ${sku}, 1000, ${stock}) RETURNING id`)
  const shirts = await product('shirts', 'active')
  const drafts = await product('drafts', 'draft')
  const low = await variant(shirts, 'SHIRT-S', 1)
  await variant(shirts, 'SHIRT-M', 3)
  await variant(shirts, 'SHIRT-L', 4)
  await variant(drafts, 'DRAFT-1', 0)
  await engine.rows(sql`INSERT INTO stock_holds (variant_id, quantity, status, expires_at) VALUES (${low}, 1, 'active', ${now + 60_000}), (${low}, 5, 'released', ${now + 60_000}) RETURNING id`)
  await engine.rows(sql`
    INSERT INTO stripe_events (id, type, received_at, processed_at, error) VALUES
      ('evt_ok', 'checkout.session.completed', ${now - 5000}, ${now - 5000}, NULL),
      ('evt_bad', 'charge.refunded', ${now - 3000}, NULL, 'no such order'),
      ('evt_old_bad', 'charge.refunded', ${now - 2 * DAY}, NULL, 'no such order')
    RETURNING id`)
  await engine.rows(sql`INSERT INTO reconcile_runs (started_at, finished_at, events_seen) VALUES (${now - 9000}, ${now - 8000}, 3), (${now - 7000}, ${now - 6000}, 4) RETURNING id`)
  await engine.rows(sql`INSERT INTO jobs (kind, payload, run_at, status) VALUES ('a', '{}', ${now}, 'queued'), ('b', '{}', ${now}, 'failed'), ('c', '{}', ${now}, 'queued') RETURNING id`)
}

describe.each(ENGINES)('the dashboard on %s', (name) => {
  const engine = useEngine(name)

  it('shows every figure as the database holds it', async () => {
    const now = Date.now()
    await seed(engine, now)
    const view = await dashboard.overview(now)
    const today = dashboard.startOfUtcDay(now)
    for (const [label, since] of [['Today', today], ['Last 7 days', today - 6 * DAY], ['Last 30 days', today - 29 * DAY]] as const) {
      const [db] = await engine.rows<{ revenue: number | string | null; n: number | string }>(
        sql`SELECT sum(total_cents - refunded_cents) AS revenue, count(*) AS n FROM orders WHERE ${SOLD} AND created_at >= ${since}`,
      )
      const revenue = Number(db!.revenue ?? 0)
      const n = Number(db!.n)
      expect(view.periods.find((p) => p.label === label)).toEqual({ label, revenueCents: revenue, orders: n, averageCents: n ? Math.round(revenue / n) : 0 })
    }
    expect(view.periods.map((p) => p.orders)).not.toEqual([0, 0, 0])
    for (const point of view.series) {
      const [db] = await engine.rows<{ revenue: number | string | null; n: number | string }>(
        sql`SELECT sum(total_cents - refunded_cents) AS revenue, count(*) AS n FROM orders WHERE ${SOLD} AND created_at >= ${point.day} AND created_at < ${point.day + DAY}`,
      )
      expect([point.revenueCents, point.orders]).toEqual([Number(db!.revenue ?? 0), Number(db!.n)])
    }
    expect(view.series).toHaveLength(30)
    const top = await engine.rows<{ title: string; units: number | string; revenue: number | string }>(sql`
      SELECT l.title AS title, sum(l.quantity) AS units, sum(l.total_cents) AS revenue FROM order_lines l JOIN orders o ON o.id = l.order_id
      WHERE o.${SOLD} AND o.created_at >= ${today - 29 * DAY} GROUP BY l.title`)
    const expected = top.map((r) => ({ title: r.title, units: Number(r.units), revenue: Number(r.revenue) })).sort((a, b) => b.units - a.units || b.revenue - a.revenue || (a.title < b.title ? -1 : 1))
    expect(view.topProducts).toEqual(expected.slice(0, 5))
    // Mug and Cap tie on units, the revenue orders them; Pin and Sock tie on both, the title does
    expect(view.topProducts.map((p) => p.title)).toEqual(['Mug', 'Cap', 'Pin', 'Sock', 'Tote'])

    const low = await engine.rows<{ id: number | string; stock: number | string; held: number | string }>(sql`
      SELECT v.id AS id, v.stock AS stock,
        (SELECT coalesce(sum(quantity), 0) FROM stock_holds h WHERE h.variant_id = v.id AND h.status = 'active' AND h.expires_at > ${now}) AS held
      FROM variants v JOIN products p ON p.id = v.product_id WHERE v.stock <= ${products.LOW_STOCK} AND p.status = 'active' ORDER BY v.stock, v.id`)
    expect(view.lowStock.map((v) => [v.id, v.stock, v.held])).toEqual(low.map((r) => [Number(r.id), Number(r.stock), Number(r.held)]))
    expect(view.lowStock.map((v) => [v.sku, v.held])).toEqual([
      ['SHIRT-S', 1],
      ['SHIRT-M', 0],
    ])

    const health = await dashboard.status(now)
    expect(health.oversold).toBe(await engine.count(sql`SELECT count(*) AS n FROM orders WHERE is_oversold = 1 AND status NOT IN ('refunded', 'canceled', 'payment_failed')`))
    expect(health.oversold).toBe(3)
    const [last] = await engine.rows<{ received_at: number | string; type: string }>(sql`SELECT received_at, type FROM stripe_events ORDER BY received_at DESC LIMIT 1`)
    expect(health.webhooks.last).toEqual({ receivedAt: Number(last!.received_at), type: last!.type })
    expect(health.webhooks.failures).toBe(await engine.count(sql`SELECT count(*) AS n FROM stripe_events WHERE processed_at IS NULL AND error IS NOT NULL AND received_at > ${now - DAY}`))
    expect(health.webhooks.failures).toBe(1)
    const [run] = await engine.rows<{ id: number | string; events_seen: number | string }>(sql`SELECT id, events_seen FROM reconcile_runs ORDER BY id DESC LIMIT 1`)
    expect([health.lastRun?.id, health.lastRun?.eventsSeen]).toEqual([Number(run!.id), Number(run!.events_seen)])
    expect(health.jobs).toMatchObject({
      queued: await engine.count(sql`SELECT count(*) AS n FROM jobs WHERE status = 'queued'`),
      failed: await engine.count(sql`SELECT count(*) AS n FROM jobs WHERE status = 'failed'`),
    })
    expect([health.jobs.queued, health.jobs.failed]).toEqual([2, 1])
  })
})
