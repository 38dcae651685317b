import 'server-only'
import { sql } from 'drizzle-orm'
import { getDb } from '@/db'
import * as checkoutReminders from './checkout-reminders'
import { getEnv } from './env'
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

function period(label: string, since: number): Period {
  const row = getDb().get<{ revenue: number | null; n: number }>(sql`
    SELECT sum(total_cents - refunded_cents) AS revenue, count(*) AS n FROM orders WHERE ${sql.raw(SOLD)} AND created_at >= ${since}`)
  const revenueCents = Number(row?.revenue ?? 0)
  const orders = Number(row?.n ?? 0)
  return { label, revenueCents, orders, averageCents: orders ? Math.round(revenueCents / orders) : 0 }
}

export function startOfUtcDay(now: number): number {
  return Math.floor(now / DAY) * DAY
}

export async function overview(now = Date.now()) {
  const db = getDb()
  const today = startOfUtcDay(now)
  const periods = [period('Today', today), period('Last 7 days', today - 6 * DAY), period('Last 30 days', today - 29 * DAY)]
  const daily = db.all<{ day: number; revenue: number; n: number }>(sql`
    SELECT (created_at / ${sql.raw(String(DAY))}) * ${sql.raw(String(DAY))} AS day, sum(total_cents - refunded_cents) AS revenue, count(*) AS n
    FROM orders WHERE ${sql.raw(SOLD)} AND created_at >= ${today - 29 * DAY} GROUP BY day`)
  const byDay = new Map(daily.map((d) => [Number(d.day), { revenueCents: Number(d.revenue), orders: Number(d.n) }]))
  const series = Array.from({ length: 30 }, (_, i) => {
    const day = today - (29 - i) * DAY
    return { day, ...(byDay.get(day) ?? { revenueCents: 0, orders: 0 }) }
  })
  const topProducts = db.all<{ title: string; units: number; revenue: number }>(sql`
    SELECT l.title AS title, sum(l.quantity) AS units, sum(l.total_cents) AS revenue
    FROM order_lines l JOIN orders o ON o.id = l.order_id
    WHERE o.${sql.raw(SOLD)} AND o.created_at >= ${today - 29 * DAY}
    GROUP BY l.title ORDER BY units DESC, revenue DESC LIMIT 5`)
  const lowStock = (await products.stockList({ lowOnly: true })).rows.filter((r) => r.productStatus === 'active').slice(0, 8)
  return { periods, series, topProducts, lowStock, reminders: await checkoutReminders.summary(), currency: getEnv().currency }
}

export async function status(now = Date.now()) {
  const env = getEnv()
  const mode = env.payments === 'emulator' ? 'Emulator (simulated payments)' : payments.isLiveMode() ? 'Stripe live' : 'Stripe test'
  const webhooks = stripeEvents.health(now)
  const lastRun = reconcile.lastRuns(1)[0] ?? null
  // Oversold orders still to deal with: not refunded, canceled or failed.
  const oversold = Number(getDb().get<{ n: number }>(sql`SELECT count(*) AS n FROM orders WHERE is_oversold = 1 AND status NOT IN ('refunded', 'canceled', 'payment_failed')`)?.n ?? 0)
  return { mode, isLive: env.payments === 'stripe' && payments.isLiveMode(), webhooks, lastRun, jobs: await jobs.counts(), oversold }
}
