import { sql } from 'drizzle-orm'
import { describe, expect, it } from 'vitest'
import * as adminAuth from '@/lib/admin-auth'
import { InvalidInput } from '@/lib/errors'
import { orderShipped } from '@/lib/mail/order-shipped'
import * as orders from '@/lib/orders'
import * as shipping from '@/lib/orders/shipping'
import { insertShopOrder } from '../support/engine-shop-rows'
import { ENGINES, useEngine, type TestEngine } from '../support/engines'
import { useStorageDir } from '../support/storage-dir'

// Shipping an order from the admin, on both engines: a paid order and a partly refunded one
// both ship, once, and the shipping email says what was already refunded. The action's audit
// row and its races are in order-actions.test.ts.

const insertOrder = (engine: TestEngine, status: string, refundedCents: number) => insertShopOrder(engine, { key: status, status, refundedCents })

async function row(engine: TestEngine, id: number) {
  const [r] = await engine.rows<{ status: string; fulfilledAt: number | string | null; carrier: string; tracking: string }>(
    sql`SELECT status, fulfilled_at AS "fulfilledAt", carrier, tracking_number AS tracking FROM orders WHERE id = ${id}`,
  )
  return r!
}
const shippedJobs = (engine: TestEngine, id: number) => engine.count(sql`SELECT count(*) AS n FROM jobs WHERE unique_key = ${`mail.order_shipped:${id}`}`)

describe.each(ENGINES)('shipping a partly refunded order on %s', (name) => {
  const engine = useEngine(name)
  useStorageDir(engine)

  it('marks it shipped (status kept), queues the email once, and the email names the refund', async () => {
    const admin = await adminAuth.createAdmin('owner@example.com', 'a long enough password')
    const id = await insertOrder(engine, 'partially_refunded', 5000)
    await shipping.markFulfilled(admin, id, { carrier: 'UPS', trackingNumber: '1Z999' })
    expect(await row(engine, id)).toMatchObject({ status: 'partially_refunded', carrier: 'UPS', tracking: '1Z999' })
    expect((await row(engine, id)).fulfilledAt).not.toBeNull()
    expect(await shippedJobs(engine, id)).toBe(1)
    await expect(shipping.markFulfilled(admin, id, { carrier: 'DHL', trackingNumber: '2' })).rejects.toThrow(InvalidInput)
    expect((await row(engine, id)).carrier).toBe('UPS')
    const mail = orderShipped((await orders.findById(id))!)
    expect(mail.text).toContain('Already refunded: $50.00 of the $203.00 you paid.')
    expect(mail.html).toContain('Already refunded: $50.00 of the $203.00 you paid.')
  })

  it('a paid order becomes fulfilled and its email says nothing of refunds; a refunded one does not ship', async () => {
    const admin = await adminAuth.createAdmin('owner@example.com', 'a long enough password')
    const paid = await insertOrder(engine, 'paid', 0)
    await shipping.markFulfilled(admin, paid, { carrier: 'UPS', trackingNumber: '1Z999' })
    expect((await row(engine, paid)).status).toBe('fulfilled')
    expect(orderShipped((await orders.findById(paid))!).text).not.toContain('refunded')
    const refunded = await insertOrder(engine, 'refunded', 20300)
    await expect(shipping.markFulfilled(admin, refunded, { carrier: 'UPS', trackingNumber: '1Z999' })).rejects.toThrow(/Only a paid order/)
  })
})
