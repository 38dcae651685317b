import 'server-only'
import { asc, eq } from 'drizzle-orm'
import { getDb, write } from '@/db'
import { orderNotes, orders } from '@/db/schema'
import * as audit from '@/lib/audit'
import { InvalidInput, NotFound } from '@/lib/errors'

// The owner's and staff's notes on an order ("customer called, ship Monday"): several per
// order, each dated and signed, for the admin only. Nothing that reaches the customer (the
// order page, the emails, the orders export) reads this table.

export const BODY_MAX = 2000

export type OrderNote = { id: number; adminEmail: string; body: string; createdAt: number }

/** Adds a note to an order, audited in the same transaction. */
export function add(actor: audit.Actor, orderId: number, bodyRaw: string, now = Date.now()): number {
  const body = bodyRaw.replace(/\r\n?/g, '\n').trim()
  if (!body) throw new InvalidInput('Write the note first.', 'body')
  if (body.length > BODY_MAX) throw new InvalidInput(`A note holds at most ${BODY_MAX} characters; this one has ${body.length}.`, 'body')
  return write((tx) => {
    if (!tx.select({ id: orders.id }).from(orders).where(eq(orders.id, orderId)).get()) throw new NotFound('That order')
    const row = tx.insert(orderNotes).values({ orderId, adminUserId: actor.id, adminEmail: actor.email, body, createdAt: now }).returning({ id: orderNotes.id }).get()
    audit.record(tx, actor, 'order.note', `order:${orderId}`, null, { noteId: row.id, body })
    return row.id
  })
}

/** An order's notes, oldest first. */
export function forOrder(orderId: number): OrderNote[] {
  return getDb()
    .select({ id: orderNotes.id, adminEmail: orderNotes.adminEmail, body: orderNotes.body, createdAt: orderNotes.createdAt })
    .from(orderNotes)
    .where(eq(orderNotes.orderId, orderId))
    .orderBy(asc(orderNotes.createdAt), asc(orderNotes.id))
    .all()
}
