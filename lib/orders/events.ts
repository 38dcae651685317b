import 'server-only'
import { and, count, desc, eq, gt, inArray, isNotNull, isNull } from 'drizzle-orm'
import { all, get, read, type Reader, type Steps, type Tables } from '@/db/tx'
import { stripeEvents } from '@/db/schema'
import { InvalidInput } from '@/lib/errors'
import { paged } from '@/lib/paging'
import * as payments from '@/lib/payments'
import { applyEvent } from './intake'

// The webhook events the store has received, for the owner: what arrived, what was applied,
// what failed and why, and a replay that runs the same idempotent intake again on the event
// as Stripe has it now. The rows are written by ./intake, in the transaction of each
// event's effect; this module only reads them.

export type EventFilter = 'all' | 'failed' | 'processed'
const PER_PAGE = 50

export function list(filter: EventFilter = 'all', page = 1) {
  return read(function* (db, { stripeEvents }) {
    const where = filter === 'failed' ? isNull(stripeEvents.processedAt) : filter === 'processed' ? isNotNull(stripeEvents.processedAt) : undefined
    const { n: total } = (yield* get(db.select({ n: count() }).from(stripeEvents).where(where)))!
    // id breaks ties: events received in the same millisecond keep one order across pages
    return yield* paged(total, page, PER_PAGE, (limit, offset) => all(db.select().from(stripeEvents).where(where).orderBy(desc(stripeEvents.receivedAt), desc(stripeEvents.id)).limit(limit).offset(offset)))
  })
}

/** The events about any of these Stripe objects, oldest first, as a step of a read on either engine (db/tx.ts). */
export function* forObjects(db: Reader, t: Tables, objectIds: string[]): Steps<(typeof stripeEvents.$inferSelect)[]> {
  const ids = objectIds.filter(Boolean)
  if (ids.length === 0) return []
  return yield* all(db.select().from(t.stripeEvents).where(inArray(t.stripeEvents.objectId, ids)).orderBy(t.stripeEvents.receivedAt))
}

/** Last event received, and how many failed (are still unprocessed) in the last 24 hours. */
export function health(now = Date.now()) {
  return read(function* (db, { stripeEvents }) {
    const last = (yield* get(db.select({ receivedAt: stripeEvents.receivedAt, type: stripeEvents.type }).from(stripeEvents).orderBy(desc(stripeEvents.receivedAt)).limit(1))) ?? null
    const failed = yield* get(
      db
        .select({ n: count() })
        .from(stripeEvents)
        .where(and(isNull(stripeEvents.processedAt), isNotNull(stripeEvents.error), gt(stripeEvents.receivedAt, now - 24 * 3600 * 1000))),
    )
    return { last, failures: Number(failed?.n ?? 0) }
  })
}

export async function find(eventId: string) {
  return (await read((db, t) => get(db.select().from(t.stripeEvents).where(eq(t.stripeEvents.id, eventId))))) ?? null
}

/**
 * Re-reads the event from Stripe and hands it to the order's intake. An event already
 * applied is a no-op ("duplicate"); a failed one is applied now or fails again with its
 * new error recorded.
 */
export async function replay(eventId: string): Promise<{ outcome: string; error?: string }> {
  if (!/^evt_[A-Za-z0-9_]{1,200}$/.test(eventId)) throw new InvalidInput('That is not a Stripe event id.')
  const event = await payments.retrieveEvent(eventId)
  try {
    const result = await applyEvent(event)
    return { outcome: result.outcome }
  } catch (err) {
    return { outcome: 'failed', error: err instanceof Error ? err.message : String(err) }
  }
}

