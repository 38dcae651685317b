import 'server-only'
import { asc, eq } from 'drizzle-orm'
import { all, get, read, transaction } from '@/db/tx'
import * as audit from '@/lib/audit'
import { InvalidInput, NotFound } from '@/lib/errors'

// The owner's and staff's notes on an order ("customer called, ship Monday"): several per
// order, each dated and signed, for the admin only. Nothing that reaches the customer (the
// order page, the emails, the orders export) reads this table.

export const BODY_MAX = 2000

export type OrderNote = { id: number; adminEmail: string; body: string; createdAt: number }

/** Adds a note to an order, audited in the same transaction. */
export async function add(actor: audit.Actor, orderId: number, bodyRaw: string, now = Date.now()): Promise<number> {
  const body = bodyRaw.replace(/\r\n?/g, '\n').trim()
  if (!body) throw new InvalidInput('Write the note first.', 'body')
  if (body.length > BODY_MAX) throw new InvalidInput(`A note holds at most ${BODY_MAX} characters; this one has ${body.length}.`, 'body')
  return transaction(function* (tx, t) {
    if (!(yield* get(tx.select({ id: t.orders.id }).from(t.orders).where(eq(t.orders.id, orderId))))) throw new NotFound('That order')
    const row = yield* get(tx.insert(t.orderNotes).values({ orderId, adminUserId: actor.id, adminEmail: actor.email, body, createdAt: now }).returning({ id: t.orderNotes.id }))
    yield* audit.recording(tx, t, actor, 'order.note', `order:${orderId}`, null, { noteId: row.id, body })
    return row.id
  })
}

/** An order's notes, oldest first. */
export function forOrder(orderId: number): Promise<OrderNote[]> {
  return read(function* (db, t) {
    return yield* all(
      db
        .select({ id: t.orderNotes.id, adminEmail: t.orderNotes.adminEmail, body: t.orderNotes.body, createdAt: t.orderNotes.createdAt })
        .from(t.orderNotes)
        .where(eq(t.orderNotes.orderId, orderId))
        .orderBy(asc(t.orderNotes.createdAt), asc(t.orderNotes.id)),
    )
  })
}
