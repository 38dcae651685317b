import { sql } from 'drizzle-orm'
import { describe, expect, it } from 'vitest'
import * as adminAuth from '@/lib/admin-auth'
import * as orders from '@/lib/orders'
import * as orderConfirmations from '@/lib/orders/confirmations'
import * as orderTimeline from '@/lib/orders/timeline'
import * as formNonce from '@/lib/request/form-nonce'
import { insertShopOrder } from '../support/engine-shop-rows'
import { ENGINES, useEngine, type TestEngine } from '../support/engines'
import { useStorageDir } from '../support/storage-dir'

// The owner's day-to-day tools on one order, on both engines: resending the confirmation email
// (once per form, only for a paid order with an email). Notes are tested in
// order-notes.test.ts; the resend's audit rows and refusals of a missing order in
// order-actions.test.ts.

const insertOrder = (engine: TestEngine, status: string, email: string | null = 'shopper@example.com') =>
  insertShopOrder(engine, { key: `${status}_${email ?? 'none'}`, status, email, totalCents: 9900, subtotalCents: 9900 })

describe.each(ENGINES)('resending the confirmation email on %s', (name) => {
  const engine = useEngine(name)
  useStorageDir(engine)

  it('queues one job per form nonce, audits it and shows it on the timeline', async () => {
    const owner = await adminAuth.createAdmin('owner@example.com', 'a long enough password')
    const id = await insertOrder(engine, 'paid')
    const nonce = formNonce.create()
    // ->> gives SQLite's integer and PostgreSQL's text: compared as text on both
    const confirmations = () => engine.count(sql`SELECT count(*) AS n FROM jobs WHERE kind = 'mail.order_confirmation' AND CAST(payload ->> 'orderId' AS TEXT) = ${String(id)}`)
    expect(await orderConfirmations.resend(owner, id, nonce)).toEqual({ isQueued: true })
    expect(await orderConfirmations.resend(owner, id, nonce)).toEqual({ isQueued: false })
    expect(await confirmations()).toBe(1)
    await orderConfirmations.resend(owner, id, formNonce.create())
    expect(await confirmations()).toBe(2)
    expect(await engine.count(sql`SELECT count(*) AS n FROM audit_log WHERE action = 'order.resend_confirmation' AND subject = ${`order:${id}`}`)).toBe(2)
    const timeline = await orderTimeline.forOrder((await orders.findById(id))!)
    expect(timeline.filter((e) => e.what === 'Admin order.resend_confirmation')).toHaveLength(2)
  })

  it('refuses an order without an email, one not paid, and a bad nonce', async () => {
    const owner = await adminAuth.createAdmin('owner@example.com', 'a long enough password')
    await expect(orderConfirmations.resend(owner, await insertOrder(engine, 'paid', null), formNonce.create())).rejects.toThrow(/no email address/)
    await expect(orderConfirmations.resend(owner, await insertOrder(engine, 'refunded'), formNonce.create())).rejects.toThrow(/Only a paid order/)
    await expect(orderConfirmations.resend(owner, await insertOrder(engine, 'paid', 'b@example.com'), 'x')).rejects.toThrow(/expired/)
    expect(await engine.count(sql`SELECT count(*) AS n FROM jobs WHERE kind = 'mail.order_confirmation'`)).toBe(0)
  })
})
