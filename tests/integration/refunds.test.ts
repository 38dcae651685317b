import fs from 'node:fs'
import path from 'node:path'
import { eq } from 'drizzle-orm'
import type Stripe from 'stripe'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { auditLog, jobs, orderLines, orders as ordersTable, refunds as refundsTable, variants } from '@/db/schema'
import * as adminAuth from '@/lib/admin-auth'
import * as checkout from '@/lib/checkout'
import * as formNonce from '@/lib/request/form-nonce'
import { handlers } from '@/lib/jobs/handlers'
import { orderRefunded } from '@/lib/mail/order-refunded'
import * as orders from '@/lib/orders'
import * as refunds from '@/lib/orders/refunds'
import { insertCart, insertVariant } from '../support/catalog-rows'
import { deliverEvent, startPaymentsEnv, type PaymentsEnv } from '../support/payments-env'

// Refunds from the admin against the local Stripe-compatible server: one form, one refund,
// one audit row and one restock, however often and however fast the form is sent, with no
// webhook delivered in between (a paused webhook must not make a replay look new). Then the
// shopper's refund email, once per refund, whoever delivers the event.

let env: PaymentsEnv
beforeEach(async () => {
  env = await startPaymentsEnv()
})
afterEach(() => env.close())

async function eventsFor(objectId: string, type: string): Promise<Stripe.Event[]> {
  const all = await env.stripe.events.list({ limit: 100 }).autoPagingToArray({ limit: 1000 })
  return all.filter((e) => (e.data.object as { id?: string }).id === objectId && e.type === type).reverse()
}

/** A paid order of 4 units at $25 (stock 27 before, 23 after), recorded by its webhook. */
async function paidOrder() {
  const { variantId } = insertVariant({ stock: 27, priceCents: 2500 })
  const cartId = insertCart([{ variantId, quantity: 4 }])
  const { sessionId } = await checkout.start(cartId)
  env.stripeServer.emulator.control.pay({ session: sessionId })
  const [completed] = await eventsFor(sessionId, 'checkout.session.completed')
  expect((await deliverEvent(env, completed!)).status).toBe(200)
  const order = (await orders.findBySession(sessionId))!
  const admin = await adminAuth.createAdmin('owner@example.com', 'a long enough password')
  return { variantId, order: (await orders.findById(order.id))!, admin }
}

const stockOf = (variantId: number) => env.t.db.select().from(variants).where(eq(variants.id, variantId)).get()!.stock
const refundAudits = () => env.t.db.select().from(auditLog).where(eq(auditLog.action, 'order.refund')).all()
const stripeRefunds = async (paymentIntent: string) => (await env.stripe.refunds.list({ payment_intent: paymentIntent, limit: 100 })).data

describe('a refund form sent more than once', () => {
  it('two concurrent submits: one Stripe refund, one refunds row, one audit row, one unit restocked', async () => {
    const { variantId, order, admin } = await paidOrder()
    expect(stockOf(variantId)).toBe(23)
    const nonce = formNonce.create()
    const request = { orderId: order.id, amountCents: 2000, restock: new Map([[order.lines[0]!.id, 1]]), nonce }
    const [a, b] = await Promise.all([refunds.refund(admin, request), refunds.refund(admin, request)])
    expect(a.refundId).toBe(b.refundId)
    expect(await stripeRefunds(order.stripePaymentIntentId!)).toHaveLength(1)
    expect(env.t.db.select().from(refundsTable).all()).toMatchObject([{ stripeRefundId: a.refundId, orderId: order.id, amountCents: 2000, formNonce: nonce }])
    expect(refundAudits()).toHaveLength(1)
    expect(stockOf(variantId)).toBe(24)
    expect(env.t.db.select().from(orderLines).where(eq(orderLines.orderId, order.id)).get()!.restockedQuantity).toBe(1)
    expect([a.message, b.message].filter((m) => m.startsWith('Refund of $20.00 sent'))).toHaveLength(1)
  })

  it('a replay with webhooks paused: the same one refund, audited and restocked once', async () => {
    const { variantId, order, admin } = await paidOrder()
    const nonce = formNonce.create()
    const request = { orderId: order.id, amountCents: 1000, restock: new Map([[order.lines[0]!.id, 1]]), nonce }
    const first = await refunds.refund(admin, request)
    const again = await refunds.refund(admin, request)
    expect(again.refundId).toBe(first.refundId)
    expect(again.message).toMatch(/already sent/)
    expect(await stripeRefunds(order.stripePaymentIntentId!)).toHaveLength(1)
    expect(refundAudits()).toHaveLength(1)
    expect(stockOf(variantId)).toBe(24)
    // a new form (a new nonce) is a new refund
    await refunds.refund(admin, { ...request, restock: new Map(), nonce: formNonce.create() })
    expect(await stripeRefunds(order.stripePaymentIntentId!)).toHaveLength(2)
    expect(refundAudits()).toHaveLength(2)
    expect(stockOf(variantId)).toBe(24)
  })

  it('refuses a form without its nonce, before Stripe is asked', async () => {
    const { order, admin } = await paidOrder()
    await expect(refunds.refund(admin, { orderId: order.id, amountCents: 1000, restock: new Map(), nonce: '' })).rejects.toThrow(/out of date/)
    expect(await stripeRefunds(order.stripePaymentIntentId!)).toHaveLength(0)
  })
})

describe('the shopper hears of a refund', () => {
  it('one email per refund, with the amount, the net and when it reaches the card; nothing of restocking', async () => {
    const { order, admin } = await paidOrder()
    await refunds.refund(admin, { orderId: order.id, amountCents: 10300, restock: new Map([[order.lines[0]!.id, 1]]), nonce: formNonce.create() })
    const charge = (await env.stripe.paymentIntents.retrieve(order.stripePaymentIntentId!)).latest_charge as string
    const [refunded] = await eventsFor(charge, 'charge.refunded')
    expect((await deliverEvent(env, refunded!)).status).toBe(200)
    expect((await deliverEvent(env, refunded!)).status).toBe(200)
    const queued = env.t.db.select().from(jobs).where(eq(jobs.kind, 'mail.order_refunded')).all()
    expect(queued).toHaveLength(1)
    expect(queued[0]!.payload).toMatchObject({ orderId: order.id, amountCents: 10300, refundedCents: 10300 })
    await handlers['mail.order_refunded']!(queued[0]!.payload, { jobId: queued[0]!.id } as never)
    const file = fs.readFileSync(path.join(env.t.dir, 'mail', `order-${order.id}-refund-10300.eml`), 'utf8')
    expect(file).toContain('To: ')
    // the text part, as written (the file itself is quoted-printable)
    const eml = orderRefunded((await orders.findById(order.id))!, { amountCents: 10300, refundedCents: 10300 }).text
    expect(eml).toContain('We have refunded $103.00')
    expect(eml).toMatch(/5 to 10 business days/)
    expect(eml).toContain(`Total charged: ${'$'}${(order.totalCents / 100).toFixed(2)}`)
    expect(eml).toContain('Refunded: −$103.00')
    expect(eml).toContain(`Net: ${'$'}${((order.totalCents - 10300) / 100).toFixed(2)}`)
    expect(eml.toLowerCase()).not.toContain('restock')
    const row = env.t.db.select().from(ordersTable).where(eq(ordersTable.id, order.id)).get()!
    expect(orders.totalsOf(row).map((r) => [r.label, r.cents])).toEqual(expect.arrayContaining([['Total charged', row.totalCents], ['Refunded', -10300], ['Net', row.totalCents - 10300]]))
  })
})
