import { sql } from 'drizzle-orm'
import { describe, expect, it } from 'vitest'
import * as events from '@/lib/orders/events'
import * as orderList from '@/lib/orders/list'
import { collect } from '../support/collect'
import { ENGINES, useEngine, type TestEngine } from '../support/engines'

// The owner's lists of orders and webhook events, and the orders CSV, read through db/tx.ts:
// the same filters, pages, order and cells on SQLite and on PostgreSQL, each figure checked
// against the rows the test wrote.

const day = 24 * 3600 * 1000
const base = Date.UTC(2026, 10, 1)

type Seeded = { id: number; email: string; status: string; createdAt: number; totalCents: number }

async function seed(engine: TestEngine): Promise<Seeded[]> {
  const specs = [
    { email: 'John_Doe@example.com', status: 'paid', at: base, total: 1200 },
    { email: 'johnxdoe@example.com', status: 'refunded', at: base + day, total: 3400 },
    { email: '100%off@example.com', status: 'paid', at: base + 2 * day, total: 5600 },
    { email: '=HYPERLINK("x")@evil.com', status: 'fulfilled', at: base + 3 * day, total: 7800 },
    // the same millisecond as the one before: id breaks the tie, across batches too
    { email: 'same@example.com', status: 'paid', at: base + 3 * day, total: 9000 },
  ]
  const seeded: Seeded[] = []
  for (const [i, s] of specs.entries()) {
    const [row] = await engine.rows<{ id: number | string }>(sql`
      INSERT INTO orders (stripe_checkout_session_id, public_token, status, total_cents, subtotal_cents, currency, email, created_at, updated_at)
      VALUES (${`cs_list_${i}`}, ${`token_list_${i}_abcdefghijklmnopqrstuv`}, ${s.status}, ${s.total}, ${s.total}, 'usd', ${s.email}, ${s.at}, ${s.at})
      RETURNING id`)
    seeded.push({ id: Number(row!.id), email: s.email, status: s.status, createdAt: s.at, totalCents: s.total })
  }
  return seeded
}

const newestFirst = (rows: Seeded[]) => [...rows].sort((a, b) => b.createdAt - a.createdAt || b.id - a.id)

describe.each(ENGINES)("the owner's order and event lists on %s", (name) => {
  const engine = useEngine(name)

  it('lists, filters and pages orders as the database holds them', async () => {
    const seeded = await seed(engine)
    const all = await orderList.list(orderList.parseFilters({}))
    expect(all.total).toBe(await engine.count(sql`SELECT count(*) AS n FROM orders`))
    expect(all.rows.map((r) => [r.id, r.email, r.status, r.totalCents])).toEqual(newestFirst(seeded).map((s) => [s.id, s.email, s.status, s.totalCents]))
    expect(all.rows.every((r) => r.isOversold === false && r.isDisputed === false)).toBe(true)

    const paid = await orderList.list(orderList.parseFilters({ status: 'paid' }))
    expect(paid.rows.map((r) => r.id).sort()).toEqual(seeded.filter((s) => s.status === 'paid').map((s) => s.id).sort())
    const found = async (q: string) => (await orderList.list(orderList.parseFilters({ q }))).rows.map((r) => r.email).sort()
    expect(await found('john_doe')).toEqual(['John_Doe@example.com'])
    expect(await found('100%')).toEqual(['100%off@example.com'])
    expect(await found('JOHN')).toEqual(['John_Doe@example.com', 'johnxdoe@example.com'])
    expect(await found(`#${seeded[2]!.id}`)).toEqual(['100%off@example.com'])
    const range = await orderList.list(orderList.parseFilters({ from: '2026-11-02', to: '2026-11-03' }))
    expect(range.rows.map((r) => r.email).sort()).toEqual(['100%off@example.com', 'johnxdoe@example.com'])
    // a page past the end is empty and says how many pages there are
    const past = await orderList.list(orderList.parseFilters({ page: '9' }))
    expect([past.rows, past.total, past.page, past.pageCount]).toEqual([[], 5, 9, 1])
  })

  it('exports every order in keyset batches, formulas neutralised', async () => {
    const seeded = await seed(engine)
    const chunks = await collect(orderList.exportCsv(orderList.parseFilters({}), 2))
    // the header, then batches of 2, 2 and 1
    expect(chunks).toHaveLength(4)
    const lines = chunks.join('').trim().split('\n')
    expect(lines.slice(1).map((l) => Number(/^"(\d+)"/.exec(l)![1]))).toEqual(newestFirst(seeded).map((s) => s.id))
    expect(lines.find((l) => l.includes('HYPERLINK'))).toContain(`"'=HYPERLINK(""x"")@evil.com"`)
    expect(lines[1]).toMatch(/,"0","0","",""$/)
  })

  it('lists webhook events by state, newest first, and finds one', async () => {
    const now = Date.now()
    for (const [id, processed, error, at] of [
      ['evt_a', now - 3000, null, now - 3000],
      ['evt_b', null, 'no such price', now - 2000],
      ['evt_c', now - 1000, null, now - 1000],
    ] as const) {
      await engine.rows(sql`INSERT INTO stripe_events (id, type, object_id, received_at, processed_at, attempts, error) VALUES (${id}, 'checkout.session.completed', 'cs_1', ${at}, ${processed}, 1, ${error}) RETURNING id`)
    }
    expect((await events.list('all')).rows.map((e) => e.id)).toEqual(['evt_c', 'evt_b', 'evt_a'])
    expect((await events.list('failed')).rows.map((e) => [e.id, e.error])).toEqual([['evt_b', 'no such price']])
    const processed = await events.list('processed')
    expect([processed.total, processed.rows.map((e) => e.id)]).toEqual([2, ['evt_c', 'evt_a']])
    expect((await events.find('evt_b'))?.attempts).toBe(1)
    expect(await events.find('evt_none')).toBeNull()
  })
})
