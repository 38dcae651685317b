import { sql } from 'drizzle-orm'
import { describe, expect, it } from 'vitest'
import { handlers } from '@/lib/jobs/handlers'
import { ENGINES, useEngine } from '../support/engines'
import { insertVariantOn } from '../support/intake-rows'

// Two of the scheduled jobs (lib/jobs/handlers.ts) on both engines through db/tx.ts: the
// minute's hold sweep (expired holds released, old catalog change rows pruned) and the
// nightly purge of expired account sessions and sign-in links.

const job = { id: 1, attempts: 1, signal: new AbortController().signal }
const MINUTE = 60_000

describe.each(ENGINES)('scheduled sweeps on %s', (name) => {
  const engine = useEngine(name)

  it('the hold sweep releases expired holds only, and prunes change rows no process needs', async () => {
    const now = Date.now()
    const variantId = await insertVariantOn(engine, { stock: 5 })
    await engine.rows(sql`
      INSERT INTO stock_holds (variant_id, quantity, status, expires_at, created_at)
      VALUES (${variantId}, 1, 'active', ${now - MINUTE}, ${now - 40 * MINUTE}), (${variantId}, 2, 'active', ${now + 30 * MINUTE}, ${now}) RETURNING id`)
    await engine.rows(sql`
      INSERT INTO catalog_changes (product_id, slug, origin, created_at) VALUES (NULL, NULL, 'old', ${now - 60 * MINUTE}), (NULL, NULL, 'new', ${now}) RETURNING id`)
    await handlers['holds.release_expired']!({}, job)
    const holds = await engine.rows<{ quantity: number | string; status: string }>(sql`SELECT quantity, status FROM stock_holds ORDER BY id`)
    expect(holds.map((h) => [Number(h.quantity), h.status])).toEqual([
      [1, 'released'],
      [2, 'active'],
    ])
    // the release marked its variant changed (a new row), and the hour-old row went
    const origins = await engine.rows<{ origin: string }>(sql`SELECT origin FROM catalog_changes ORDER BY id`)
    expect(origins.map((r) => r.origin)).not.toContain('old')
    expect(origins.map((r) => r.origin)).toContain('new')
    expect(origins.length).toBeGreaterThanOrEqual(2)
  })

  it('the nightly purge deletes expired sessions and sign-in links, and keeps live ones', async () => {
    const now = Date.now()
    const [account] = await engine.rows<{ id: number | string }>(sql`INSERT INTO accounts (email, created_at) VALUES ('shopper@example.com', ${now}) RETURNING id`)
    const accountId = Number(account!.id)
    await engine.rows(sql`
      INSERT INTO account_sessions (id, account_id, expires_at, created_at)
      VALUES ('gone', ${accountId}, ${now - MINUTE}, ${now - 10 * MINUTE}), ('live', ${accountId}, ${now + 10 * MINUTE}, ${now}) RETURNING id`)
    await engine.rows(sql`
      INSERT INTO sign_in_tokens (id, email, expires_at, created_at)
      VALUES ('old-link', 'shopper@example.com', ${now - MINUTE}, ${now - 20 * MINUTE}), ('new-link', 'shopper@example.com', ${now + 10 * MINUTE}, ${now}) RETURNING id`)
    await handlers['accounts.purge_expired']!({}, job)
    expect((await engine.rows<{ id: string }>(sql`SELECT id FROM account_sessions`)).map((r) => r.id)).toEqual(['live'])
    expect((await engine.rows<{ id: string }>(sql`SELECT id FROM sign_in_tokens`)).map((r) => r.id)).toEqual(['new-link'])
  })
})
