import 'server-only'
import { transaction } from '@/db/tx'
import * as audit from '@/lib/audit'
import * as orders from './order'

// The owner ships an order: status, carrier and tracking number change, the shipping email
// is queued and the audit log records it, all in one transaction (on either engine, db/tx.ts).

export async function markFulfilled(actor: audit.Actor, orderId: number, input: { carrier: string; trackingNumber: string }): Promise<void> {
  await transaction(function* (tx, t) {
    const change = yield* orders.markingFulfilled(tx, t, orderId, input)
    yield* audit.recording(tx, t, actor, 'order.fulfil', `order:${orderId}`, { status: change.before }, { status: change.after, ...input })
  })
}
