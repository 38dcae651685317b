import type Stripe from 'stripe'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { eq, sql } from 'drizzle-orm'
import { orders as ordersTable, reconcileRuns, stripeEvents, variants } from '@/db/schema'
import * as checkout from '@/lib/checkout'
import { resetEnv } from '@/lib/env'
import * as orders from '@/lib/orders'
import { setClient as setStripeClient } from '@/lib/payments/stripe'
import * as reconcile from '@/lib/reconcile'
import { insertCart, insertVariant } from '../support/catalog-rows'
import { mixOf, moneyOf, paidSession, promotionCode } from '../support/discounted-sessions'
import { ENGINES, useEngine } from '../support/engines'
import { allEvents, deliverEvent, startPaymentsEnv, type PaymentsEnv } from '../support/payments-env'

// Reconciliation against the local Stripe-compatible server, webhooks dropped unless a test
// delivers them. Stripe calls are counted where Stripe would see them: the server's request
// log, keeping only requests whose User-Agent is the store's own client.

let env: PaymentsEnv
beforeEach(async () => {
  env = await startPaymentsEnv()
})
afterEach(async () => {
  delete process.env.STRIPE_TAX
  resetEnv()
  await env.close()
})

const GB = { line1: '10 Downing Street', city: 'London', postal_code: 'SW1A 2AA', country: 'GB' }
const US = { line1: '1 Harbour Street', city: 'Portland', postal_code: '04101', country: 'US' }

const orderRows = () => env.t.db.select().from(ordersTable).all()
const runs = () => env.t.db.select().from(reconcileRuns).all()

/** A paid session of this store's (cart_id metadata) made at Stripe without the store hearing of it. */
function paidStoreSession(amount: number): Stripe.Checkout.Session {
  return env.stripeServer.emulator.control.foreignSession({ line_items: [{ name: 'Mug', unit_amount: amount, quantity: 1 }], metadata: { cart_id: `cart-${Math.random().toString(36).slice(2)}` } })
}

/** What Stripe says each session's order must be: refunded total per session id. */
async function refundTotals(sessionIds: string[]): Promise<Map<string, number>> {
  const out = new Map<string, number>()
  for (const id of sessionIds) {
    const session = await env.stripe.checkout.sessions.retrieve(id, { expand: ['payment_intent.latest_charge'] })
    out.set(id, ((session.payment_intent as Stripe.PaymentIntent).latest_charge as Stripe.Charge).amount_refunded)
  }
  return out
}

describe('reconcile: complete', () => {
  it('more events than one page (webhooks all dropped): one run applies every one of them', async () => {
    const sessions = Array.from({ length: 56 }, (_, i) => paidStoreSession(1000 + i))
    for (const [i, s] of sessions.entries()) await env.stripe.refunds.create({ payment_intent: s.payment_intent as string, amount: 100 + i })
    const report = await reconcile.run()
    expect(report.eventsSeen).toBeGreaterThan(100)
    expect(report.capped).toEqual([])
    expect(report.failures).toEqual([])
    const totals = await refundTotals(sessions.map((s) => s.id))
    expect(orderRows()).toHaveLength(sessions.length)
    for (const order of orderRows()) {
      expect(order).toMatchObject({ status: 'partially_refunded', refundedCents: totals.get(order.stripeCheckoutSessionId) })
    }
  })

  it('a run that reaches the page cap stops, keeps the cursor and says so; the next full run applies everything', async () => {
    paidStoreSession(1500)
    const first = await reconcile.run()
    expect(first.capped).toEqual([])
    const cursor = runs().at(-1)!.eventsCursor
    expect(cursor).not.toBeNull()
    const sessions = Array.from({ length: 60 }, (_, i) => paidStoreSession(2000 + i))
    for (const s of sessions) await env.stripe.refunds.create({ payment_intent: s.payment_intent as string, amount: 500 })
    const capped = await reconcile.run(Date.now(), { maxPages: 1 })
    expect(capped.capped).toContain('events')
    expect(capped.eventsSeen).toBe(0)
    expect(runs().at(-1)).toMatchObject({ isCapped: true, eventsCursor: cursor })
    expect(runs().at(-1)!.error).toMatch(/capped/)
    // nothing was skipped for good: the next run reads from the same cursor
    const full = await reconcile.run()
    expect(full.capped).toEqual([])
    expect(full.eventsSeen).toBeGreaterThan(120)
    const byId = new Map(orderRows().map((o) => [o.stripeCheckoutSessionId, o]))
    for (const s of sessions) expect(byId.get(s.id)).toMatchObject({ status: 'partially_refunded', refundedCents: 500 })
  })

  it('a failing event keeps the cursor before it; the run after it is fixed applies it', async () => {
    const s = paidStoreSession(1200)
    env.stripeServer.faults.push(({ path }) => path.startsWith('/v1/checkout/sessions/'))
    const failed = await reconcile.run()
    expect(failed.failures.length).toBeGreaterThan(0)
    const event = (await allEvents(env)).find((e) => e.type === 'checkout.session.completed')!
    expect(runs().at(-1)!.eventsCursor).toBeLessThanOrEqual(event.created)
    env.stripeServer.faults.length = 0
    const fixed = await reconcile.run()
    expect(fixed.failures).toEqual([])
    expect(await orders.findBySession(s.id)).toMatchObject({ status: 'paid' })
  })
})

describe('reconcile: foreign payments (finding 5)', () => {
  it('a refund or dispute of a payment that is not this store’s answers 2xx, is recorded as foreign, and never pins the cursor', async () => {
    // Another app's Checkout on the same account: a session without the store's cart_id.
    const theirs = await env.stripe.checkout.sessions.create({
      mode: 'payment',
      line_items: [{ quantity: 1, price_data: { currency: 'usd', unit_amount: 4200, product_data: { name: 'Their thing' } } }],
      success_url: 'https://other.example/ok',
    })
    const paid = env.stripeServer.emulator.control.pay({ session: theirs.id })
    await env.stripe.refunds.create({ payment_intent: paid.payment_intent as string, amount: 1000 })
    // A Dashboard charge (a payment intent no Checkout Session made), refunded and disputed.
    const now = Math.floor(Date.now() / 1000)
    const dashboardCharge = { id: 'ch_dashboard_1', object: 'charge', amount: 3000, amount_refunded: 3000, payment_intent: 'pi_dashboard_1', disputed: false }
    const crafted = [
      { id: 'evt_dash_refund', object: 'event', type: 'charge.refunded', created: now, data: { object: dashboardCharge } },
      { id: 'evt_dash_dispute', object: 'event', type: 'charge.dispute.created', created: now, data: { object: { id: 'dp_dash_1', object: 'dispute', charge: 'ch_dashboard_1', payment_intent: 'pi_dashboard_1', status: 'needs_response' } } },
      { id: 'evt_legacy_refund', object: 'event', type: 'charge.refunded', created: now, data: { object: { ...dashboardCharge, id: 'ch_legacy', payment_intent: null } } },
      // A $0 session of someone else's on the account (no store metadata).
      { id: 'evt_free_session', object: 'event', type: 'checkout.session.completed', created: now, data: { object: { id: 'cs_test_free_1', object: 'checkout.session', status: 'complete', payment_status: 'no_payment_required', amount_total: 0, metadata: {}, payment_link: 'plink_free', payment_intent: null } } },
    ]
    for (const event of crafted) {
      const res = await deliverEvent(env, event)
      expect(res.status).toBe(200)
      expect(await res.json()).toMatchObject({ outcome: 'foreign' })
    }
    for (const event of (await allEvents(env)).filter((e) => e.type.startsWith('charge.') || e.type.startsWith('checkout.'))) {
      const res = await deliverEvent(env, event)
      expect(res.status).toBe(200)
    }
    const ids = crafted.map((e) => e.id)
    const recorded = env.t.db.select().from(stripeEvents).all().filter((e) => ids.includes(e.id))
    expect(recorded.map((e) => [e.outcome, e.error])).toEqual(crafted.map(() => ['foreign', null]))
    const dispute = env.stripeServer.emulator.control.dispute({ payment_intent: paid.payment_intent as string })
    const report = await reconcile.run()
    expect(report.failures).toEqual([])
    expect(report.eventsCursor).toBeGreaterThanOrEqual(dispute.created)
    expect(orderRows()).toEqual([])
  })
})

describe('reconcile: cheap', () => {
  it('Stripe calls per paid order stay under 3 across many restarts and reconciliations, and a run with nothing missing costs one list page', async () => {
    const { variantId } = insertVariant({ stock: 10_000, priceCents: 1500 })
    const DEPLOYS = 10
    const ORDERS_PER_DEPLOY = 6
    let reconcileCalls = 0
    let reconcileRuns = 0
    // what each run said it cost, and what Stripe saw it make
    const said: { reported: unknown; seen: number }[] = []
    const reconcileOnce = async () => {
      const before = env.stripeServer.storeRequests().length
      const report = await reconcile.run()
      const made = env.stripeServer.storeRequests().length - before
      said.push({ reported: report.stripeCalls, seen: made })
      expect(report.failures).toEqual([])
      reconcileCalls += made
      reconcileRuns++
      return report
    }
    // Stripe Tax on, and half the shoppers enter a code: recording their discount, codes and
    // tax costs no call more.
    process.env.STRIPE_TAX = 'on'
    resetEnv()
    await env.stripe.promotionCodes.create({ promotion: { type: 'coupon', coupon: (await env.stripe.coupons.create({ percent_off: 20, duration: 'once' })).id }, code: 'CHEAP20' })
    for (let deploy = 0; deploy < DEPLOYS; deploy++) {
      // A new process: a new client, and the reconcile every boot runs.
      setStripeClient(undefined)
      await reconcileOnce()
      for (let i = 0; i < ORDERS_PER_DEPLOY; i++) {
        const cartId = insertCart([{ variantId, quantity: 1 + (i % 3) }])
        const { sessionId } = await checkout.start(cartId)
        if (i % 2 === 1) expect(env.stripeServer.emulator.applyPromotionCode(sessionId, 'CHEAP20', 'sam@example.com')).toBeNull()
        env.stripeServer.emulator.control.pay({ session: sessionId, address: i % 4 < 2 ? GB : US })
        const events = (await allEvents(env)).filter((e) => (e.data.object as { id?: string }).id === sessionId)
        // Most webhooks arrive (some twice); one in six is dropped and left to reconciliation.
        if (i % 6 !== 5) for (const event of events) expect((await deliverEvent(env, event)).status).toBe(200)
        if (i % 3 === 0) for (const event of events) await deliverEvent(env, event)
        // The shopper lands on the success page, which builds the order only when it is missing.
        if (i % 2 === 0 && !(await orders.findBySession(sessionId))) await orders.syncSession(sessionId)
      }
      await reconcileOnce()
      await reconcileOnce()
    }
    const paid = orderRows().filter((o) => o.status === 'paid')
    expect(paid).toHaveLength(DEPLOYS * ORDERS_PER_DEPLOY)
    await expectStripesMoney(paid)
    expect(paid.filter((o) => o.discountCents > 0 && o.taxCents > 0).length).toBeGreaterThan(0)
    const total = env.stripeServer.storeRequests().length
    const perOrder = total / paid.length
    const steady = await reconcileOnce()
    console.info(
      `reconcile cost: ${total} Stripe calls for ${paid.length} paid orders = ${perOrder.toFixed(2)} per order ` +
        `(${reconcileCalls} of them in ${reconcileRuns} reconcile runs); a run with nothing missing: ${steady.stripeCalls}`,
    )
    expect(perOrder).toBeLessThan(3)
    expect(said.filter((r) => r.reported !== r.seen)).toEqual([])
    expect(steady.stripeCalls).toBeLessThanOrEqual(1)
    expect(steady.sessionsFetched).toBe(0)
    // the hourly walk, forced: one page of sessions more, and still nothing read per order
    const walked = await reconcile.run(Date.now(), { walkSessions: 'always' })
    expect(walked).toMatchObject({ isSessionsWalked: true, sessionsSeen: paid.length, sessionsFetched: 0, stripeCalls: 2 })
    expect(runs().at(-1)).toMatchObject({ stripeCalls: 2, isSessionsWalked: true })
    // creating each session is one call; everything else per order stays at about one
    expect(env.stripeServer.storeRequests().filter((r) => r.path.endsWith('/line_items'))).toHaveLength(0)
  })
})

/** Every order's total, discount and tax are its session's amount_total and total_details, as Stripe has them. */
async function expectStripesMoney(rows: { stripeCheckoutSessionId: string; totalCents: number; discountCents: number; taxCents: number }[]) {
  const money = await moneyOf(env.stripe, rows.map((o) => o.stripeCheckoutSessionId))
  for (const o of rows) expect({ totalCents: o.totalCents, discountCents: o.discountCents, taxCents: o.taxCents }, o.stripeCheckoutSessionId).toEqual(money.get(o.stripeCheckoutSessionId))
}

describe('reconcile: webhooks that never arrived', () => {
  it('discounted and taxed sessions become orders at Stripe\'s amounts, never recomputed', async () => {
    const { variantId } = insertVariant({ stock: 100, priceCents: 1500 })
    const promotionCodeId = await promotionCode(env.stripe, 'RECON20')
    const sessions: Stripe.Checkout.Session[] = []
    for (let i = 0; i < 8; i++) sessions.push(await paidSession(env.stripeServer, env.stripe, { mix: mixOf(i), promotionCodeId, variantId, unitAmount: 1500 + i, quantity: 1 + (i % 2) }))
    const report = await reconcile.run()
    expect(report.failures).toEqual([])
    expect(report.mismatches).toEqual([])
    const mine = orderRows().filter((o) => sessions.some((s) => s.id === o.stripeCheckoutSessionId))
    expect(mine).toHaveLength(sessions.length)
    await expectStripesMoney(mine)
    expect(mine.filter((o) => o.discountCents > 0)).toHaveLength(4)
    expect(mine.filter((o) => o.taxCents > 0)).toHaveLength(4)
    expect(mine.filter((o) => o.discountCents > 0).every((o) => o.discountCodes.join() === 'RECON20')).toBe(true)
  })

  it('turns a paid session whose webhooks never arrived into its order, once', async () => {
    const { variantId } = insertVariant({ stock: 5, priceCents: 2500 })
    const { sessionId } = await checkout.start(insertCart([{ variantId, quantity: 1 }]))
    env.stripeServer.emulator.control.pay({ session: sessionId })
    // A Payment Link sale of the same variant: made at Stripe, never announced to the store.
    const foreign = env.stripeServer.emulator.control.foreignSession({ line_items: [{ name: 'Tote', unit_amount: 3000, quantity: 1, variant_id: String(variantId) }] })
    const first = await reconcile.run()
    expect(first.ordersCreated).toBeGreaterThanOrEqual(2)
    expect(first.mismatches).toEqual([])
    const mine = orderRows().filter((o) => o.stripeCheckoutSessionId === sessionId || o.stripeCheckoutSessionId === foreign.id)
    expect(mine).toHaveLength(2)
    expect(mine.every((o) => o.status === 'paid')).toBe(true)
    expect(env.t.db.select().from(variants).where(eq(variants.id, variantId)).get()!.stock).toBe(3)
    const second = await reconcile.run()
    expect(second.ordersCreated).toBe(0)
    expect(orderRows().filter((o) => o.stripeCheckoutSessionId === sessionId)).toHaveLength(1)
    expect(runs()).toHaveLength(2)
  })
})

// What reconciliation reads and writes itself (its runs, the cursor, the orders it checks
// against Stripe's list), on both engines. Applying events and building orders (applyEvent,
// syncSession) are the order intake's and are tested above on SQLite; these runs give them
// nothing to do. On PostgreSQL, runs started at once on two app servers take turns.
describe.each(ENGINES)('reconcile: its own rows on %s', (name) => {
  const engine = useEngine(name)
  type RunRow = { id: number | string; events_cursor: number | string | null; is_sessions_walked: number | string; stripe_calls: number | string; orders_created: number | string }
  const runRows = () => engine.rows<RunRow>(sql`SELECT id, events_cursor, is_sessions_walked, stripe_calls, orders_created FROM reconcile_runs ORDER BY id`)

  it('records each run, starts the next from its cursor, walks the sessions hourly, and lists the runs as the database holds them', async () => {
    const first = await reconcile.run(Date.now(), { walkSessions: 'always' })
    expect(first).toMatchObject({ eventsSeen: 0, sessionsSeen: 0, ordersCreated: 0, failures: [], isSessionsWalked: true, stripeCalls: 2 })
    const second = await reconcile.run()
    // the walk a moment ago is read back: no walk this time, one page of events
    expect(second).toMatchObject({ isSessionsWalked: false, stripeCalls: 1 })
    const rows = await runRows()
    expect(rows.map((r) => [Number(r.events_cursor), Number(r.is_sessions_walked), Number(r.stripe_calls)])).toEqual([
      [first.eventsCursor, 1, 2],
      [second.eventsCursor, 0, 1],
    ])
    const listed = await reconcile.lastRuns(50)
    expect(listed.map((r) => [r.id, r.eventsCursor, r.isSessionsWalked, r.stripeCalls, r.ordersCreated])).toEqual(
      [...rows].reverse().map((r) => [Number(r.id), Number(r.events_cursor), Number(r.is_sessions_walked) === 1, Number(r.stripe_calls), Number(r.orders_created)]),
    )
  })

  it("reports an order whose total differs from its session's, without reading the session again", async () => {
    const session = paidStoreSession(2500)
    // the session's events lie before the last cursor: only the session walk sees it
    await engine.rows(sql`INSERT INTO reconcile_runs (started_at, finished_at, events_cursor) VALUES (${Date.now()}, ${Date.now()}, ${Math.floor(Date.now() / 1000) + 3600}) RETURNING id`)
    const now = Date.now()
    await engine.rows(sql`
      INSERT INTO orders (stripe_checkout_session_id, public_token, status, total_cents, subtotal_cents, currency, email, created_at, updated_at)
      VALUES (${session.id}, 'token_reconcile_abcdefghijklmnopqrstuv', 'paid', 2400, 2400, 'usd', 'shopper@example.com', ${now}, ${now}) RETURNING id`)
    const report = await reconcile.run(now, { walkSessions: 'always' })
    expect(report).toMatchObject({ eventsSeen: 0, sessionsSeen: 1, sessionsFetched: 0, ordersCreated: 0, failures: [] })
    expect(report.mismatches).toEqual([{ sessionId: session.id, orderCents: 2400, stripeCents: 2500 }])
    const [row] = await engine.rows<{ mismatches: unknown }>(sql`SELECT mismatches FROM reconcile_runs ORDER BY id DESC LIMIT 1`)
    expect(typeof row!.mismatches === 'string' ? JSON.parse(row!.mismatches) : row!.mismatches).toEqual(report.mismatches)
  })

  it.runIf(name === 'postgres')('runs one reconcile at a time when several are started at once on two app servers', async () => {
    const servers = engine.appServers(2)
    try {
      // the first run waits on Stripe's answer while the others start, on either server
      const answer = env.stripeServer.holdNext()
      const first = reconcile.runAlone()
      await answer.captured
      const others = await Promise.allSettled(Array.from({ length: 6 }, () => reconcile.runAlone()))
      answer.release()
      expect((await first).failures).toEqual([])
      expect(others.map((o) => (o.status === 'rejected' ? (o.reason as Error).name : 'ran'))).toEqual(Array(6).fill('AlreadyRunning'))
      expect(await runRows()).toHaveLength(1)
      // and once it has finished, the next one runs
      await reconcile.runAlone()
      expect(await runRows()).toHaveLength(2)
      expect(await engine.count(sql`SELECT count(*) AS n FROM leases WHERE name = ${reconcile.LEASE}`)).toBe(0)
    } finally {
      await servers.end()
    }
  })
})
