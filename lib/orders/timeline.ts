import 'server-only'
import { asc, eq } from 'drizzle-orm'
import { all, read } from '@/db/tx'
import type { OrderView } from './order'
import * as payments from '@/lib/payments'
import * as stripeEvents from './events'

// What happened to one order, oldest first: its own milestones, the Stripe events recorded
// for its session and payment, the owner's actions and the stock it moved.

export type TimelineEntry = { at: number; what: string; detail?: string; isError?: boolean }

export function stripeDashboardBase(): string {
  return payments.isLiveMode() ? 'https://dashboard.stripe.com' : 'https://dashboard.stripe.com/test'
}

/** What the timeline reads of the order itself. */
export type TimelineOrder = Pick<OrderView, 'id' | 'createdAt' | 'paidAt' | 'fulfilledAt' | 'carrier' | 'trackingNumber' | 'stripeCheckoutSessionId' | 'stripePaymentIntentId'>

export function forOrder(order: TimelineOrder): Promise<TimelineEntry[]> {
  return read(function* (db, t) {
    const out: TimelineEntry[] = [{ at: order.createdAt, what: 'Checkout completed' }]
    if (order.paidAt) out.push({ at: order.paidAt, what: 'Paid' })
    if (order.fulfilledAt) out.push({ at: order.fulfilledAt, what: 'Fulfilled', detail: [order.carrier, order.trackingNumber].filter(Boolean).join(' ') })
    const actions = yield* all(db.select().from(t.auditLog).where(eq(t.auditLog.subject, `order:${order.id}`)).orderBy(asc(t.auditLog.id)))
    // Refund events name the charge, which the order does not store; refunds made here record it.
    const chargeIds = actions.map((a) => (a.after as { chargeId?: unknown } | null)?.chargeId).filter((id): id is string => typeof id === 'string')
    for (const e of yield* stripeEvents.forObjects(db, t, [order.stripeCheckoutSessionId, order.stripePaymentIntentId ?? '', ...new Set(chargeIds)])) {
      out.push({ at: e.receivedAt, what: `Stripe ${e.type}`, detail: e.error ? e.error : e.processedAt ? 'applied' : 'not applied yet', isError: !!e.error && !e.processedAt })
    }
    for (const a of actions) {
      out.push({ at: a.createdAt, what: `Admin ${a.action}`, detail: `by ${a.adminEmail}` })
    }
    for (const l of yield* all(db.select().from(t.stockLedger).where(eq(t.stockLedger.orderId, order.id)).orderBy(asc(t.stockLedger.id)))) {
      out.push({ at: l.createdAt, what: `Stock ${l.reason.replace('_', ' ')}`, detail: `variant ${l.variantId}: ${l.delta > 0 ? '+' : ''}${l.delta}` })
    }
    return out.sort((x, y) => x.at - y.at)
  })
}
