import { sql } from 'drizzle-orm'
import { describe, expect, it } from 'vitest'
import * as orderTimeline from '@/lib/orders/timeline'
import { ENGINES, insertOrder, useEngine } from '../support/engines'

// The admin's timeline of one order (lib/orders/timeline.ts), read through db/tx.ts on both
// engines: its milestones, the Stripe events about its session, payment and refunded charges,
// the admin's actions and the stock it moved, oldest first.

describe.each(ENGINES)('the order timeline on %s', (name) => {
  const engine = useEngine(name)

  it('merges milestones, Stripe events (a refunded charge found through the audit row), admin actions and stock moves in time order', async () => {
    const id = await insertOrder(engine, 'timeline')
    const [product] = await engine.rows<{ id: number | string }>(sql`INSERT INTO products (slug, title) VALUES ('mug', 'Mug') RETURNING id`)
    const [variant] = await engine.rows<{ id: number | string }>(
      sql`INSERT INTO variants (product_id, sku, title, price_cents) VALUES (${Number(product!.id)}, 'MUG-1', 'Default', 1500) RETURNING id`,
    )
    const variantId = Number(variant!.id)
    await engine.rows(sql`INSERT INTO stripe_events (id, type, object_id, received_at, processed_at) VALUES
      ('evt_1', 'checkout.session.completed', 'cs_timeline', 1500, 1501),
      ('evt_2', 'charge.refunded', 'ch_1', 4000, NULL),
      ('evt_3', 'checkout.session.completed', 'cs_someone_else', 1600, 1601) RETURNING id`)
    await engine.rows(sql`UPDATE stripe_events SET error = 'the refund failed' WHERE id = 'evt_2' RETURNING id`)
    await engine.rows(sql`INSERT INTO audit_log (admin_user_id, admin_email, action, subject, after, created_at)
      VALUES (1, 'owner@example.com', 'order.refund', ${`order:${id}`}, ${JSON.stringify({ chargeId: 'ch_1', amountCents: 500 })}, 3000) RETURNING id`)
    await engine.rows(sql`INSERT INTO stock_ledger (variant_id, delta, stock_after, reason, order_id, created_at) VALUES (${variantId}, -1, 4, 'sale', ${id}, 2500) RETURNING id`)

    const order = { id, createdAt: 1000, paidAt: 2000, fulfilledAt: null, carrier: null, trackingNumber: null, stripeCheckoutSessionId: 'cs_timeline', stripePaymentIntentId: null }
    expect(await orderTimeline.forOrder(order)).toEqual([
      { at: 1000, what: 'Checkout completed' },
      { at: 1500, what: 'Stripe checkout.session.completed', detail: 'applied', isError: false },
      { at: 2000, what: 'Paid' },
      { at: 2500, what: 'Stock sale', detail: `variant ${variantId}: -1` },
      { at: 3000, what: 'Admin order.refund', detail: 'by owner@example.com' },
      { at: 4000, what: 'Stripe charge.refunded', detail: 'the refund failed', isError: true },
    ])
  })
})
