import 'server-only'
import { write } from '@/db'
import * as audit from './audit'
import { InvalidInput, NotFound, PaymentProviderError } from './errors'
import * as inventory from './inventory'
import { log } from './log'
import { formatMoney } from './money'
import * as orders from './orders'
import * as payments from './payments'

// Refunds the owner issues from the admin. Stripe moves the money (outside any
// transaction); the order's status moves only when Stripe's charge.refunded webhook lands,
// through the same idempotent path as a refund made in Stripe's own dashboard. Restocking
// is the store's own business and happens here, with a ledger row per line.

export type RefundRequest = {
  orderId: number
  amountCents: number
  /** line id → units to put back on the shelf */
  restock: Map<number, number>
}

export async function refund(actor: audit.Actor, request: RefundRequest): Promise<{ refundId: string; message: string }> {
  const order = orders.findById(request.orderId)
  if (!order) throw new NotFound('That order')
  if (!order.stripePaymentIntentId) throw new InvalidInput('This order has no payment to refund.')
  const refundable = order.totalCents - order.refundedCents
  if (!Number.isSafeInteger(request.amountCents) || request.amountCents <= 0) throw new InvalidInput('Enter an amount greater than zero.')
  if (request.amountCents > refundable) throw new InvalidInput(`At most ${formatMoney(refundable, order.currency)} can still be refunded.`)
  for (const [lineId, quantity] of request.restock) {
    const line = order.lines.find((l) => l.id === lineId)
    if (!line) throw new InvalidInput('A restock line does not belong to this order.')
    if (quantity > line.quantity - line.restockedQuantity) throw new InvalidInput(`At most ${line.quantity - line.restockedQuantity} of ${line.title} can be restocked.`)
  }
  // The same order, amount and prior refund total make the same key: a repeated submit of
  // this form is answered with the first refund, never a second one.
  const idempotencyKey = `till-refund-${order.id}-${order.refundedCents}-${request.amountCents}`
  let result: { id: string; amountCents: number; status: string | null; chargeId: string | null }
  try {
    result = await payments.createRefund({ paymentIntentId: order.stripePaymentIntentId, amountCents: request.amountCents, idempotencyKey, reason: 'requested_by_customer' })
  } catch (err) {
    log.warn('refunds: Stripe refused the refund', { orderId: order.id, err })
    const message = err instanceof Error ? err.message : String(err)
    throw new PaymentProviderError(`Stripe did not refund: ${message}`, err)
  }
  const restocked: { lineId: number; variantId: number; quantity: number }[] = []
  write((tx) => {
    for (const [lineId, quantity] of request.restock) {
      const line = order.lines.find((l) => l.id === lineId)!
      if (!line.variantId || quantity <= 0) continue
      const take = orders.markRestocked(tx, lineId, quantity)
      if (take > 0 && inventory.restockFromRefund(tx, { variantId: line.variantId, quantity: take, orderId: order.id, adminUserId: actor.id })) {
        restocked.push({ lineId, variantId: line.variantId, quantity: take })
      }
    }
    audit.record(tx, actor, 'order.refund', `order:${order.id}`, { status: order.status, refundedCents: order.refundedCents }, { refundId: result.id, chargeId: result.chargeId, amountCents: result.amountCents, restocked })
  })
  return { refundId: result.id, message: `Refund of ${formatMoney(result.amountCents, order.currency)} sent to Stripe; the status changes when Stripe confirms it.` }
}
