import { eq } from 'drizzle-orm'
import type Stripe from 'stripe'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { POST as webhook } from '@/app/api/stripe/webhook/route'
import { orderLines, orders as ordersTable, stockHolds, stripeEvents, variants } from '@/db/schema'
import * as checkout from '@/lib/checkout'
import * as inventory from '@/lib/inventory'
import { captureLogs } from '@/lib/log'
import * as orders from '@/lib/orders'
import * as payments from '@/lib/payments'
import { insertCart, insertVariant } from '../support/catalog-rows'
import type { TestDb } from '../support/db'
import { startPaymentsEnv, type PaymentsEnv } from '../support/payments-env'
import type { StripeServer } from '../support/stripe-server'

// The webhook route, lib/ and a real SQLite file in this process; Stripe is the local
// Stripe-compatible server over HTTP, driven through the official SDK.

let env: PaymentsEnv
let stripeServer: StripeServer
let stripe: Stripe
let t: TestDb

beforeEach(async () => {
  // No webhook URL: events are recorded by the server and delivered by each test, so a test
  // can duplicate, reorder or drop them at will.
  env = await startPaymentsEnv()
  ;({ stripeServer, stripe, t } = env)
})
afterEach(() => env.close())

function signedRequest(payload: string, header?: string | null) {
  const headers = new Headers({ 'content-type': 'application/json' })
  const signature = header === undefined ? stripe.webhooks.generateTestHeaderString({ payload, secret: stripeServer.webhookSecret }) : header
  if (signature) headers.set('stripe-signature', signature)
  return new Request('http://127.0.0.1:3999/api/stripe/webhook', { method: 'POST', headers, body: payload })
}

async function deliver(event: Stripe.Event) {
  return webhook(signedRequest(JSON.stringify(event)))
}

async function eventsFor(objectId: string, type?: string): Promise<Stripe.Event[]> {
  const all = await stripe.events.list({ limit: 100 }).autoPagingToArray({ limit: 1000 })
  return all.filter((e) => (e.data.object as { id?: string }).id === objectId && (!type || e.type === type)).reverse()
}

/** A cart checked out through lib/checkout (holds + a real session) and paid. */
async function paidSession(opts: { stock?: number; quantity?: number; asyncOutcome?: 'succeeded' | 'failed' } = {}) {
  const { variantId } = insertVariant({ stock: opts.stock ?? 5, priceCents: 2500 })
  const cartId = insertCart([{ variantId, quantity: opts.quantity ?? 2 }])
  const { sessionId } = await checkout.start(cartId)
  stripeServer.emulator.control.pay({ session: sessionId, asyncOutcome: opts.asyncOutcome })
  return { variantId, cartId, sessionId }
}

const orderRows = () => t.db.select().from(ordersTable).all()
const stockOf = (variantId: number) => t.db.select().from(variants).where(eq(variants.id, variantId)).get()!.stock

describe('POST /api/stripe/webhook', () => {
  it('answers 400 to a missing, bad or stale signature and changes nothing', async () => {
    const { sessionId } = await paidSession()
    const [event] = await eventsFor(sessionId, 'checkout.session.completed')
    const payload = JSON.stringify(event)
    expect((await webhook(signedRequest(payload, null))).status).toBe(400)
    expect((await webhook(signedRequest(payload, 't=1,v1=deadbeef'))).status).toBe(400)
    const stale = stripe.webhooks.generateTestHeaderString({ payload, secret: stripeServer.webhookSecret, timestamp: Math.floor(Date.now() / 1000) - 301 })
    expect((await webhook(signedRequest(payload, stale))).status).toBe(400)
    const forged = stripe.webhooks.generateTestHeaderString({ payload, secret: 'whsec_not_ours' })
    expect((await webhook(signedRequest(payload, forged))).status).toBe(400)
    expect(orderRows()).toHaveLength(0)
    expect(t.db.select().from(stripeEvents).all()).toHaveLength(0)
  })

  it('the same event delivered three times at once makes one order', async () => {
    const { sessionId, variantId } = await paidSession({ quantity: 2 })
    const [event] = await eventsFor(sessionId, 'checkout.session.completed')
    const responses = await Promise.all([deliver(event!), deliver(event!), deliver(event!)])
    expect(responses.map((r) => r.status)).toEqual([200, 200, 200])
    expect(orderRows()).toHaveLength(1)
    expect(orderRows()[0]).toMatchObject({ status: 'paid', stripeCheckoutSessionId: sessionId })
    expect(stockOf(variantId)).toBe(3)
    const recorded = t.db.select().from(stripeEvents).all()
    expect(recorded).toHaveLength(1)
    expect(recorded[0]!.processedAt).not.toBeNull()
    // and again later: still one
    expect((await deliver(event!)).status).toBe(200)
    expect(orderRows()).toHaveLength(1)
  })

  it('async_payment_succeeded before completed ends as one paid order', async () => {
    const { sessionId, variantId } = await paidSession({ asyncOutcome: 'succeeded' })
    stripeServer.emulator.control.advanceClock({ seconds: 120 })
    stripeServer.emulator.control.sweep()
    const completed = (await eventsFor(sessionId, 'checkout.session.completed'))[0]!
    const succeeded = (await eventsFor(sessionId, 'checkout.session.async_payment_succeeded'))[0]!
    expect((await deliver(succeeded)).status).toBe(200)
    expect((await deliver(completed)).status).toBe(200)
    expect(orderRows()).toHaveLength(1)
    expect(orderRows()[0]!.status).toBe('paid')
    expect(stockOf(variantId)).toBe(3)
  })

  it('async_payment_failed marks the order failed and gives the held units back', async () => {
    const { sessionId, variantId } = await paidSession({ asyncOutcome: 'failed' })
    const completed = (await eventsFor(sessionId, 'checkout.session.completed'))[0]!
    expect((await deliver(completed)).status).toBe(200)
    expect(orderRows()[0]!.status).toBe('awaiting_payment')
    expect(inventory.availableOne(variantId)).toBe(3)
    stripeServer.emulator.control.advanceClock({ seconds: 120 })
    stripeServer.emulator.control.sweep()
    const failed = (await eventsFor(sessionId, 'checkout.session.async_payment_failed'))[0]!
    expect((await deliver(failed)).status).toBe(200)
    expect(orderRows()[0]!.status).toBe('payment_failed')
    expect(inventory.availableOne(variantId)).toBe(5)
    expect(stockOf(variantId)).toBe(5)
  })

  it('checkout.session.expired releases the holds', async () => {
    const { variantId } = insertVariant({ stock: 4 })
    const cartId = insertCart([{ variantId, quantity: 3 }])
    const { sessionId } = await checkout.start(cartId)
    expect(inventory.availableOne(variantId)).toBe(1)
    await stripe.checkout.sessions.expire(sessionId)
    const expired = (await eventsFor(sessionId, 'checkout.session.expired'))[0]!
    expect((await deliver(expired)).status).toBe(200)
    expect(inventory.availableOne(variantId)).toBe(4)
    expect(t.db.select().from(stockHolds).all().map((h) => h.status)).toEqual(['released'])
    expect(orderRows()).toHaveLength(0)
  })

  it('partial then full refunds set the status; the total stays what was charged', async () => {
    const { sessionId, variantId } = await paidSession({ quantity: 2 })
    await deliver((await eventsFor(sessionId, 'checkout.session.completed'))[0]!)
    const order = orderRows()[0]!
    await stripe.refunds.create({ payment_intent: order.stripePaymentIntentId!, amount: 1000 })
    const [partial] = await eventsFor((await stripe.paymentIntents.retrieve(order.stripePaymentIntentId!)).latest_charge as string, 'charge.refunded')
    expect((await deliver(partial!)).status).toBe(200)
    expect(orderRows()[0]).toMatchObject({ status: 'partially_refunded', refundedCents: 1000, totalCents: order.totalCents })
    await stripe.refunds.create({ payment_intent: order.stripePaymentIntentId! })
    const refunds = await eventsFor((partial!.data.object as Stripe.Charge).id, 'charge.refunded')
    expect(refunds).toHaveLength(2)
    // deliver the newest first, then the older one again: the running total wins
    expect((await deliver(refunds[1]!)).status).toBe(200)
    expect((await deliver(refunds[0]!)).status).toBe(200)
    expect(orderRows()[0]).toMatchObject({ status: 'refunded', refundedCents: order.totalCents, totalCents: order.totalCents })
    expect(stockOf(variantId)).toBe(3)
  })

  it('a refund for an order not recorded yet fulfils its session first', async () => {
    const { sessionId } = await paidSession()
    const session = await stripe.checkout.sessions.retrieve(sessionId)
    await stripe.refunds.create({ payment_intent: session.payment_intent as string, amount: 500 })
    const refundEvent = (await stripe.events.list({ types: ['charge.refunded'], limit: 10 })).data.find(
      (e) => (e.data.object as Stripe.Charge).payment_intent === session.payment_intent,
    )!
    expect((await deliver(refundEvent)).status).toBe(200)
    expect(orderRows()).toHaveLength(1)
    expect(orderRows()[0]).toMatchObject({ stripeCheckoutSessionId: sessionId, status: 'partially_refunded', refundedCents: 500 })
  })

  it('a dispute flags the order', async () => {
    const { sessionId } = await paidSession()
    await deliver((await eventsFor(sessionId, 'checkout.session.completed'))[0]!)
    const dispute = stripeServer.emulator.control.dispute({ payment_intent: orderRows()[0]!.stripePaymentIntentId! })
    const [event] = await eventsFor(dispute.id, 'charge.dispute.created')
    expect((await deliver(event!)).status).toBe(200)
    expect(orderRows()[0]!.isDisputed).toBe(true)
    expect(orderRows()[0]!.status).toBe('paid')
  })

  it('a paid session the store never created, with variant_id metadata, becomes an order', async () => {
    const { variantId } = insertVariant({ stock: 5, priceCents: 1800 })
    const session = stripeServer.emulator.control.foreignSession({ line_items: [{ name: 'Enamel Mug', unit_amount: 1800, quantity: 2, variant_id: String(variantId) }] })
    expect((await deliver((await eventsFor(session.id, 'checkout.session.completed'))[0]!)).status).toBe(200)
    expect(orderRows()).toHaveLength(1)
    expect(orderRows()[0]).toMatchObject({ status: 'paid', totalCents: session.amount_total })
    expect(stockOf(variantId)).toBe(3)
  })

  it('fulfils a session with more than 100 line items (paginated) into one order with every line', async () => {
    const { variantId } = insertVariant({ stock: 500, priceCents: 100 })
    const lineItems = Array.from({ length: 130 }, (_, i) => ({ name: `Part ${i + 1}`, unit_amount: 100 + i, quantity: 1 + (i % 2), variant_id: String(variantId) }))
    const session = stripeServer.emulator.control.foreignSession({ line_items: lineItems })
    expect((await deliver((await eventsFor(session.id, 'checkout.session.completed'))[0]!)).status).toBe(200)
    const [order] = orderRows()
    expect(order).toMatchObject({ status: 'paid', totalCents: session.amount_total })
    const lines = t.db.select().from(orderLines).all()
    expect(lines).toHaveLength(130)
    const units = lineItems.reduce((sum, l) => sum + l.quantity, 0)
    expect(lines.reduce((sum, l) => sum + l.quantity, 0)).toBe(units)
    expect(stockOf(variantId)).toBe(500 - units)
  })

  it('an event whose effect cannot be applied gets 500 and keeps the error for the retry', async () => {
    const { sessionId } = await paidSession()
    const event = (await eventsFor(sessionId, 'checkout.session.completed'))[0]!
    const broken = { ...event, id: 'evt_test_broken', data: { object: { ...event.data.object, id: 'cs_test_does_not_exist' } } } as Stripe.Event
    // The failure is the point of this test: its log line is taken and checked, not printed.
    const logged = captureLogs()
    const res = await deliver(broken).finally(logged.stop)
    expect(res.status).toBe(500)
    expect(logged.lines).toContainEqual(expect.stringMatching(/ERROR webhook: event failed; Stripe will retry .*evt_test_broken/))
    const row = t.db.select().from(stripeEvents).where(eq(stripeEvents.id, 'evt_test_broken')).get()!
    expect(row.processedAt).toBeNull()
    expect(row.error).toMatch(/cs_test_does_not_exist|No such/i)
    expect(orderRows()).toHaveLength(0)
  })

  it('events delivered at once, one failing inside its transaction: the others are recorded, it answers 500, and its retry applies', async () => {
    const sales = [await paidSession({ quantity: 1 }), await paidSession({ quantity: 1 }), await paidSession({ quantity: 1 })]
    const events = await Promise.all(sales.map(async ({ sessionId }) => (await eventsFor(sessionId, 'checkout.session.completed'))[0]!))
    const failing = sales[1]!
    // A real failure inside the order's transaction, raised by SQLite itself, for one session only.
    t.db.$client.exec(`CREATE TRIGGER test_fail_one BEFORE INSERT ON orders WHEN NEW.stripe_checkout_session_id = '${failing.sessionId}' BEGIN SELECT RAISE(ABORT, 'injected failure'); END`)
    const logged = captureLogs()
    const responses = await Promise.all(events.map((event) => deliver(event))).finally(logged.stop)
    expect(responses.map((r) => r.status)).toEqual([200, 500, 200])
    expect(logged.lines).toContainEqual(expect.stringMatching(/injected failure/))
    const ordered = () => orderRows().map((o) => o.stripeCheckoutSessionId).sort()
    expect(ordered()).toEqual([sales[0]!.sessionId, sales[2]!.sessionId].sort())
    expect(stockOf(failing.variantId)).toBe(5)
    const failed = t.db.select().from(stripeEvents).where(eq(stripeEvents.id, events[1]!.id)).get()!
    expect(failed.processedAt).toBeNull()
    expect(failed.error).toMatch(/injected failure/)
    expect(t.db.select().from(stripeEvents).all().filter((e) => e.processedAt !== null)).toHaveLength(2)

    // Stripe retries the failed one once the cause is gone: it applies, and the others stay as they were.
    t.db.$client.exec('DROP TRIGGER test_fail_one')
    expect((await deliver(events[1]!)).status).toBe(200)
    expect(ordered()).toEqual(sales.map((s) => s.sessionId).sort())
    expect(sales.map((s) => stockOf(s.variantId))).toEqual([4, 4, 4])
    expect(t.db.select().from(stripeEvents).all().filter((e) => e.processedAt !== null)).toHaveLength(3)
  })

  it('fulfilling a session Stripe does not know is told apart from a passing failure', async () => {
    const failure = await orders.syncSession('cs_test_unknown_session_0001').catch((err: unknown) => err)
    expect(payments.isUnknownObject(failure)).toBe(true)
    expect(payments.isUnknownObject(new Error('socket hang up'))).toBe(false)
  })

  it('other event types are recorded and acknowledged', async () => {
    const event = { id: 'evt_test_other', object: 'event', type: 'customer.created', created: Math.floor(Date.now() / 1000), data: { object: { id: 'cus_1', object: 'customer' } } }
    expect((await webhook(signedRequest(JSON.stringify(event)))).status).toBe(200)
    expect(t.db.select().from(stripeEvents).get()).toMatchObject({ id: 'evt_test_other', type: 'customer.created' })
  })
})
