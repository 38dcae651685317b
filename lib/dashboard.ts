import 'server-only'
import { and, asc, eq, lte, sql } from 'drizzle-orm'
import { all, read, sqlAll, sqlGet, type Reader, type Steps, type Tables } from '@/db/tx'
import * as checkoutReminders from './checkout-reminders'
import { getEnv } from './env'
import * as inventory from './inventory'
import * as jobs from './jobs'
import * as payments from './payments'
import * as products from './products'
import * as reconcile from './reconcile'
import * as stripeEvents from './orders/events'

// The owner's overview: what sold, what is running low, and whether the machinery that turns
// payments into orders is healthy. Revenue counts what was charged less what was refunded,
// for orders that were paid; days are UTC days. The day length is written into the SQL as a
// literal: a bound JS number arrives as a REAL, and the division would stop being whole days.

const DAY = 24 * 3600 * 1000
const SOLD = `status IN ('paid', 'fulfilled', 'partially_refunded', 'refunded')`

export type Period = { label: string; revenueCents: number; orders: number; averageCents: number }

// The SQL below is text both engines accept; their sums and counts come back as numbers from
// SQLite and as text from PostgreSQL (bigint, numeric), so every figure goes through Number().

function* period(label: string, since: number): Steps<Period> {
  const row = yield* sqlGet<{ revenue: number | string | null; n: number | string }>(sql`
    SELECT sum(total_cents - refunded_cents) AS revenue, count(*) AS n FROM orders WHERE ${sql.raw(SOLD)} AND created_at >= ${since}`)
  const revenueCents = Number(row?.revenue ?? 0)
  const orders = Number(row?.n ?? 0)
  return { label, revenueCents, orders, averageCents: orders ? Math.round(revenueCents / orders) : 0 }
}

export function startOfUtcDay(now: number): number {
  return Math.floor(now / DAY) * DAY
}

/** Active products' variants at or under the low-stock mark, lowest first, with their held units. */
function* lowStockIn(db: Reader, t: Tables, now: number) {
  const { variants, products: productRows } = t
  const rows = yield* all(
    db
      .select({ id: variants.id, sku: variants.sku, title: variants.title, stock: variants.stock, productId: productRows.id, productTitle: productRows.title })
      .from(variants)
      .innerJoin(productRows, eq(productRows.id, variants.productId))
      .where(and(lte(variants.stock, products.LOW_STOCK), eq(productRows.status, 'active')))
      .orderBy(asc(variants.stock), asc(productRows.title), asc(variants.position), asc(variants.id))
      .limit(8),
  )
  const held = yield* inventory.heldIn(db, t, rows.map((r) => r.id), now)
  return rows.map((r) => ({ ...r, held: held.get(r.id) ?? 0 }))
}

export async function overview(now = Date.now()) {
  const today = startOfUtcDay(now)
  const figures = await read(function* (db, t) {
    const periods = [yield* period('Today', today), yield* period('Last 7 days', today - 6 * DAY), yield* period('Last 30 days', today - 29 * DAY)]
    const daily = yield* sqlAll<{ day: number | string; revenue: number | string; n: number | string }>(sql`
      SELECT (created_at / ${sql.raw(String(DAY))}) * ${sql.raw(String(DAY))} AS day, sum(total_cents - refunded_cents) AS revenue, count(*) AS n
      FROM orders WHERE ${sql.raw(SOLD)} AND created_at >= ${today - 29 * DAY} GROUP BY day`)
    // the title breaks ties, so both engines list the same five in the same order
    const top = yield* sqlAll<{ title: string; units: number | string; revenue: number | string }>(sql`
      SELECT l.title AS title, sum(l.quantity) AS units, sum(l.total_cents) AS revenue
      FROM order_lines l JOIN orders o ON o.id = l.order_id
      WHERE o.${sql.raw(SOLD)} AND o.created_at >= ${today - 29 * DAY}
      GROUP BY l.title ORDER BY units DESC, revenue DESC, l.title LIMIT 5`)
    return { periods, daily, top, lowStock: yield* lowStockIn(db, t, now) }
  })
  const byDay = new Map(figures.daily.map((d) => [Number(d.day), { revenueCents: Number(d.revenue), orders: Number(d.n) }]))
  const series = Array.from({ length: 30 }, (_, i) => {
    const day = today - (29 - i) * DAY
    return { day, ...(byDay.get(day) ?? { revenueCents: 0, orders: 0 }) }
  })
  const topProducts = figures.top.map((r) => ({ title: r.title, units: Number(r.units), revenue: Number(r.revenue) }))
  return { periods: figures.periods, series, topProducts, lowStock: figures.lowStock, reminders: await checkoutReminders.summary(), currency: getEnv().currency }
}

export async function status(now = Date.now()) {
  const env = getEnv()
  const mode = env.payments === 'emulator' ? 'Emulator (simulated payments)' : payments.isLiveMode() ? 'Stripe live' : 'Stripe test'
  const [webhooks, runs, jobCounts, oversold] = await Promise.all([
    stripeEvents.health(now),
    reconcile.lastRuns(1),
    jobs.counts(),
    // Oversold orders still to deal with: not refunded, canceled or failed.
    read(() => sqlGet<{ n: number | string }>(sql`SELECT count(*) AS n FROM orders WHERE is_oversold = 1 AND status NOT IN ('refunded', 'canceled', 'payment_failed')`)),
  ])
  return { mode, isLive: env.payments === 'stripe' && payments.isLiveMode(), webhooks, lastRun: runs[0] ?? null, jobs: jobCounts, oversold: Number(oversold?.n ?? 0) }
}
