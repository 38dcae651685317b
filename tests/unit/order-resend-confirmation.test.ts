import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { getDb } from '@/db'
import * as adminAuth from '@/lib/admin-auth'
import * as formNonce from '@/lib/request/form-nonce'
import * as orderConfirmations from '@/lib/orders/confirmations'
import * as orderTimeline from '@/lib/orders/timeline'
import * as orders from '@/lib/orders'
import { freshStore, type TestDb } from '../support/db'

// The owner's day-to-day tools on one order: resending the confirmation email (once per form,
// only for a paid order with an email). Notes are tested on both engines in
// tests/integration/order-notes.test.ts.

let t: TestDb
beforeEach(() => {
  t = freshStore()
})
afterEach(() => {
  t.close()
})

function insertOrder(status: string, email: string | null = 'shopper@example.com'): number {
  return Number(
    getDb()
      .$client.prepare(`INSERT INTO orders (stripe_checkout_session_id, public_token, status, total_cents, subtotal_cents, currency, email, created_at, updated_at) VALUES (?, ?, ?, 9900, 9900, 'usd', ?, ?, ?)`)
      .run(`cs_${status}_${email}`, `token_${status}_${email ?? 'none'}_abcdefghijkl`.replace(/[^A-Za-z0-9_-]/g, '_'), status, email, Date.now(), Date.now()).lastInsertRowid,
  )
}
const count = (query: string, ...args: unknown[]) => (getDb().$client.prepare(query).get(...args) as { n: number }).n

describe('resending the confirmation email', () => {
  it('queues one job per form nonce, audits it and shows it on the timeline', async () => {
    const owner = await adminAuth.createAdmin('owner@example.com', 'a long enough password')
    const id = insertOrder('paid')
    const nonce = formNonce.create()
    expect(await orderConfirmations.resend(owner, id, nonce)).toEqual({ isQueued: true })
    expect(await orderConfirmations.resend(owner, id, nonce)).toEqual({ isQueued: false })
    expect(count(`SELECT count(*) AS n FROM jobs WHERE kind = 'mail.order_confirmation' AND payload ->> 'orderId' = ?`, id)).toBe(1)
    await orderConfirmations.resend(owner, id, formNonce.create())
    expect(count(`SELECT count(*) AS n FROM jobs WHERE kind = 'mail.order_confirmation' AND payload ->> 'orderId' = ?`, id)).toBe(2)
    expect(count(`SELECT count(*) AS n FROM audit_log WHERE action = 'order.resend_confirmation' AND subject = ?`, `order:${id}`)).toBe(2)
    const timeline = await orderTimeline.forOrder((await orders.findById(id))!)
    expect(timeline.filter((e) => e.what === 'Admin order.resend_confirmation')).toHaveLength(2)
  })

  it('refuses an order without an email, one not paid, and a bad nonce', async () => {
    const owner = await adminAuth.createAdmin('owner@example.com', 'a long enough password')
    await expect(orderConfirmations.resend(owner, insertOrder('paid', null), formNonce.create())).rejects.toThrow(/no email address/)
    await expect(orderConfirmations.resend(owner, insertOrder('refunded'), formNonce.create())).rejects.toThrow(/Only a paid order/)
    await expect(orderConfirmations.resend(owner, insertOrder('paid', 'b@example.com'), 'x')).rejects.toThrow(/expired/)
    expect(count(`SELECT count(*) AS n FROM jobs WHERE kind = 'mail.order_confirmation'`)).toBe(0)
  })
})
