import 'server-only'
import { eq } from 'drizzle-orm'
import { write } from '@/db'
import { orders } from '@/db/schema'
import * as audit from '@/lib/audit'
import { InvalidInput, NotFound } from '@/lib/errors'
import * as formNonce from '@/lib/request/form-nonce'
import * as jobs from '@/lib/jobs'
import { isConfirmable } from './order'

// Sending an order's confirmation email again, from its admin page (the customer lost it).
// The same job as the first one (mail.order_confirmation), keyed by the form's one-time
// nonce: a double click or a replayed post queues one email, a later click another.

export type Resent = { isQueued: boolean }

export function resend(actor: audit.Actor, orderId: number, nonce: string): Resent {
  if (!formNonce.isValid(nonce)) throw new InvalidInput('This form has expired; open the order again and resend from there.')
  return write((tx) => {
    const order = tx.select({ id: orders.id, email: orders.email, status: orders.status, disputeStatus: orders.disputeStatus }).from(orders).where(eq(orders.id, orderId)).get()
    if (!order) throw new NotFound('That order')
    if (!order.email) throw new InvalidInput('This order has no email address, so there is nowhere to send the confirmation.')
    // The job checks this again when it runs; refusing here tells the owner why at once.
    if (!isConfirmable(order.status, order.disputeStatus)) throw new InvalidInput('Only a paid order (not fulfilled, refunded or disputed since) gets its confirmation email again.')
    const isQueued = jobs.enqueue(tx, 'mail.order_confirmation', { orderId, resend: nonce }, { uniqueKey: `mail.order_confirmation:${orderId}:resend:${nonce}` })
    if (isQueued) audit.record(tx, actor, 'order.resend_confirmation', `order:${orderId}`, null, { email: order.email })
    return { isQueued }
  })
}
