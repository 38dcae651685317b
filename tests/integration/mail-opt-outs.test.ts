import { sql } from 'drizzle-orm'
import { describe, expect, it } from 'vitest'
import * as optOuts from '@/lib/mail-opt-outs'
import { ENGINES, useEngine, type TestEngine } from '../support/engines'

// The unsubscribe link of a stock alert or a checkout reminder (lib/mail-opt-outs.ts) on both
// engines: the token finds its address, an opt-out is recorded once however often and from
// however many app servers the button is pressed, and the waiting alerts are withdrawn once.

async function seed(engine: TestEngine) {
  const alertToken = optOuts.newToken()
  const reminderToken = optOuts.newToken()
  const [product] = await engine.rows<{ id: number | string }>(sql`INSERT INTO products (slug, title) VALUES ('mug', 'Mug') RETURNING id`)
  const [variant] = await engine.rows<{ id: number | string }>(sql`INSERT INTO variants (product_id, sku, title, price_cents) VALUES (${Number(product!.id)}, 'MUG-1', 'Mug', 1200) RETURNING id`)
  const variantId = Number(variant!.id)
  // the alert that was sent (it carries the link) and two still waiting, one of another address
  await engine.rows(sql`INSERT INTO stock_alerts (variant_id, email, created_at, notified_at, sent_at, unsubscribe_hash) VALUES (${variantId}, 'fran@example.com', 1, 2, 3, ${alertToken.hash}) RETURNING id`)
  const [product2] = await engine.rows<{ id: number | string }>(sql`INSERT INTO products (slug, title) VALUES ('cap', 'Cap') RETURNING id`)
  const [variant2] = await engine.rows<{ id: number | string }>(sql`INSERT INTO variants (product_id, sku, title, price_cents) VALUES (${Number(product2!.id)}, 'CAP-1', 'Cap', 900) RETURNING id`)
  await engine.rows(sql`INSERT INTO stock_alerts (variant_id, email, created_at) VALUES (${Number(variant2!.id)}, 'fran@example.com', 4) RETURNING id`)
  await engine.rows(sql`INSERT INTO stock_alerts (variant_id, email, created_at) VALUES (${Number(variant2!.id)}, 'sam@example.com', 5) RETURNING id`)
  await engine.rows(sql`
    INSERT INTO checkout_reminders (stripe_checkout_session_id, cart_id, email, recovery_url, created_at, sent_at, unsubscribe_hash)
    VALUES ('cs_r', 'cart_r', 'sam@example.com', 'https://checkout.example/r', 1, 2, ${reminderToken.hash}) RETURNING id`)
  return { alert: alertToken.token, reminder: reminderToken.token }
}

const withdrawn = (engine: TestEngine) =>
  engine.rows<{ email: string; at: number | string | null }>(sql`SELECT email, unsubscribed_at AS at FROM stock_alerts WHERE sent_at IS NULL ORDER BY email`).then((rows) => rows.map((r) => [r.email, r.at === null ? null : Number(r.at)]))

describe.each(ENGINES)('unsubscribe links on %s', (name) => {
  const engine = useEngine(name)

  it('finds whose link it is, records the opt-out once and withdraws only that address’s waiting alerts', async () => {
    const tokens = await seed(engine)
    expect(await optOuts.find(tokens.alert)).toEqual({ email: 'fran@example.com', kind: 'stock_alert' })
    expect(await optOuts.find(tokens.reminder)).toEqual({ email: 'sam@example.com', kind: 'checkout_reminder' })
    expect(await optOuts.find('x'.repeat(43))).toBeNull()
    expect(await optOuts.find('not a token')).toBeNull()
    expect(await optOuts.optOut('x'.repeat(43))).toBeNull()

    expect(await optOuts.optOut(tokens.alert, 1000)).toEqual({ email: 'fran@example.com', kind: 'stock_alert' })
    expect(await optOuts.optOut(tokens.alert, 2000)).toEqual({ email: 'fran@example.com', kind: 'stock_alert' })
    expect(await withdrawn(engine)).toEqual([
      ['fran@example.com', 1000],
      ['sam@example.com', null],
    ])
    await optOuts.optOut(tokens.reminder, 3000)
    const rows = await engine.rows<{ email: string; kind: string; created_at: number | string }>(sql`SELECT email, kind, created_at FROM mail_opt_outs ORDER BY email`)
    expect(rows.map((r) => [r.email, r.kind, Number(r.created_at)])).toEqual([
      ['fran@example.com', 'stock_alert', 1000],
      ['sam@example.com', 'checkout_reminder', 3000],
    ])
  })

  it.runIf(name === 'postgres')('records one opt-out when two app servers take the same link at once', async () => {
    const tokens = await seed(engine)
    const servers = engine.appServers(2)
    try {
      const results = await Promise.all(Array.from({ length: 12 }, (_, i) => optOuts.optOut(tokens.alert, 1000 + i)))
      expect(results.every((r) => r?.email === 'fran@example.com')).toBe(true)
    } finally {
      await servers.end()
    }
    expect(await engine.count(sql`SELECT count(*) AS n FROM mail_opt_outs`)).toBe(1)
    const [alert] = await withdrawn(engine)
    expect(alert![0]).toBe('fran@example.com')
    expect(alert![1]).toBeGreaterThanOrEqual(1000)
  })
})
