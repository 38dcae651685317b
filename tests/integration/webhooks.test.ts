import { sql } from 'drizzle-orm'
import type Stripe from 'stripe'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { POST as webhook } from '@/app/api/stripe/webhook/route'
import { read } from '@/db/tx'
import * as checkout from '@/lib/checkout'
import * as inventory from '@/lib/inventory'
import { captureLogs } from '@/lib/log'
import * as orders from '@/lib/orders'
import * as payments from '@/lib/payments'
import { ENGINES, useEngine } from '../support/engines'
import { checkoutOn, insertCartOn, insertVariantOn, ordersOn, stockOn } from '../support/intake-rows'
import { startPaymentsEnv, type PaymentsEnv } from '../support/payments-env'
import type { StripeServer } from '../support/stripe-server'

// The webhook route and lib/ in this process, on both engines (tests/support/engines.ts);
// Stripe is the local Stripe-compatible server over HTTP, driven through the official SDK. On
// PostgreSQL, also two app servers taking the same deliveries at once.

describe.each(ENGINES)('POST /api/stripe/webhook on %s', (name) => {
  const engine = useEngine(name)
  let env: PaymentsEnv
  let stripeServer: StripeServer
  let stripe: Stripe

  beforeEach(async () => {
    // No webhook URL: events are recorded by the server and delivered by each test, so a test
    // can duplicate, reorder or drop them at will.
    env = await startPaymentsEnv()
    ;({ stripeServer, stripe } = env)
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

  /**
   * A cart checked out (holds + a real session) and paid. On SQLite through lib/checkout; on
   * PostgreSQL, where lib/checkout does not run yet, the same way by tests/support/intake-rows.ts.
   */
  async function paidSession(opts: { stock?: number; quantity?: number; asyncOutcome?: 'succeeded' | 'failed'; pay?: boolean } = {}) {
    const quantity = opts.quantity ?? 2
    const variantId = await insertVariantOn(engine, { stock: opts.stock ?? 5, priceCents: 2500 })
    const cartId = await insertCartOn(engine, [{ variantId, quantity }])
    const sessionId = name === 'sqlite' ? (await checkout.start(cartId)).sessionId : await checkoutOn(stripe, cartId, [{ variantId, quantity, priceCents: 2500 }])
    if (opts.pay !== false) stripeServer.emulator.control.pay({ session: sessionId, asyncOutcome: opts.asyncOutcome })
    return { variantId, cartId, sessionId }
  }

  const orderRows = () => ordersOn(engine)
  const stockOf = (variantId: number) => stockOn(engine, variantId)
  const availableOf = async (variantId: number) => (await read((db, t) => inventory.availableIn(db, t, [variantId]))).get(variantId)
  const eventRows = () =>
    engine.rows<{ id: string; type: string; processedAt: number | string | null; error: string | null; outcome: string | null }>(
      sql`SELECT id, type, processed_at AS "processedAt", error, outcome FROM stripe_events ORDER BY id`,
    )

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
    expect(await orderRows()).toHaveLength(0)
    expect(await eventRows()).toHaveLength(0)
  })

  it('the same event delivered three times at once makes one order', async () => {
    const { sessionId, variantId } = await paidSession({ quantity: 2 })
    const [event] = await eventsFor(sessionId, 'checkout.session.completed')
    const responses = await Promise.all([deliver(event!), deliver(event!), deliver(event!)])
    expect(responses.map((r) => r.status)).toEqual([200, 200, 200])
    expect(await orderRows()).toHaveLength(1)
    expect((await orderRows())[0]).toMatchObject({ status: 'paid', sessionId })
    expect(await stockOf(variantId)).toBe(3)
    const recorded = await eventRows()
    expect(recorded).toHaveLength(1)
    expect(recorded[0]!.processedAt).not.toBeNull()
    // and again later: still one
    expect((await deliver(event!)).status).toBe(200)
    expect(await orderRows()).toHaveLength(1)
  })

  it('async_payment_succeeded before completed ends as one paid order', async () => {
    const { sessionId, variantId } = await paidSession({ asyncOutcome: 'succeeded' })
    stripeServer.emulator.control.advanceClock({ seconds: 120 })
    stripeServer.emulator.control.sweep()
    const completed = (await eventsFor(sessionId, 'checkout.session.completed'))[0]!
    const succeeded = (await eventsFor(sessionId, 'checkout.session.async_payment_succeeded'))[0]!
    expect((await deliver(succeeded)).status).toBe(200)
    expect((await deliver(completed)).status).toBe(200)
    expect(await orderRows()).toHaveLength(1)
    expect((await orderRows())[0]!.status).toBe('paid')
    expect(await stockOf(variantId)).toBe(3)
  })

  it('async_payment_failed marks the order failed and gives the held units back', async () => {
    const { sessionId, variantId } = await paidSession({ asyncOutcome: 'failed' })
    const completed = (await eventsFor(sessionId, 'checkout.session.completed'))[0]!
    expect((await deliver(completed)).status).toBe(200)
    expect((await orderRows())[0]!.status).toBe('awaiting_payment')
    expect(await availableOf(variantId)).toBe(3)
    stripeServer.emulator.control.advanceClock({ seconds: 120 })
    stripeServer.emulator.control.sweep()
    const failed = (await eventsFor(sessionId, 'checkout.session.async_payment_failed'))[0]!
    expect((await deliver(failed)).status).toBe(200)
    expect((await orderRows())[0]!.status).toBe('payment_failed')
    expect(await availableOf(variantId)).toBe(5)
    expect(await stockOf(variantId)).toBe(5)
  })

  it('checkout.session.expired releases the holds', async () => {
    const { variantId, sessionId } = await paidSession({ stock: 4, quantity: 3, pay: false })
    expect(await availableOf(variantId)).toBe(1)
    await stripe.checkout.sessions.expire(sessionId)
    const expired = (await eventsFor(sessionId, 'checkout.session.expired'))[0]!
    expect((await deliver(expired)).status).toBe(200)
    expect(await availableOf(variantId)).toBe(4)
    expect((await engine.rows<{ status: string }>(sql`SELECT status FROM stock_holds`)).map((h) => h.status)).toEqual(['released'])
    expect(await orderRows()).toHaveLength(0)
  })

  it('partial then full refunds set the status; the total stays what was charged', async () => {
    const { sessionId, variantId } = await paidSession({ quantity: 2 })
    await deliver((await eventsFor(sessionId, 'checkout.session.completed'))[0]!)
    const order = (await orderRows())[0]!
    await stripe.refunds.create({ payment_intent: order.paymentIntentId!, amount: 1000 })
    const [partial] = await eventsFor((await stripe.paymentIntents.retrieve(order.paymentIntentId!)).latest_charge as string, 'charge.refunded')
    expect((await deliver(partial!)).status).toBe(200)
    expect((await orderRows())[0]).toMatchObject({ status: 'partially_refunded', refundedCents: 1000, totalCents: order.totalCents })
    await stripe.refunds.create({ payment_intent: order.paymentIntentId! })
    const refunds = await eventsFor((partial!.data.object as Stripe.Charge).id, 'charge.refunded')
    expect(refunds).toHaveLength(2)
    // deliver the newest first, then the older one again: the running total wins
    expect((await deliver(refunds[1]!)).status).toBe(200)
    expect((await deliver(refunds[0]!)).status).toBe(200)
    expect((await orderRows())[0]).toMatchObject({ status: 'refunded', refundedCents: order.totalCents, totalCents: order.totalCents })
    expect(await stockOf(variantId)).toBe(3)
  })

  it('a refund for an order not recorded yet fulfils its session first', async () => {
    const { sessionId } = await paidSession()
    const session = await stripe.checkout.sessions.retrieve(sessionId)
    await stripe.refunds.create({ payment_intent: session.payment_intent as string, amount: 500 })
    const refundEvent = (await stripe.events.list({ types: ['charge.refunded'], limit: 10 })).data.find(
      (e) => (e.data.object as Stripe.Charge).payment_intent === session.payment_intent,
    )!
    expect((await deliver(refundEvent)).status).toBe(200)
    expect(await orderRows()).toHaveLength(1)
    expect((await orderRows())[0]).toMatchObject({ sessionId, status: 'partially_refunded', refundedCents: 500 })
  })

  it('a dispute flags the order', async () => {
    const { sessionId } = await paidSession()
    await deliver((await eventsFor(sessionId, 'checkout.session.completed'))[0]!)
    const dispute = stripeServer.emulator.control.dispute({ payment_intent: (await orderRows())[0]!.paymentIntentId! })
    const [event] = await eventsFor(dispute.id, 'charge.dispute.created')
    expect((await deliver(event!)).status).toBe(200)
    expect((await orderRows())[0]!.isDisputed).toBe(true)
    expect((await orderRows())[0]!.status).toBe('paid')
  })

  it('a paid session the store never created, with variant_id metadata, becomes an order', async () => {
    const variantId = await insertVariantOn(engine, { stock: 5, priceCents: 1800 })
    const session = stripeServer.emulator.control.foreignSession({ line_items: [{ name: 'Enamel Mug', unit_amount: 1800, quantity: 2, variant_id: String(variantId) }] })
    expect((await deliver((await eventsFor(session.id, 'checkout.session.completed'))[0]!)).status).toBe(200)
    expect(await orderRows()).toHaveLength(1)
    expect((await orderRows())[0]).toMatchObject({ status: 'paid', totalCents: session.amount_total })
    expect(await stockOf(variantId)).toBe(3)
  })

  it('fulfils a session with more than 100 line items (paginated) into one order with every line', async () => {
    const variantId = await insertVariantOn(engine, { stock: 500, priceCents: 100 })
    const lineItems = Array.from({ length: 130 }, (_, i) => ({ name: `Part ${i + 1}`, unit_amount: 100 + i, quantity: 1 + (i % 2), variant_id: String(variantId) }))
    const session = stripeServer.emulator.control.foreignSession({ line_items: lineItems })
    expect((await deliver((await eventsFor(session.id, 'checkout.session.completed'))[0]!)).status).toBe(200)
    const [order] = await orderRows()
    expect(order).toMatchObject({ status: 'paid', totalCents: session.amount_total })
    const lines = await engine.rows<{ quantity: number }>(sql`SELECT quantity FROM order_lines`)
    expect(lines).toHaveLength(130)
    const units = lineItems.reduce((sum, l) => sum + l.quantity, 0)
    expect(lines.reduce((sum, l) => sum + l.quantity, 0)).toBe(units)
    expect(await stockOf(variantId)).toBe(500 - units)
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
    const row = (await eventRows()).find((e) => e.id === 'evt_test_broken')!
    expect(row.processedAt).toBeNull()
    expect(row.error).toMatch(/cs_test_does_not_exist|No such/i)
    expect(await orderRows()).toHaveLength(0)
  })

  // Group commit (decision 046) is SQLite's: on PostgreSQL each event commits alone.
  it.runIf(name === 'sqlite')('events delivered at once, one failing inside its transaction: the others are recorded, it answers 500, and its retry applies', async () => {
    const sales = [await paidSession({ quantity: 1 }), await paidSession({ quantity: 1 }), await paidSession({ quantity: 1 })]
    const events = await Promise.all(sales.map(async ({ sessionId }) => (await eventsFor(sessionId, 'checkout.session.completed'))[0]!))
    const failing = sales[1]!
    // A real failure inside the order's transaction, raised by SQLite itself, for one session only.
    env.t.db.$client.exec(`CREATE TRIGGER test_fail_one BEFORE INSERT ON orders WHEN NEW.stripe_checkout_session_id = '${failing.sessionId}' BEGIN SELECT RAISE(ABORT, 'injected failure'); END`)
    const logged = captureLogs()
    const responses = await Promise.all(events.map((event) => deliver(event))).finally(logged.stop)
    expect(responses.map((r) => r.status)).toEqual([200, 500, 200])
    expect(logged.lines).toContainEqual(expect.stringMatching(/injected failure/))
    const ordered = async () => (await orderRows()).map((o) => o.sessionId).sort()
    expect(await ordered()).toEqual([sales[0]!.sessionId, sales[2]!.sessionId].sort())
    expect(await stockOf(failing.variantId)).toBe(5)
    const failed = (await eventRows()).find((e) => e.id === events[1]!.id)!
    expect(failed.processedAt).toBeNull()
    expect(failed.error).toMatch(/injected failure/)
    expect((await eventRows()).filter((e) => e.processedAt !== null)).toHaveLength(2)

    // Stripe retries the failed one once the cause is gone: it applies, and the others stay as they were.
    env.t.db.$client.exec('DROP TRIGGER test_fail_one')
    expect((await deliver(events[1]!)).status).toBe(200)
    expect(await ordered()).toEqual(sales.map((s) => s.sessionId).sort())
    expect(await Promise.all(sales.map((s) => stockOf(s.variantId)))).toEqual([4, 4, 4])
    expect((await eventRows()).filter((e) => e.processedAt !== null)).toHaveLength(3)
  })

  it('fulfilling a session Stripe does not know is told apart from a passing failure', async () => {
    const failure = await orders.syncSession('cs_test_unknown_session_0001').catch((err: unknown) => err)
    expect(payments.isUnknownObject(failure)).toBe(true)
    expect(payments.isUnknownObject(new Error('socket hang up'))).toBe(false)
  })

  it('other event types are recorded and acknowledged', async () => {
    const event = { id: 'evt_test_other', object: 'event', type: 'customer.created', created: Math.floor(Date.now() / 1000), data: { object: { id: 'cus_1', object: 'customer' } } }
    expect((await webhook(signedRequest(JSON.stringify(event)))).status).toBe(200)
    expect((await eventRows())[0]).toMatchObject({ id: 'evt_test_other', type: 'customer.created', outcome: 'ignored' })
  })

  // ---- Two app servers taking deliveries at once (PostgreSQL): READ COMMITTED, each event its
  // own transaction, the rules in the statements.

  /** The outcome each delivery answered with. */
  const outcomes = async (responses: Response[]) => Promise.all(responses.map(async (r) => ((await r.json()) as { outcome?: string }).outcome ?? `status ${r.status}`))
  const countOf = (query: ReturnType<typeof sql>) => engine.count(query)

  it.runIf(name === 'postgres')('the same checkout.session.completed 20 times at once on two app servers: one order, one stock take, one confirmation, one event row', async () => {
    const { sessionId, variantId } = await paidSession({ stock: 5, quantity: 2 })
    const [event] = await eventsFor(sessionId, 'checkout.session.completed')
    const servers = engine.appServers(2)
    try {
      const responses = await Promise.all(Array.from({ length: 20 }, () => deliver(event!)))
      expect(responses.map((r) => r.status)).toEqual(Array(20).fill(200))
      // applied once: the event row's insert decides (ON CONFLICT … WHERE processed_at IS NULL)
      const answered = await outcomes(responses)
      expect(answered.filter((o) => o === 'applied')).toHaveLength(1)
      expect(answered.filter((o) => o === 'duplicate')).toHaveLength(19)
    } finally {
      await servers.end()
    }
    expect(await orderRows()).toMatchObject([{ sessionId, status: 'paid' }])
    expect(await stockOf(variantId)).toBe(3)
    expect(await countOf(sql`SELECT count(*) AS n FROM stock_ledger WHERE variant_id = ${variantId} AND reason = 'sale'`)).toBe(1)
    expect(await countOf(sql`SELECT count(*) AS n FROM jobs WHERE kind = 'mail.order_confirmation'`)).toBe(1)
    expect(await countOf(sql`SELECT count(*) AS n FROM stripe_events WHERE id = ${event!.id} AND processed_at IS NOT NULL`)).toBe(1)
    expect(await countOf(sql`SELECT count(*) AS n FROM stripe_events`)).toBe(1)
    expect(await countOf(sql`SELECT count(*) AS n FROM stock_holds WHERE status = 'active'`)).toBe(0)
  })

  it.runIf(name === 'postgres')('completed and async_payment_succeeded of one session at once on two app servers: one order, stock taken once', async () => {
    const sales = []
    for (let i = 0; i < 6; i++) sales.push(await paidSession({ stock: 5, quantity: 2, asyncOutcome: 'succeeded' }))
    // both events exist and Stripe says paid: each delivery creates the order if it is first
    stripeServer.emulator.control.advanceClock({ seconds: 120 })
    stripeServer.emulator.control.sweep()
    const pairs = await Promise.all(
      sales.map(async ({ sessionId }) => [(await eventsFor(sessionId, 'checkout.session.completed'))[0]!, (await eventsFor(sessionId, 'checkout.session.async_payment_succeeded'))[0]!]),
    )
    const servers = engine.appServers(2)
    try {
      const responses = await Promise.all(pairs.flat().map((event) => deliver(event)))
      expect(responses.map((r) => r.status)).toEqual(Array(12).fill(200))
    } finally {
      await servers.end()
    }
    const rows = await orderRows()
    expect(rows.map((o) => o.sessionId).sort()).toEqual(sales.map((s) => s.sessionId).sort())
    expect(rows.every((o) => o.status === 'paid' && o.stockTakenAt !== null)).toBe(true)
    for (const { variantId } of sales) expect(await stockOf(variantId)).toBe(3)
    expect(await countOf(sql`SELECT count(*) AS n FROM stock_ledger WHERE reason = 'sale'`)).toBe(6)
    expect(await countOf(sql`SELECT count(*) AS n FROM jobs WHERE kind = 'mail.order_confirmation'`)).toBe(6)
    expect(await countOf(sql`SELECT count(*) AS n FROM stripe_events WHERE processed_at IS NOT NULL`)).toBe(12)
  })

  it.runIf(name === 'postgres')('an expiry racing a pay-later completion of the same session on two app servers: the holds stay with the order', async () => {
    // A completion whose payment is still processing keeps the session's holds until it
    // settles; an expired event of the same session (decided before the order existed) must
    // not release them meanwhile. Several copies of the expiry arrive spread over the
    // completion's transaction, on both servers.
    const sales = []
    for (let i = 0; i < 4; i++) sales.push(await paidSession({ stock: 5, quantity: 2, asyncOutcome: 'succeeded' }))
    const completions = await Promise.all(sales.map(async ({ sessionId }) => (await eventsFor(sessionId, 'checkout.session.completed'))[0]!))
    const expiryOf = (completed: Stripe.Event, copy: number) =>
      ({ ...completed, id: `${completed.id}_expired_${copy}`, type: 'checkout.session.expired', data: { object: { ...completed.data.object, status: 'expired', payment_status: 'unpaid' } } }) as Stripe.Event
    const later = (ms: number, event: Stripe.Event) => new Promise<Response>((resolve, reject) => setTimeout(() => deliver(event).then(resolve, reject), ms))
    const servers = engine.appServers(2)
    try {
      const responses = await Promise.all(completions.flatMap((completed) => [deliver(completed), ...Array.from({ length: 12 }, (_, copy) => later(copy * 3, expiryOf(completed, copy)))]))
      expect(responses.every((r) => r.status === 200)).toBe(true)
    } finally {
      await servers.end()
    }
    const rows = await orderRows()
    expect(rows).toHaveLength(4)
    expect(rows.every((o) => o.status === 'awaiting_payment' && o.stockTakenAt === null)).toBe(true)
    for (const { variantId, sessionId } of sales) {
      // nothing sold yet, and the order's 2 units still held for it: never released while its order waits
      expect(await stockOf(variantId)).toBe(5)
      const held = await engine.rows<{ quantity: number | string }>(sql`SELECT quantity FROM stock_holds WHERE stripe_checkout_session_id = ${sessionId} AND status = 'active'`)
      expect(held.reduce((n, h) => n + Number(h.quantity), 0)).toBe(2)
    }
  })
})
