import { sql } from 'drizzle-orm'
import Stripe from 'stripe'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { transaction } from '@/db/tx'
import { resetEnv } from '@/lib/env'
import { InvalidInput, NotFound } from '@/lib/errors'
import * as orders from '@/lib/orders'
import * as orderConfirmations from '@/lib/orders/confirmations'
import * as refunds from '@/lib/orders/refunds'
import * as shipping from '@/lib/orders/shipping'
import { setClient as setStripeClient } from '@/lib/payments/stripe'
import * as formNonce from '@/lib/request/form-nonce'
import { ENGINES, insertOrder, useEngine, type TestEngine } from '../support/engines'
import { startStripeServer, type StripeServer } from '../support/stripe-server'

// The owner's actions on one order (lib/orders/shipping.ts, confirmations.ts, refunds.ts) and
// the order reads the pages use, on both engines through db/tx.ts; on PostgreSQL, two app
// servers doing the same action at once do it once. Refunds go to the local Stripe-compatible
// server through the official SDK, as in production.

const OWNER_EMAIL = 'owner@example.com'

async function insertOwner(engine: TestEngine): Promise<{ id: number; email: string }> {
  const [row] = await engine.rows<{ id: number | string }>(sql`INSERT INTO admin_users (email, password_hash) VALUES (${OWNER_EMAIL}, 'x') RETURNING id`)
  return { id: Number(row!.id), email: OWNER_EMAIL }
}

const orderRow = async (engine: TestEngine, id: number) =>
  (
    await engine.rows<{ status: string; carrier: string | null; tracking: string | null; fulfilledAt: number | string | null }>(
      sql`SELECT status, carrier, tracking_number AS tracking, fulfilled_at AS "fulfilledAt" FROM orders WHERE id = ${id}`,
    )
  )[0]!
const jobsKeyed = (engine: TestEngine, key: string) => engine.count(sql`SELECT count(*) AS n FROM jobs WHERE unique_key = ${key}`)
/** The audit rows of an action on an order, their JSON read the same way on both engines. */
async function audited(engine: TestEngine, action: string, orderId: number) {
  const rows = await engine.rows<{ before: unknown; after: unknown }>(sql`SELECT before, after FROM audit_log WHERE action = ${action} AND subject = ${`order:${orderId}`} ORDER BY id`)
  const parsed = (v: unknown) => (typeof v === 'string' ? JSON.parse(v) : v) as Record<string, unknown> | null
  return rows.map((r) => ({ before: parsed(r.before), after: parsed(r.after) }))
}

let stripeServer: StripeServer
let stripe: Stripe
beforeAll(async () => {
  // No webhook URL: the order's status moves only when a test says so.
  stripeServer = await startStripeServer({ asyncDelayMs: 60_000 })
  stripe = new Stripe(stripeServer.secretKey, { host: stripeServer.host, port: stripeServer.port, protocol: 'http' })
  Object.assign(process.env, { PAYMENTS: 'stripe', STRIPE_SECRET_KEY: stripeServer.secretKey, STRIPE_WEBHOOK_SECRET: stripeServer.webhookSecret, STRIPE_API_BASE: stripeServer.url, JOBS: 'off' })
  resetEnv()
  setStripeClient(undefined)
})
afterAll(async () => {
  setStripeClient(undefined)
  for (const key of ['PAYMENTS', 'STRIPE_SECRET_KEY', 'STRIPE_WEBHOOK_SECRET', 'STRIPE_API_BASE', 'JOBS']) delete process.env[key]
  resetEnv()
  await stripeServer.close()
})

let made = 0
/**
 * A paid order at Stripe (a Checkout Session paid on the local server) of 4 mugs at $25, recorded
 * here with raw SQL on either engine: its id, its line's, the variant's (stock 23 after the sale).
 */
async function paidOrderAtStripe(engine: TestEngine) {
  made++
  const session = await stripe.checkout.sessions.create({
    mode: 'payment',
    line_items: [{ quantity: 4, price_data: { currency: 'usd', unit_amount: 2500, product_data: { name: 'Harbor Mug' } } }],
    success_url: 'https://shop.test/checkout/success',
  })
  const paid = stripeServer.emulator.control.pay({ session: session.id })
  const [product] = await engine.rows<{ id: number | string }>(sql`INSERT INTO products (slug, title) VALUES (${`mug-${made}`}, 'Harbor Mug') RETURNING id`)
  const [variant] = await engine.rows<{ id: number | string }>(
    sql`INSERT INTO variants (product_id, sku, title, price_cents, stock) VALUES (${Number(product!.id)}, ${`MUG-${made}`}, 'Blue', 2500, 23) RETURNING id`,
  )
  const now = Date.now()
  const [order] = await engine.rows<{ id: number | string }>(sql`
    INSERT INTO orders (stripe_checkout_session_id, stripe_payment_intent_id, public_token, status, total_cents, subtotal_cents, currency, email, created_at, updated_at)
    VALUES (${session.id}, ${paid.payment_intent as string}, ${`token_${made}_abcdefghijklmnopqrstuvwx`}, 'paid', 10000, 10000, 'usd', 'shopper@example.com', ${now}, ${now})
    RETURNING id`)
  const orderId = Number(order!.id)
  const [line] = await engine.rows<{ id: number | string }>(sql`
    INSERT INTO order_lines (order_id, variant_id, title, quantity, unit_amount_cents, total_cents)
    VALUES (${orderId}, ${Number(variant!.id)}, 'Harbor Mug', 4, 2500, 10000)
    RETURNING id`)
  return { orderId, lineId: Number(line!.id), variantId: Number(variant!.id), paymentIntent: paid.payment_intent as string }
}

const stockOf = (engine: TestEngine, variantId: number) => engine.count(sql`SELECT stock AS n FROM variants WHERE id = ${variantId}`)
const restockedOf = (engine: TestEngine, lineId: number) => engine.count(sql`SELECT restocked_quantity AS n FROM order_lines WHERE id = ${lineId}`)
const restockLedger = (engine: TestEngine, variantId: number) =>
  engine.rows<{ delta: number | string }>(sql`SELECT delta FROM stock_ledger WHERE variant_id = ${variantId} AND reason = 'refund_restock' ORDER BY id`).then((rows) => rows.map((r) => Number(r.delta)))

describe.each(ENGINES)("the owner's actions on an order on %s", (name) => {
  const engine = useEngine(name)

  it('reads an order by id, by its private link and by its session, with its lines', async () => {
    const id = await insertOrder(engine, 'read')
    await engine.rows(sql`INSERT INTO order_lines (order_id, title, quantity, unit_amount_cents, total_cents) VALUES (${id}, 'Mug', 2, 4950, 9900), (${id}, 'Cup', 1, 0, 0) RETURNING id`)
    const byId = await orders.findById(id)
    expect(byId).toMatchObject({ id, status: 'paid', totalCents: 9900, currency: 'usd', discountCodes: [], isOversold: false, shippingAddress: null })
    expect(byId!.lines.map((l) => [l.title, l.quantity, l.restockedQuantity])).toEqual([
      ['Mug', 2, 0],
      ['Cup', 1, 0],
    ])
    expect(await orders.findByToken('token_read_abcdefghijklmnopqrstuvwx')).toEqual(byId)
    // the success page's look-up: the row alone
    const bySession = await orders.findBySession('cs_read')
    expect(bySession).toMatchObject({ id, status: 'paid', publicToken: 'token_read_abcdefghijklmnopqrstuvwx' })
    expect(bySession).not.toHaveProperty('lines')
    expect(await orders.findById(999_999)).toBeNull()
    expect(await orders.findByToken('no such token at all')).toBeNull()
    expect(await orders.findBySession('cs_none')).toBeNull()
  })

  it('fulfils a paid order once: status, carrier and tracking, one shipping email, one audit row', async () => {
    const owner = await insertOwner(engine)
    const id = await insertOrder(engine, 'ship')
    await shipping.markFulfilled(owner, id, { carrier: 'UPS', trackingNumber: '1Z999' })
    await expect(shipping.markFulfilled(owner, id, { carrier: 'DHL', trackingNumber: '2' })).rejects.toThrow(/already marked fulfilled/)
    const row = await orderRow(engine, id)
    expect(row).toMatchObject({ status: 'fulfilled', carrier: 'UPS', tracking: '1Z999' })
    expect(row.fulfilledAt).not.toBeNull()
    expect(await jobsKeyed(engine, `mail.order_shipped:${id}`)).toBe(1)
    expect(await audited(engine, 'order.fulfil', id)).toEqual([{ before: { status: 'paid' }, after: { status: 'fulfilled', carrier: 'UPS', trackingNumber: '1Z999' } }])
    expect(await orders.findById(id)).toMatchObject({ status: 'fulfilled', carrier: 'UPS', trackingNumber: '1Z999' })

    // partly refunded: ships, keeps its status; refunded or missing: refused, nothing written
    const partly = await insertOrder(engine, 'partly')
    await engine.rows(sql`UPDATE orders SET status = 'partially_refunded', refunded_cents = 1000 WHERE id = ${partly} RETURNING id`)
    await shipping.markFulfilled(owner, partly, { carrier: 'UPS', trackingNumber: '1Z998' })
    expect(await orderRow(engine, partly)).toMatchObject({ status: 'partially_refunded', tracking: '1Z998' })
    expect(await audited(engine, 'order.fulfil', partly)).toEqual([{ before: { status: 'partially_refunded' }, after: { status: 'partially_refunded', carrier: 'UPS', trackingNumber: '1Z998' } }])
    const refunded = await insertOrder(engine, 'gone')
    await engine.rows(sql`UPDATE orders SET status = 'refunded' WHERE id = ${refunded} RETURNING id`)
    await expect(shipping.markFulfilled(owner, refunded, { carrier: 'UPS', trackingNumber: '1Z997' })).rejects.toThrow(/Only a paid order/)
    await expect(shipping.markFulfilled(owner, 999_999, { carrier: 'UPS', trackingNumber: '1Z997' })).rejects.toThrow(NotFound)
    expect(await engine.count(sql`SELECT count(*) AS n FROM jobs WHERE kind = 'mail.order_shipped'`)).toBe(2)
    expect(await engine.count(sql`SELECT count(*) AS n FROM audit_log WHERE action = 'order.fulfil'`)).toBe(2)
  })

  it('resends the confirmation once per form: the same nonce twice queues one job and one audit row', async () => {
    const owner = await insertOwner(engine)
    const id = await insertOrder(engine, 'resend')
    const nonce = formNonce.create()
    expect(await orderConfirmations.resend(owner, id, nonce)).toEqual({ isQueued: true })
    expect(await orderConfirmations.resend(owner, id, nonce)).toEqual({ isQueued: false })
    expect(await jobsKeyed(engine, `mail.order_confirmation:${id}:resend:${nonce}`)).toBe(1)
    expect(await orderConfirmations.resend(owner, id, formNonce.create())).toEqual({ isQueued: true })
    expect(await audited(engine, 'order.resend_confirmation', id)).toEqual([
      { before: null, after: { email: 'shopper@example.com' } },
      { before: null, after: { email: 'shopper@example.com' } },
    ])
    await engine.rows(sql`UPDATE orders SET status = 'refunded' WHERE id = ${id} RETURNING id`)
    await expect(orderConfirmations.resend(owner, id, formNonce.create())).rejects.toThrow(InvalidInput)
    await expect(orderConfirmations.resend(owner, 999_999, formNonce.create())).rejects.toThrow(NotFound)
    await expect(orderConfirmations.resend(owner, id, 'x')).rejects.toThrow(/expired/)
    expect(await engine.count(sql`SELECT count(*) AS n FROM jobs WHERE kind = 'mail.order_confirmation'`)).toBe(2)
  })

  it('records a refund once when it is sent twice at once, restocks once; then the rest, restocking no more than was sold', async () => {
    const owner = await insertOwner(engine)
    const { orderId, lineId, variantId, paymentIntent } = await paidOrderAtStripe(engine)
    const order = (await orders.findById(orderId))!
    const nonce = formNonce.create()
    const partial = { orderId, amountCents: 2000, restock: new Map([[lineId, 1]]), nonce }
    // one form sent twice at once: both reach Stripe (one refund, by the idempotency key), one is recorded
    const [a, b] = await Promise.all([refunds.refund(owner, partial), refunds.refund(owner, partial)])
    expect(a.refundId).toBe(b.refundId)
    expect((await stripe.refunds.list({ payment_intent: paymentIntent })).data).toHaveLength(1)
    expect(await stockOf(engine, variantId)).toBe(24)
    expect(await restockedOf(engine, lineId)).toBe(1)
    expect(await audited(engine, 'order.refund', orderId)).toEqual([
      { before: { status: 'paid', refundedCents: 0 }, after: expect.objectContaining({ refundId: a.refundId, amountCents: 2000, restocked: [{ lineId, variantId, quantity: 1 }] }) },
    ])
    // sent again later: answered from the refund recorded, nothing more
    expect((await refunds.refund(owner, partial)).message).toMatch(/already sent/)

    // asking to restock more than is left on the line is refused before Stripe is asked
    await expect(refunds.refund(owner, { orderId, amountCents: 100, restock: new Map([[lineId, 4]]), nonce: formNonce.create() })).rejects.toThrow(/At most 3 of Harbor Mug/)
    // the rest of the money and the 3 units left
    const rest = await refunds.refund(owner, { orderId, amountCents: order.totalCents - 2000, restock: new Map([[lineId, 3]]), nonce: formNonce.create() })
    expect(rest.message).toMatch(/^Refund of \$80\.00 sent/)
    expect(await stockOf(engine, variantId)).toBe(27)
    expect(await restockedOf(engine, lineId)).toBe(4)
    expect(await restockLedger(engine, variantId)).toEqual([1, 3])
    expect(await engine.count(sql`SELECT count(*) AS n FROM refunds WHERE order_id = ${orderId}`)).toBe(2)
    expect(await audited(engine, 'order.refund', orderId)).toHaveLength(2)
    // nothing of the line is left to give back
    await expect(refunds.refund(owner, { orderId, amountCents: 100, restock: new Map([[lineId, 1]]), nonce: formNonce.create() })).rejects.toThrow(/At most 0 of Harbor Mug/)
    expect((await stripe.refunds.list({ payment_intent: paymentIntent })).data).toHaveLength(2)
  })

  it.runIf(name === 'postgres')('two app servers fulfilling one order at once: one fulfilment, one email job, one audit row', async () => {
    const owner = await insertOwner(engine)
    const id = await insertOrder(engine, 'race')
    const servers = engine.appServers(2)
    try {
      const outcomes = await Promise.allSettled(Array.from({ length: 12 }, (_, n) => shipping.markFulfilled(owner, id, { carrier: 'UPS', trackingNumber: `1Z${n}00` })))
      expect(outcomes.filter((o) => o.status === 'fulfilled')).toHaveLength(1)
      for (const o of outcomes) if (o.status === 'rejected') expect(o.reason).toBeInstanceOf(InvalidInput)
      expect(await jobsKeyed(engine, `mail.order_shipped:${id}`)).toBe(1)
      const audit = await audited(engine, 'order.fulfil', id)
      expect(audit).toHaveLength(1)
      // the one recorded is the one the order says
      expect(audit[0]!.after).toMatchObject({ status: 'fulfilled', trackingNumber: (await orderRow(engine, id)).tracking })
    } finally {
      await servers.end()
    }
  })

  it.runIf(name === 'postgres')('two app servers resending with one nonce at once: one job, one audit row', async () => {
    const owner = await insertOwner(engine)
    const id = await insertOrder(engine, 'resend-race')
    const nonce = formNonce.create()
    const servers = engine.appServers(2)
    try {
      const results = await Promise.all(Array.from({ length: 12 }, () => orderConfirmations.resend(owner, id, nonce)))
      expect(results.filter((r) => r.isQueued)).toHaveLength(1)
      expect(await jobsKeyed(engine, `mail.order_confirmation:${id}:resend:${nonce}`)).toBe(1)
      expect(await audited(engine, 'order.resend_confirmation', id)).toHaveLength(1)
    } finally {
      await servers.end()
    }
  })

  it.runIf(name === 'postgres')('two app servers sending one refund form at once: one refund recorded, restocked and audited once', async () => {
    const owner = await insertOwner(engine)
    const { orderId, lineId, variantId, paymentIntent } = await paidOrderAtStripe(engine)
    const request = { orderId, amountCents: 1500, restock: new Map([[lineId, 2]]), nonce: formNonce.create() }
    const servers = engine.appServers(2)
    try {
      const answers = await Promise.all(Array.from({ length: 6 }, () => refunds.refund(owner, request)))
      expect(new Set(answers.map((a) => a.refundId)).size).toBe(1)
      expect((await stripe.refunds.list({ payment_intent: paymentIntent })).data).toHaveLength(1)
      expect(await engine.count(sql`SELECT count(*) AS n FROM refunds WHERE order_id = ${orderId}`)).toBe(1)
      expect(await stockOf(engine, variantId)).toBe(25)
      expect(await restockedOf(engine, lineId)).toBe(2)
      expect(await restockLedger(engine, variantId)).toEqual([2])
      expect(await audited(engine, 'order.refund', orderId)).toHaveLength(1)
    } finally {
      await servers.end()
    }
  })

  it.runIf(name === 'postgres')('restocks of one line from two app servers at once never record more than the line sold', async () => {
    const { lineId } = await paidOrderAtStripe(engine)
    const servers = engine.appServers(2)
    try {
      // 12 refunds' restocks of one unit each, at once, of a line of 4
      const taken = await Promise.all(Array.from({ length: 12 }, () => transaction((tx, t) => orders.markingRestocked(tx, t, lineId, 1))))
      expect(taken.reduce((sum, n) => sum + n, 0)).toBe(4)
      expect(await restockedOf(engine, lineId)).toBe(4)
    } finally {
      await servers.end()
    }
  })
})
