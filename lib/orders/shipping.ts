import 'server-only'
import { write } from '@/db'
import * as audit from '@/lib/audit'
import * as orders from './order'

// The owner ships an order: status, carrier and tracking number change, the shipping email
// is queued and the audit log records it, all in one transaction.

export function markFulfilled(actor: audit.Actor, orderId: number, input: { carrier: string; trackingNumber: string }): void {
  write((tx) => {
    const change = orders.markFulfilled(tx, orderId, input)
    audit.record(tx, actor, 'order.fulfil', `order:${orderId}`, { status: change.before }, { status: change.after, ...input })
  })
}
