import fs from 'node:fs'
import path from 'node:path'
import type Stripe from 'stripe'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { sql } from 'drizzle-orm'
import { write } from '@/db'
import { checkoutReminders as remindersTable, jobs as jobsTable } from '@/db/schema'
import { transaction } from '@/db/tx'
import * as checkout from '@/lib/checkout'
import * as checkoutReminders from '@/lib/checkout-reminders'
import * as dashboard from '@/lib/dashboard'
import { getEnv, resetEnv } from '@/lib/env'
import * as jobs from '@/lib/jobs'
import { handlers } from '@/lib/jobs/handlers'
import * as optOuts from '@/lib/mail-opt-outs'
import * as orders from '@/lib/orders'
import type { CheckoutFacts } from '@/lib/payments'
import { eventFacts } from '@/lib/payments/stripe'
import { insertCart, insertVariant } from '../support/catalog-rows'
import { ENGINES, useEngine, type TestEngine } from '../support/engines'
import { deliverEvent, startPaymentsEnv, type PaymentsEnv } from '../support/payments-env'
import { useStorageDir } from '../support/storage-dir'
import { rejected } from '../support/thrown'

// Abandoned checkouts against the local Stripe-compatible server: a session that expires with
// a recovery URL and the shopper's consent gets one reminder per cart, whether the expiry is
// seen once, twice, or by two processes, and even when the reminder's job runs twice; never
// after the cart was bought another way; the dashboard's figures are the database's.

let env: PaymentsEnv

const reminderJobs = () => env.t.db.select().from(jobsTable).all().filter((j) => j.kind === checkoutReminders.MAIL_JOB)
const reminders = () => env.t.db.select().from(remindersTable).all()
const reminderMail = () => {
  const dir = path.join(env.t.dir, 'mail')
  return fs.existsSync(dir) ? fs.readdirSync(dir).filter((f) => f.startsWith('checkout-reminder-')) : []
}
const mailText = (file: string) => fs.readFileSync(path.join(env.t.dir, 'mail', file), 'utf8').replace(/=\r?\n/g, '').replace(/=3D/g, '=')

/** A shopper starts checkout, types an email, answers the promotions box and leaves; the session expires (the e2e test lets the clock do it). */
async function abandon(consent: boolean, email = 'sam@example.com'): Promise<{ cartId: string; sessionId: string; event: Stripe.Event }> {
  const { variantId } = insertVariant({ stock: 5, priceCents: 4200 })
  const cartId = insertCart([{ variantId, quantity: 1 }])
  const { sessionId } = await checkout.start(cartId)
  env.stripeServer.emulator.saveDetails(sessionId, { email, promotionsConsent: consent })
  await env.stripe.checkout.sessions.expire(sessionId)
  const events = await env.stripe.events.list({ type: 'checkout.session.expired', limit: 100 })
  const event = events.data.find((e) => (e.data.object as Stripe.Checkout.Session).id === sessionId)!
  return { cartId, sessionId, event }
}

describe('abandoned checkout reminders', () => {
  beforeEach(async () => {
    env = await startPaymentsEnv()
    process.env.CHECKOUT_REMINDER_DELAY_MINUTES = '0'
    resetEnv()
  })
  afterEach(async () => {
    delete process.env.CHECKOUT_REMINDER_DELAY_MINUTES
    resetEnv()
    await env.close()
  })

  it('sessions ask for recovery and consent; one expiry seen three ways makes one reminder, sent once though its job runs twice', async () => {
    const { cartId, sessionId, event } = await abandon(true)
    const session = await env.stripe.checkout.sessions.retrieve(sessionId)
    expect(session.after_expiration?.recovery).toMatchObject({ enabled: true, allow_promotion_codes: true })
    expect(session.consent_collection?.promotions).toBe('auto')

    // The webhook twice, the same expiry under another event id (a second process, or the
    // replay of reconciliation), and both at once.
    expect((await deliverEvent(env, event)).status).toBe(200)
    expect((await deliverEvent(env, event)).status).toBe(200)
    await Promise.all([orders.applyEvent({ ...eventFacts(event), id: `${event.id}_b` }), orders.applyEvent({ ...eventFacts(event), id: `${event.id}_c` })])
    expect(reminders().map((r) => [r.cartId, r.email, r.stripeCheckoutSessionId])).toEqual([[cartId, 'sam@example.com', sessionId]])
    expect(reminderJobs().map((j) => j.uniqueKey)).toEqual([`checkout-reminder:${cartId}`])

    const id = reminders()[0]!.id
    const [a, b] = await Promise.all([checkoutReminders.send(id), checkoutReminders.send(id)])
    expect([a, b].filter(Boolean)).toHaveLength(1)
    await jobs.drain(handlers)
    expect(await checkoutReminders.send(id)).toBe(false)
    expect(reminderMail()).toEqual([`checkout-reminder-${id}.eml`])
    const text = mailText(reminderMail()[0]!)
    expect(text).toContain(session.after_expiration?.recovery?.url ?? (await env.stripe.checkout.sessions.retrieve(sessionId)).after_expiration!.recovery!.url!)
    expect(text).toContain('To: sam@example.com')
    const token = /\/unsubscribe\/([A-Za-z0-9_-]{43})/.exec(text)![1]!
    expect(await optOuts.find(token)).toEqual({ email: 'sam@example.com', kind: 'checkout_reminder' })

    expect((await dashboard.overview()).reminders).toEqual({ sent: 1, recoveredOrders: 0, recoveredCents: 0 })
  })

  it('the recovery link brings the sale back, and the dashboard counts it from the orders table', async () => {
    const { cartId, sessionId, event } = await abandon(true)
    await deliverEvent(env, event)
    await jobs.drain(handlers)
    const expired = await env.stripe.checkout.sessions.retrieve(sessionId)
    const recovered = env.stripeServer.emulator.recoverSession(sessionId)!
    expect(recovered.recovered_from).toBe(sessionId)
    expect(expired.after_expiration?.recovery?.url).toContain(sessionId)
    env.stripeServer.emulator.control.pay({ session: recovered.id })
    await orders.syncSession(recovered.id)
    const order = env.t.db.$client.prepare('SELECT total_cents AS total, cart_id AS cartId FROM orders').get() as { total: number; cartId: string }
    expect(order.cartId).toBe(cartId)
    expect((await dashboard.overview()).reminders).toEqual({ sent: 1, recoveredOrders: 1, recoveredCents: order.total })
  })

  it('no reminder without consent, and none once the cart was bought another way', async () => {
    const refused = await abandon(false, 'no@example.com')
    await deliverEvent(env, refused.event)
    expect(reminders()).toEqual([])

    const bought = await abandon(true, 'later@example.com')
    await deliverEvent(env, bought.event)
    // The shopper came back and bought the same cart before the reminder went out.
    write((tx) => tx.run(`UPDATE carts SET status = 'converted' WHERE id = '${bought.cartId}'` as never))
    await jobs.drain(handlers)
    expect(reminderMail()).toEqual([])
    expect(reminders().map((r) => [r.sentAt, r.skippedReason])).toEqual([[null, 'bought']])
    expect((await dashboard.overview()).reminders.sent).toBe(0)
  })

  it('an address that unsubscribed gets no further reminder', async () => {
    const first = await abandon(true, 'once@example.com')
    await deliverEvent(env, first.event)
    await jobs.drain(handlers)
    const token = /\/unsubscribe\/([A-Za-z0-9_-]{43})/.exec(mailText(reminderMail()[0]!))![1]!
    await optOuts.optOut(token)
    const second = await abandon(true, 'once@example.com')
    await deliverEvent(env, second.event)
    await jobs.drain(handlers)
    expect(reminderMail()).toHaveLength(1)
    expect(reminders().map((r) => r.skippedReason)).toEqual([null, 'opted_out'])
  })
})

// The same rules on both engines, without Stripe: the expiry kept once with its job, the claim
// once (from two app servers on PostgreSQL), the email after it, a failed send undone, and the
// dashboard's figures against the database's rows.

/** An expired session's facts, as intake reads them: with consent and a recovery URL. */
const expiry = (cartId: string, email = 'Sam@Example.com') =>
  ({ sessionId: `cs_${cartId}`, status: 'expired', origin: 'store', cartId, recoveryUrl: `https://checkout.example/r/${cartId}`, promotionsConsent: 'opt_in', email }) as CheckoutFacts

async function cartOf(engine: TestEngine, cartId: string): Promise<void> {
  const [product] = await engine.rows<{ id: number | string }>(sql`INSERT INTO products (slug, title) VALUES (${`mug-${cartId}`}, 'Mug') RETURNING id`)
  const [variant] = await engine.rows<{ id: number | string }>(sql`INSERT INTO variants (product_id, sku, title, price_cents, stock) VALUES (${Number(product!.id)}, ${`MUG-${cartId}`}, 'Blue', 1200, 5) RETURNING id`)
  await engine.rows(sql`INSERT INTO carts (id, status) VALUES (${cartId}, 'checking_out') RETURNING id`)
  await engine.rows(sql`INSERT INTO cart_lines (cart_id, variant_id, quantity) VALUES (${cartId}, ${Number(variant!.id)}, 2) RETURNING id`)
}

const kept = (facts: CheckoutFacts) => transaction((tx, t) => checkoutReminders.recordingExpiry(tx, t, facts, 1000))
const reminderRows = (engine: TestEngine) =>
  engine.rows<{ id: number | string; cart_id: string; email: string; sent_at: number | string | null; skipped_reason: string | null; unsubscribe_hash: string | null }>(sql`SELECT * FROM checkout_reminders ORDER BY id`)
const mailFiles = () => {
  const dir = path.join(getEnv().storageDir, 'mail')
  return fs.existsSync(dir) ? fs.readdirSync(dir).filter((f) => f.startsWith('checkout-reminder-')) : []
}

describe.each(ENGINES)('checkout reminders on %s', (name) => {
  const engine = useEngine(name)
  useStorageDir(engine)

  it('keeps one reminder per cart with its job; claims it once; sends after the claim; a failed send is undone', async () => {
    await cartOf(engine, 'cart_a')
    expect(await kept(expiry('cart_a'))).toBe(true)
    expect(await kept(expiry('cart_a'))).toBe(false)
    expect(await kept({ ...expiry('cart_b'), promotionsConsent: 'opt_out' })).toBe(false)
    const [row] = await reminderRows(engine)
    expect([row!.cart_id, row!.email]).toEqual(['cart_a', 'sam@example.com'])
    const jobRows = await engine.rows<{ unique_key: string; run_at: number | string }>(sql`SELECT unique_key, run_at FROM jobs WHERE kind = ${checkoutReminders.MAIL_JOB}`)
    expect(jobRows.map((j) => [j.unique_key, Number(j.run_at)])).toEqual([['checkout-reminder:cart_a', 1000 + getEnv().checkoutReminderDelayMs]])
    const id = Number(row!.id)

    fs.mkdirSync(getEnv().storageDir, { recursive: true })
    fs.writeFileSync(path.join(getEnv().storageDir, 'mail'), 'not a folder')
    expect(await rejected(checkoutReminders.send(id))).toBeInstanceOf(Error)
    expect((await reminderRows(engine)).map((r) => [r.sent_at, r.unsubscribe_hash])).toEqual([[null, null]])
    fs.rmSync(path.join(getEnv().storageDir, 'mail'))

    const results = await Promise.all([checkoutReminders.send(id, 2000), checkoutReminders.send(id, 3000)])
    expect(results.filter(Boolean)).toHaveLength(1)
    expect(await checkoutReminders.send(id)).toBe(false)
    expect(mailFiles()).toEqual([`checkout-reminder-${id}.eml`])
    const text = fs.readFileSync(path.join(getEnv().storageDir, 'mail', mailFiles()[0]!), 'utf8').replace(/=\r?\n/g, '')
    // the cart's line by its quantity and name (× and — quoted-printable)
    expect(text).toContain('2 =C3=97 Mug =E2=80=94 Blue')
    expect(text).toContain('https://checkout.example/r/cart_a')
    expect([2000, 3000]).toContain(Number((await reminderRows(engine))[0]!.sent_at))
  })

  it('a cart bought meanwhile, or an address that opted out, is skipped and says why', async () => {
    await cartOf(engine, 'cart_c')
    await cartOf(engine, 'cart_d')
    await kept(expiry('cart_c'))
    await kept(expiry('cart_d', 'out@example.com'))
    await engine.rows(sql`UPDATE carts SET status = 'converted' WHERE id = 'cart_c' RETURNING id`)
    await engine.rows(sql`INSERT INTO mail_opt_outs (email, kind, created_at) VALUES ('out@example.com', 'checkout_reminder', 1) RETURNING email`)
    const [c, d] = await reminderRows(engine)
    expect(await checkoutReminders.send(Number(c!.id))).toBe(false)
    expect(await checkoutReminders.send(Number(d!.id))).toBe(false)
    expect((await reminderRows(engine)).map((r) => [r.cart_id, r.sent_at, r.skipped_reason])).toEqual([
      ['cart_c', null, 'bought'],
      ['cart_d', null, 'opted_out'],
    ])
    expect(mailFiles()).toEqual([])
  })

  it('the dashboard’s figures are the database’s: reminders sent, and the orders of reminded carts that kept their money', async () => {
    expect(await checkoutReminders.summary()).toEqual({ sent: 0, recoveredOrders: 0, recoveredCents: 0 })
    for (const cart of ['cart_e', 'cart_f', 'cart_g']) {
      await cartOf(engine, cart)
      await kept(expiry(cart))
    }
    await engine.rows(sql`UPDATE checkout_reminders SET sent_at = 5 WHERE cart_id IN ('cart_e', 'cart_f') RETURNING id`)
    const order = (key: string, cartId: string, status: string, total: number, refunded: number) =>
      engine.rows(sql`
        INSERT INTO orders (stripe_checkout_session_id, public_token, status, total_cents, subtotal_cents, refunded_cents, currency, email, cart_id, created_at, updated_at)
        VALUES (${`cs_${key}`}, ${`token_${key}_abcdefghijklmnopqrstuvwx`}, ${status}, ${total}, ${total}, ${refunded}, 'usd', 'sam@example.com', ${cartId}, 10, 10) RETURNING id`)
    await order('e1', 'cart_e', 'paid', 4200, 0)
    await order('e2', 'cart_e', 'partially_refunded', 3000, 1000)
    await order('f1', 'cart_f', 'refunded', 5000, 5000)
    await order('g1', 'cart_g', 'paid', 7000, 0)
    const expected = await engine.rows<{ sent: number | string; orders: number | string; cents: number | string }>(sql`
      SELECT (SELECT count(*) FROM checkout_reminders WHERE sent_at IS NOT NULL) AS sent,
        (SELECT count(*) FROM orders WHERE cart_id = 'cart_e') AS orders,
        (SELECT sum(total_cents - refunded_cents) FROM orders WHERE cart_id = 'cart_e') AS cents`)
    expect(await checkoutReminders.summary()).toEqual({ sent: Number(expected[0]!.sent), recoveredOrders: Number(expected[0]!.orders), recoveredCents: Number(expected[0]!.cents) })
    expect(await checkoutReminders.summary()).toEqual({ sent: 2, recoveredOrders: 2, recoveredCents: 6200 })
  })

  it.runIf(name === 'postgres')('two app servers’ workers claiming each reminder at once send it once', async () => {
    const ids: number[] = []
    for (let i = 0; i < 10; i++) {
      await cartOf(engine, `cart_p${i}`)
      await kept(expiry(`cart_p${i}`, `p${i}@example.com`))
    }
    for (const r of await reminderRows(engine)) ids.push(Number(r.id))
    const servers = engine.appServers(2)
    try {
      const sent = await Promise.all(ids.flatMap((id) => [checkoutReminders.send(id), checkoutReminders.send(id), checkoutReminders.send(id)]))
      expect(sent.filter(Boolean)).toHaveLength(10)
    } finally {
      await servers.end()
    }
    expect(mailFiles()).toHaveLength(10)
    expect(await engine.count(sql`SELECT count(*) AS n FROM checkout_reminders WHERE sent_at IS NOT NULL AND skipped_reason IS NULL`)).toBe(10)
  })
})
