import 'server-only'
import { and, eq } from 'drizzle-orm'
import { get, read, transaction, type Steps, type Tables, type Writer } from '@/db/tx'
import * as audit from '@/lib/audit'
import * as formNonce from '@/lib/request/form-nonce'
import { InvalidInput, NotFound, PaymentProviderError } from '@/lib/errors'
import * as inventory from '@/lib/inventory'
import { log } from '@/lib/log'
import { formatMoney } from '@/lib/money'
import * as orders from './order'
import * as payments from '@/lib/payments'

// Refunds the owner issues from the admin. Stripe moves the money (outside any
// transaction); the order's status moves only when Stripe's charge.refunded webhook lands,
// through the same idempotent path as a refund made in Stripe's own dashboard. Restocking
// is the store's own business and happens here, with a ledger row per line.
//
// A submit is idempotent per form: the page renders a nonce with the form (formNonce), the
// nonce is the idempotency key Stripe sees, and the refund Stripe returns is recorded under
// UNIQUE(stripe_refund_id) in the same transaction as its restock and audit row. A double
// click, two tabs submitting the same form, or a replay before any webhook has moved the
// order all get the one refund back from Stripe, and only the submit that recorded it first
// restocks and audits. On PostgreSQL the second of two such inserts at once waits for the
// first's to commit and then does nothing, so the same refund recorded twice (two submits,
// two app servers) restocks once there too.

export type RefundRequest = {
  orderId: number
  amountCents: number
  /** line id → units to put back on the shelf */
  restock: Map<number, number>
  /** the nonce rendered with the form (lib/request/form-nonce.ts) */
  nonce: string
}

function sentBy(orderId: number, nonce: string) {
  return read(function* (db, t) {
    return (yield* get(db.select().from(t.refunds).where(and(eq(t.refunds.orderId, orderId), eq(t.refunds.formNonce, nonce))).limit(1))) ?? null
  })
}

type StripeRefund = Awaited<ReturnType<typeof payments.createRefund>>

/**
 * Records a refund Stripe made, its restock (through inventory, with a ledger row per line) and
 * its audit row, as one transaction's step; false when the refund was recorded already, and
 * then nothing else is done. The order and its lines are as read before Stripe was asked; each
 * line's restocked count is read again here (orders.markingRestocked).
 */
function* recordingRefund(tx: Writer, t: Tables, actor: audit.Actor, order: orders.OrderView, request: RefundRequest, refund: StripeRefund): Steps<boolean> {
  const recorded = yield* get(
    tx
      .insert(t.refunds)
      .values({ stripeRefundId: refund.id, orderId: order.id, amountCents: refund.amountCents, formNonce: request.nonce, adminUserId: actor.id, createdAt: Date.now() })
      .onConflictDoNothing({ target: t.refunds.stripeRefundId })
      .returning({ id: t.refunds.id }),
  )
  // Another submit of this form recorded it (and restocked) already.
  if (!recorded) return false
  const restocked: { lineId: number; variantId: number; quantity: number }[] = []
  for (const [lineId, quantity] of request.restock) {
    const line = order.lines.find((l) => l.id === lineId)!
    if (!line.variantId || quantity <= 0) continue
    const take = yield* orders.markingRestocked(tx, t, lineId, quantity)
    if (take > 0 && (yield* inventory.restockingFromRefund(tx, t, { variantId: line.variantId, quantity: take, orderId: order.id, adminUserId: actor.id }))) {
      restocked.push({ lineId, variantId: line.variantId, quantity: take })
    }
  }
  yield* audit.recording(tx, t, actor, 'order.refund', `order:${order.id}`, { status: order.status, refundedCents: order.refundedCents }, { refundId: refund.id, chargeId: refund.chargeId, amountCents: refund.amountCents, restocked })
  return true
}

export async function refund(actor: audit.Actor, request: RefundRequest): Promise<{ refundId: string; message: string }> {
  const order = await orders.findById(request.orderId)
  if (!order) throw new NotFound('That order')
  if (!formNonce.isValid(request.nonce)) throw new InvalidInput('This refund form is out of date; reload the page and submit it again.')
  // A replay of a form already recorded is answered before any check that its own refund
  // and restock would now fail.
  const earlier = await sentBy(order.id, request.nonce)
  if (earlier) return { refundId: earlier.stripeRefundId, message: `This form was already sent: the refund of ${formatMoney(earlier.amountCents, order.currency)} went to Stripe once.` }
  if (!order.stripePaymentIntentId) throw new InvalidInput('This order has no payment to refund.')
  const refundable = order.totalCents - order.refundedCents
  if (!Number.isSafeInteger(request.amountCents) || request.amountCents <= 0) throw new InvalidInput('Enter an amount greater than zero.')
  if (request.amountCents > refundable) throw new InvalidInput(`At most ${formatMoney(refundable, order.currency)} can still be refunded.`)
  for (const [lineId, quantity] of request.restock) {
    const line = order.lines.find((l) => l.id === lineId)
    if (!line) throw new InvalidInput('A restock line does not belong to this order.')
    if (quantity > line.quantity - line.restockedQuantity) throw new InvalidInput(`At most ${line.quantity - line.restockedQuantity} of ${line.title} can be restocked.`)
  }
  // One form, one refund: the nonce rendered with the form makes the key, so a repeated
  // submit of this form is answered by Stripe with the first refund, never a second one.
  const idempotencyKey = `till-refund-${order.id}-${request.nonce}`
  let result: StripeRefund
  try {
    result = await payments.createRefund({ paymentIntentId: order.stripePaymentIntentId, amountCents: request.amountCents, idempotencyKey, reason: 'requested_by_customer' })
  } catch (err) {
    log.warn('refunds: Stripe refused the refund', { orderId: order.id, err })
    const message = err instanceof Error ? err.message : String(err)
    throw new PaymentProviderError(`Stripe did not refund: ${message}`, err)
  }
  const isNew = await transaction((tx, t) => recordingRefund(tx, t, actor, order, request, result))
  const amount = formatMoney(result.amountCents, order.currency)
  if (!isNew) return { refundId: result.id, message: `This form was already sent: the refund of ${amount} went to Stripe once.` }
  return { refundId: result.id, message: `Refund of ${amount} sent to Stripe; the status changes when Stripe confirms it.` }
}
