import 'server-only'
import { desc, eq, sql } from 'drizzle-orm'
import { getDb, write } from '@/db'
import { orders, reconcileRuns } from '@/db/schema'
import { log } from './log'
import * as payments from './payments'

// The safety net under webhooks: whatever Stripe says happened ends up applied, even when
// a webhook never arrived. It replays Stripe's events since the last cursor (minus a
// margin, since events can become visible out of order) and walks the completed Checkout
// Sessions of the last 72 hours, through the same idempotent paths the webhook uses.

const MARGIN_SECONDS = 15 * 60
const SESSION_WINDOW_SECONDS = 72 * 3600

export type ReconcileReport = {
  eventsSeen: number
  sessionsSeen: number
  ordersCreated: number
  mismatches: { sessionId: string; orderCents: number; stripeCents: number }[]
  failures: { id: string; error: string }[]
}

export async function run(now = Date.now()): Promise<ReconcileReport> {
  const db = getDb()
  const startedAt = now
  const last = db.select().from(reconcileRuns).orderBy(desc(reconcileRuns.id)).get()
  const nowSeconds = Math.floor(now / 1000)
  const since = last?.eventsCursor ? last.eventsCursor - MARGIN_SECONDS : nowSeconds - SESSION_WINDOW_SECONDS
  const report: ReconcileReport = { eventsSeen: 0, sessionsSeen: 0, ordersCreated: 0, mismatches: [], failures: [] }
  let cursor = last?.eventsCursor ?? since
  const countOrders = () => db.select({ n: sql<number>`count(*)` }).from(orders).get()!.n
  const ordersBefore = countOrders()
  let oldestFailure = Infinity

  // Oldest first, so an order is created before its refund is applied.
  const events = await payments.listEvents(payments.HANDLED_TYPES, since)
  events.sort((a, b) => a.created - b.created)
  for (const event of events) {
    report.eventsSeen++
    cursor = Math.max(cursor, event.created)
    try {
      await payments.handle(event)
    } catch (err) {
      report.failures.push({ id: event.id, error: err instanceof Error ? err.message : String(err) })
      oldestFailure = Math.min(oldestFailure, event.created)
    }
  }
  // Never move the cursor past an event that could not be applied: the next run retries it.
  if (oldestFailure !== Infinity) cursor = Math.min(cursor, oldestFailure)

  const sessions = await payments.completedCheckoutSessionIds(nowSeconds - SESSION_WINDOW_SECONDS)
  for (const session of sessions) {
    report.sessionsSeen++
    try {
      await payments.fulfill(session.id)
      const order = db.select({ totalCents: orders.totalCents }).from(orders).where(eq(orders.stripeCheckoutSessionId, session.id)).get()
      if (order && session.amountTotalCents !== null && order.totalCents !== session.amountTotalCents) {
        report.mismatches.push({ sessionId: session.id, orderCents: order.totalCents, stripeCents: session.amountTotalCents })
      }
    } catch (err) {
      report.failures.push({ id: session.id, error: err instanceof Error ? err.message : String(err) })
    }
  }

  // Orders made by replayed events and by the session walk alike.
  report.ordersCreated = countOrders() - ordersBefore
  write((tx) =>
    tx
      .insert(reconcileRuns)
      .values({
        startedAt,
        finishedAt: Date.now(),
        eventsCursor: cursor,
        eventsSeen: report.eventsSeen,
        sessionsSeen: report.sessionsSeen,
        ordersCreated: report.ordersCreated,
        mismatches: report.mismatches,
        error: report.failures.length ? JSON.stringify(report.failures).slice(0, 4000) : null,
      })
      .run(),
  )
  if (report.ordersCreated || report.mismatches.length || report.failures.length) log.warn('reconcile: found work webhooks had not done', report)
  else log.info('reconcile: in step with Stripe', { eventsSeen: report.eventsSeen, sessionsSeen: report.sessionsSeen })
  return report
}

export function lastRuns(limit = 20) {
  return getDb().select().from(reconcileRuns).orderBy(desc(reconcileRuns.id)).limit(limit).all()
}
