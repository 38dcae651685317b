import 'server-only'
import { eq } from 'drizzle-orm'
import { get, transaction } from '@/db/tx'
import * as audit from '@/lib/audit'
import { InvalidInput, NotFound } from '@/lib/errors'
import * as formNonce from '@/lib/request/form-nonce'
import * as jobs from '@/lib/jobs'
import { isConfirmable } from './order'

// Sending an order's confirmation email again, from its admin page (the customer lost it).
// The same job as the first one (mail.order_confirmation), keyed by the form's one-time
// nonce: a double click or a replayed post queues one email, a later click another. The key
// decides, not a read: on PostgreSQL the second of two posts at once waits for the first's
// insert and queues nothing (jobs.enqueueing), so it audits nothing either.

export type Resent = { isQueued: boolean }

export async function resend(actor: audit.Actor, orderId: number, nonce: string): Promise<Resent> {
  if (!formNonce.isValid(nonce)) throw new InvalidInput('This form has expired; open the order again and resend from there.')
  return transaction(function* (tx, t) {
    const order = yield* get(tx.select({ email: t.orders.email, status: t.orders.status, disputeStatus: t.orders.disputeStatus }).from(t.orders).where(eq(t.orders.id, orderId)))
    if (!order) throw new NotFound('That order')
    if (!order.email) throw new InvalidInput('This order has no email address, so there is nowhere to send the confirmation.')
    // The job checks this again when it runs; refusing here tells the owner why at once.
    if (!isConfirmable(order.status, order.disputeStatus)) throw new InvalidInput('Only a paid order (not fulfilled, refunded or disputed since) gets its confirmation email again.')
    const isQueued = yield* jobs.enqueueing(tx, t, 'mail.order_confirmation', { orderId, resend: nonce }, { uniqueKey: `mail.order_confirmation:${orderId}:resend:${nonce}` })
    if (isQueued) yield* audit.recording(tx, t, actor, 'order.resend_confirmation', `order:${orderId}`, null, { email: order.email })
    return { isQueued }
  })
}
