'use server'

import { z } from 'zod'
import { issuesByField, refused, type FormState } from '../../../_components/form-state'
import { done, fail } from '../../../_components/redirect'
import * as adminAuth from '@/lib/admin-auth'
import { InvalidInput, NotFound, PaymentProviderError } from '@/lib/errors'
import { parseMoney } from '@/lib/money'
import * as orderConfirmations from '@/lib/orders/confirmations'
import * as orderNotes from '@/lib/orders/notes'
import * as orders from '@/lib/orders'
import * as refunds from '@/lib/orders/refunds'
import * as shipping from '@/lib/orders/shipping'
import * as staff from '@/lib/staff'

const OrderId = z.coerce.number().int().positive().max(2 ** 31)

const Fulfil = z.object({
  orderId: OrderId,
  carrier: z.string().trim().min(1, 'Enter the carrier.').max(60, 'The carrier name is too long (60 characters at most).'),
  trackingNumber: z
    .string()
    .trim()
    .min(3, 'Enter the tracking number.')
    .max(100, 'The tracking number is too long.')
    .regex(/^[A-Za-z0-9][A-Za-z0-9 ._/-]*$/, 'A tracking number has letters, digits, spaces, dots, dashes or slashes only.'),
})

export async function fulfilAction(previous: FormState, formData: FormData): Promise<FormState> {
  const admin = await adminAuth.requireAdmin()
  const id = OrderId.safeParse(formData.get('orderId'))
  if (!id.success) fail('/admin/orders', 'That order does not exist.')
  const back = `/admin/orders/${id.data}`
  const parsed = Fulfil.safeParse({ orderId: formData.get('orderId'), carrier: formData.get('carrier'), trackingNumber: formData.get('trackingNumber') })
  if (!parsed.success) return refused(previous, formData, issuesByField(parsed.error.issues))
  const { orderId, carrier, trackingNumber } = parsed.data
  try {
    await shipping.markFulfilled(admin, orderId, { carrier, trackingNumber })
  } catch (err) {
    if (err instanceof InvalidInput || err instanceof NotFound) return refused(previous, formData, { '': err.message })
    throw err
  }
  done(back, `Marked fulfilled; the shipping email is on its way to the customer.`)
}

export async function refundAction(previous: FormState, formData: FormData): Promise<FormState> {
  const admin = await adminAuth.requireAdmin()
  const id = OrderId.safeParse(formData.get('orderId'))
  if (!id.success) fail('/admin/orders', 'That order does not exist.')
  const back = `/admin/orders/${id.data}`
  const order = await orders.findById(id.data)
  if (!order) fail('/admin/orders', 'That order does not exist.')
  const amount = parseMoney(String(formData.get('amount') ?? ''), order.currency, { what: 'The amount to refund' })
  if (!amount.ok) return refused(previous, formData, { amount: amount.message })
  const amountCents = amount.cents
  const overLimit = await staff.refundRefusal(admin, amountCents, order.currency)
  if (overLimit) return refused(previous, formData, { amount: overLimit })
  const restock = new Map<number, number>()
  if (formData.get('restock') === 'on') {
    for (const line of order.lines) {
      const raw = formData.get(`restock-${line.id}`)
      if (raw === null || raw === '') continue
      const qty = z.coerce.number().int().min(0).max(10_000).safeParse(raw)
      if (!qty.success) return refused(previous, formData, { [`restock-${line.id}`]: `Enter a whole number of units to restock for ${line.title}.` })
      if (qty.data > 0) restock.set(line.id, qty.data)
    }
  }
  let message: string
  try {
    message = (await refunds.refund(admin, { orderId: order.id, amountCents, restock, nonce: String(formData.get('nonce') ?? '') })).message
  } catch (err) {
    // lib/orders/refunds names no field; an amount over what is left is the usual refusal
    if (err instanceof InvalidInput) return refused(previous, formData, { [err.field ?? (/refunded|amount/i.test(err.message) ? 'amount' : '')]: err.message })
    if (err instanceof NotFound || err instanceof PaymentProviderError) return refused(previous, formData, { '': err.message })
    throw err
  }
  done(back, message)
}

export async function addNoteAction(previous: FormState, formData: FormData): Promise<FormState> {
  const admin = await staff.requirePermission('orders')
  const id = OrderId.safeParse(formData.get('orderId'))
  if (!id.success) fail('/admin/orders', 'That order does not exist.')
  try {
    await orderNotes.add(admin, id.data, String(formData.get('body') ?? '').slice(0, 20_000))
  } catch (err) {
    if (err instanceof InvalidInput) return refused(previous, formData, { [err.field ?? '']: err.message })
    if (err instanceof NotFound) fail('/admin/orders', 'That order does not exist.')
    throw err
  }
  done(`/admin/orders/${id.data}`, 'Note added. Only the admin sees it.')
}

export async function resendConfirmationAction(previous: FormState, formData: FormData): Promise<FormState> {
  const admin = await staff.requirePermission('orders')
  const id = OrderId.safeParse(formData.get('orderId'))
  if (!id.success) fail('/admin/orders', 'That order does not exist.')
  let resent: orderConfirmations.Resent
  try {
    resent = await orderConfirmations.resend(admin, id.data, String(formData.get('nonce') ?? ''))
  } catch (err) {
    if (err instanceof InvalidInput) return refused(previous, formData, { '': err.message })
    if (err instanceof NotFound) fail('/admin/orders', 'That order does not exist.')
    throw err
  }
  done(`/admin/orders/${id.data}`, resent.isQueued ? 'The confirmation email is on its way again.' : 'That was sent already; the confirmation email goes once per click.')
}
