import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { getDb } from '@/db'
import * as adminAuth from '@/lib/admin-auth'
import { InvalidInput } from '@/lib/errors'
import { orderShipped } from '@/lib/mail/order-shipped'
import * as orders from '@/lib/orders'
import * as shipping from '@/lib/orders/shipping'
import { freshStore, type TestDb } from '../support/db'

// Shipping an order from the admin: a paid order and a partly refunded one both ship, once,
// and the shipping email says what was already refunded.

let t: TestDb
beforeEach(() => {
  t = freshStore()
})
afterEach(() => {
  t.close()
})

function insertOrder(status: string, refundedCents: number): number {
  const client = getDb().$client
  const id = Number(
    client
      .prepare(`INSERT INTO orders (stripe_checkout_session_id, public_token, status, total_cents, subtotal_cents, refunded_cents, currency, email, created_at, updated_at) VALUES (?, ?, ?, 20300, 19800, ?, 'usd', 'shopper@example.com', ?, ?)`)
      .run(`cs_${status}`, `token_${status}_abcdefghijklmnop`, status, refundedCents, Date.now(), Date.now()).lastInsertRowid,
  )
  client.prepare(`INSERT INTO order_lines (order_id, title, quantity, unit_amount_cents, total_cents) VALUES (?, 'Harbor Mug', 2, 9900, 19800)`).run(id)
  return id
}

const row = (id: number) => getDb().$client.prepare('SELECT status, fulfilled_at AS fulfilledAt, carrier, tracking_number AS tracking FROM orders WHERE id = ?').get(id) as { status: string; fulfilledAt: number | null; carrier: string; tracking: string }
const shippedJobs = (id: number) => (getDb().$client.prepare(`SELECT count(*) AS n FROM jobs WHERE unique_key = ?`).get(`mail.order_shipped:${id}`) as { n: number }).n

describe('shipping a partly refunded order', () => {
  it('marks it shipped (status kept), queues the email once, and the email names the refund', async () => {
    const admin = await adminAuth.createAdmin('owner@example.com', 'a long enough password')
    const id = insertOrder('partially_refunded', 5000)
    await shipping.markFulfilled(admin, id, { carrier: 'UPS', trackingNumber: '1Z999' })
    expect(row(id)).toMatchObject({ status: 'partially_refunded', carrier: 'UPS', tracking: '1Z999' })
    expect(row(id).fulfilledAt).not.toBeNull()
    expect(shippedJobs(id)).toBe(1)
    await expect(shipping.markFulfilled(admin, id, { carrier: 'DHL', trackingNumber: '2' })).rejects.toThrow(InvalidInput)
    expect(row(id).carrier).toBe('UPS')
    const mail = orderShipped((await orders.findById(id))!)
    expect(mail.text).toContain('Already refunded: $50.00 of the $203.00 you paid.')
    expect(mail.html).toContain('Already refunded: $50.00 of the $203.00 you paid.')
  })

  it('a paid order becomes fulfilled and its email says nothing of refunds; a refunded one does not ship', async () => {
    const admin = await adminAuth.createAdmin('owner@example.com', 'a long enough password')
    const paid = insertOrder('paid', 0)
    await shipping.markFulfilled(admin, paid, { carrier: 'UPS', trackingNumber: '1Z999' })
    expect(row(paid).status).toBe('fulfilled')
    expect(orderShipped((await orders.findById(paid))!).text).not.toContain('refunded')
    const refunded = insertOrder('refunded', 20300)
    await expect(shipping.markFulfilled(admin, refunded, { carrier: 'UPS', trackingNumber: '1Z999' })).rejects.toThrow(/Only a paid order/)
  })
})
