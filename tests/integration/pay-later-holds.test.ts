import fs from 'node:fs'
import path from 'node:path'
import { and, eq, sql } from 'drizzle-orm'
import type Stripe from 'stripe'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { transaction } from '@/db/tx'
import { jobs, orders as ordersTable, stockHolds, variants } from '@/db/schema'
import * as adminAuth from '@/lib/admin-auth'
import * as checkout from '@/lib/checkout'
import * as dashboard from '@/lib/dashboard'
import * as inventory from '@/lib/inventory'
import { handlers } from '@/lib/jobs/handlers'
import { insertCart, insertVariant } from '../support/catalog-rows'
import { deliverEvent, startPaymentsEnv, type PaymentsEnv } from '../support/payments-env'

// A pay-later payment (a bank debit) can take days to settle. Its units stay held until it
// succeeds or fails, never only until a clock runs out; and a completion that finds its holds
// already expired takes the units again when nobody else has them, or tells the owner
// (dashboard and email) when they are gone.

let env: PaymentsEnv
beforeEach(async () => {
  env = await startPaymentsEnv()
})
afterEach(() => env.close())

async function eventsFor(objectId: string, type: string): Promise<Stripe.Event[]> {
  const all = await env.stripe.events.list({ limit: 100 }).autoPagingToArray({ limit: 1000 })
  return all.filter((e) => (e.data.object as { id?: string }).id === objectId && e.type === type).reverse()
}

/** A checkout of `quantity` paid by bank debit that has not settled, its completion not delivered yet. */
async function payLater(variantId: number, quantity: number) {
  const cartId = insertCart([{ variantId, quantity }])
  const { sessionId } = await checkout.start(cartId)
  env.stripeServer.emulator.control.pay({ session: sessionId, asyncOutcome: 'succeeded' })
  const [completed] = await eventsFor(sessionId, 'checkout.session.completed')
  return { sessionId, completed: completed! }
}

const DAY = 24 * 3600 * 1000
const stockOf = (variantId: number) => env.t.db.select().from(variants).where(eq(variants.id, variantId)).get()!.stock
const orderOf = (sessionId: string) => env.t.db.select().from(ordersTable).where(eq(ordersTable.stripeCheckoutSessionId, sessionId)).get()!
/** What the clock does to holds: every hold of the session runs out now. */
const expireHolds = (sessionId: string) => env.t.db.update(stockHolds).set({ expiresAt: Date.now() - 1000 }).where(and(eq(stockHolds.stripeCheckoutSessionId, sessionId), eq(stockHolds.status, 'active'))).run()

describe('holds of a completed, unpaid session', () => {
  it('last until the payment settles, however long that takes', async () => {
    const { variantId } = insertVariant({ stock: 5 })
    const { sessionId, completed } = await payLater(variantId, 2)
    expect((await deliverEvent(env, completed)).status).toBe(200)
    expect(orderOf(sessionId).status).toBe('awaiting_payment')
    // a month of the hold-release job later, the units are still kept
    expect(await transaction((tx, t) => inventory.releasingExpired(tx, t, Date.now() + 30 * DAY))).toBe(0)
    expect(inventory.availableOne(variantId, Date.now() + 30 * DAY)).toBe(3)
    env.stripeServer.emulator.control.advanceClock({ seconds: 120 })
    env.stripeServer.emulator.control.sweep()
    const [succeeded] = await eventsFor(sessionId, 'checkout.session.async_payment_succeeded')
    expect((await deliverEvent(env, succeeded!)).status).toBe(200)
    expect(orderOf(sessionId)).toMatchObject({ status: 'paid', isOversold: false })
    expect(stockOf(variantId)).toBe(3)
    expect(env.t.db.select().from(stockHolds).where(eq(stockHolds.status, 'active')).all()).toHaveLength(0)
  })

  it('a completion that finds its holds expired takes the units again when they are there', async () => {
    const { variantId } = insertVariant({ stock: 5 })
    const { sessionId, completed } = await payLater(variantId, 2)
    expireHolds(sessionId)
    expect(inventory.availableOne(variantId)).toBe(5)
    expect((await deliverEvent(env, completed)).status).toBe(200)
    expect(orderOf(sessionId)).toMatchObject({ status: 'awaiting_payment', isOversold: false })
    expect(inventory.availableOne(variantId)).toBe(3)
    expect(env.t.db.select().from(jobs).where(eq(jobs.kind, 'mail.owner_oversold')).all()).toHaveLength(0)
  })

  it('and tells the owner, on the dashboard and by email, once, when they are gone', async () => {
    await adminAuth.createAdmin('owner@example.com', 'a long enough password')
    const { variantId } = insertVariant({ stock: 3 })
    const { sessionId, completed } = await payLater(variantId, 2)
    expireHolds(sessionId)
    // meanwhile another shopper holds what is left
    await checkout.start(insertCart([{ variantId, quantity: 3 }]))
    expect((await deliverEvent(env, completed)).status).toBe(200)
    expect((await deliverEvent(env, completed)).status).toBe(200)
    expect(orderOf(sessionId)).toMatchObject({ status: 'awaiting_payment', isOversold: true })
    expect((await dashboard.status()).oversold).toBe(1)
    const alerts = env.t.db.select().from(jobs).where(eq(jobs.kind, 'mail.owner_oversold')).all()
    expect(alerts).toHaveLength(1)
    await handlers['mail.owner_oversold']!(alerts[0]!.payload, { jobId: alerts[0]!.id } as never)
    const mail = fs.readdirSync(path.join(env.t.dir, 'mail')).filter((f) => f.includes('oversold'))
    expect(mail).toHaveLength(1)
    const text = fs.readFileSync(path.join(env.t.dir, 'mail', mail[0]!), 'utf8')
    expect(text).toContain('To: owner@example.com')
    expect(text).toMatch(/waiting for its payment to settle/)
    // never more held than there is
    const held = env.t.db.get<{ n: number }>(sql`SELECT coalesce(sum(quantity), 0) AS n FROM stock_holds WHERE variant_id = ${variantId} AND status = 'active' AND expires_at > ${Date.now()}`)!.n
    expect(held).toBeLessThanOrEqual(stockOf(variantId))
  })
})
