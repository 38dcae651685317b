import fs from 'node:fs'
import path from 'node:path'
import type Stripe from 'stripe'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { write } from '@/db'
import { checkoutReminders as remindersTable, jobs as jobsTable } from '@/db/schema'
import * as checkout from '@/lib/checkout'
import * as checkoutReminders from '@/lib/checkout-reminders'
import * as dashboard from '@/lib/dashboard'
import { resetEnv } from '@/lib/env'
import * as jobs from '@/lib/jobs'
import { handlers } from '@/lib/jobs/handlers'
import * as optOuts from '@/lib/mail-opt-outs'
import * as orders from '@/lib/orders'
import { eventFacts } from '@/lib/payments/stripe'
import { insertCart, insertVariant } from '../support/catalog-rows'
import { deliverEvent, startPaymentsEnv, type PaymentsEnv } from '../support/payments-env'

// Abandoned checkouts against the local Stripe-compatible server: a session that expires with
// a recovery URL and the shopper's consent gets one reminder per cart, whether the expiry is
// seen once, twice, or by two processes, and even when the reminder's job runs twice; never
// after the cart was bought another way; the dashboard's figures are the database's.

let env: PaymentsEnv
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
