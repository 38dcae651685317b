import { sql } from 'drizzle-orm'
import { describe, expect, it } from 'vitest'
import { transaction } from '@/db/tx'
import * as bulkEdit from '@/lib/bulk-edit'
import { InvalidInput, OutOfStock } from '@/lib/errors'
import * as inventory from '@/lib/inventory'
import { OWNER, STAFF, insertAdmins, insertVariant, setStock, settled, variantOf } from '../support/engine-catalog'
import { ENGINES, useEngine } from '../support/engines'

// Bulk price and stock edits (lib/bulk-edit.ts) on both engines: changes go through the stock
// ledger and are audited once, stock moves by what the owner changed (a sale made meanwhile is
// kept), and a single bad row refuses the whole submit and writes nothing. On PostgreSQL, bulk
// stock changes sent to two app servers while holds and sales land on the same variant never
// take the shelf below zero and lose no unit.

/** A row as the page renders it for this variant (what it shows, and the same typed). */
function seen(id: number, v: { priceCents: number; stock: number }): bulkEdit.Row {
  return { variantId: id, price: (v.priceCents / 100).toFixed(2), stock: String(v.stock), seenPriceCents: String(v.priceCents), seenStock: String(v.stock) }
}

describe.each(ENGINES)('bulk edit on %s', (name) => {
  const engine = useEngine(name)
  const count = (query: ReturnType<typeof sql>) => engine.count(query)
  const variant = (values: { sku: string; priceCents?: number; stock: number }) => insertVariant(engine, values)
  const row = async (id: number) => seen(id, await variantOf(engine, id))

  it('applies a price and a stock change with ledger rows and one audit row, and skips unchanged rows', async () => {
    await insertAdmins(engine)
    const mug = await variant({ sku: 'MUG', priceCents: 1850, stock: 4 })
    const cap = await variant({ sku: 'CAP', priceCents: 900, stock: 12 })
    const hat = await variant({ sku: 'HAT', priceCents: 1200, stock: 3 })
    const result = await bulkEdit.apply(OWNER, [{ ...(await row(mug)), price: '19.50' }, { ...(await row(cap)), stock: '20' }, await row(hat)])
    expect(result).toMatchObject({ ok: true, prices: 1, stockChanges: 1 })
    expect(await variantOf(engine, mug)).toEqual({ priceCents: 1950, stock: 4 })
    expect(await variantOf(engine, cap)).toEqual({ priceCents: 900, stock: 20 })
    expect(await variantOf(engine, hat)).toEqual({ priceCents: 1200, stock: 3 })
    const ledger = await engine.rows<Record<string, number | string>>(sql`SELECT variant_id AS "variantId", delta, stock_after AS "stockAfter", reason, admin_user_id AS "adminUserId" FROM stock_ledger`)
    expect(ledger.map((l) => [Number(l.variantId), Number(l.delta), Number(l.stockAfter), l.reason, Number(l.adminUserId)])).toEqual([[cap, 8, 20, 'adjust', 1]])
    const audit = await engine.rows<{ email: string; after: unknown }>(sql`SELECT admin_email AS email, after FROM audit_log WHERE action = 'variant.bulk_edit'`)
    expect(audit).toHaveLength(1)
    expect(await count(sql`SELECT count(*) AS n FROM audit_log`)).toBe(1)
    expect(audit[0]!.email).toBe('owner@example.com')
    expect(typeof audit[0]!.after === 'string' ? JSON.parse(audit[0]!.after) : audit[0]!.after).toEqual({
      changes: [
        { variantId: mug, sku: 'MUG', priceCents: { from: 1850, to: 1950 } },
        { variantId: cap, sku: 'CAP', stock: { seen: 12, delta: 8, after: 20 } },
      ],
    })
  })

  it('keeps a sale made after the page loaded: stock moves by the difference typed', async () => {
    await insertAdmins(engine)
    const mug = await variant({ sku: 'MUG', stock: 10 })
    const form = { ...(await row(mug)), stock: '15' } // the owner saw 10 and received 5
    await setStock(engine, mug, 8) // two sold while the page was open
    expect(await bulkEdit.apply(OWNER, [form])).toMatchObject({ ok: true, prices: 0, stockChanges: 1 })
    expect((await variantOf(engine, mug)).stock).toBe(13)
    const ledger = await engine.rows<{ delta: number | string; stockAfter: number | string }>(sql`SELECT delta, stock_after AS "stockAfter" FROM stock_ledger WHERE variant_id = ${mug}`)
    expect(ledger.map((l) => [Number(l.delta), Number(l.stockAfter)])).toEqual([[5, 13]])
  })

  it('refuses everything when one price is bad or one stock would go below zero, with a message per field', async () => {
    await insertAdmins(engine)
    const mug = await variant({ sku: 'MUG', priceCents: 1850, stock: 4 })
    const cap = await variant({ sku: 'CAP', priceCents: 900, stock: 3 })
    const bad = await bulkEdit.apply(OWNER, [{ ...(await row(mug)), price: '12,50', stock: '9' }, { ...(await row(cap)), stock: '-1' }])
    expect(bad.ok).toBe(false)
    if (bad.ok) return
    expect(Object.keys(bad.errors).sort()).toEqual([`price-${mug}`, `stock-${cap}`])
    expect(bad.errors[`price-${mug}`]).toMatch(/^The price of SKU MUG has a comma/)
    expect(bad.errors[`stock-${cap}`]).toBe('The stock of SKU CAP must be a whole number, 0 or more.')

    // the owner takes 3 away from what they saw, but 2 were sold meanwhile: below zero, nothing saved
    const form = { ...(await row(cap)), stock: '0' }
    await setStock(engine, cap, 1)
    const short = await bulkEdit.apply(OWNER, [{ ...(await row(mug)), price: '20.00' }, form])
    expect(short.ok).toBe(false)
    if (short.ok) return
    expect(short.errors).toEqual({ [`stock-${cap}`]: 'The stock of SKU CAP would go below zero: the page showed 3, there are 1 now. Reload the page to see the current figure.' })
    expect(await variantOf(engine, mug)).toEqual({ priceCents: 1850, stock: 4 })
    expect(await variantOf(engine, cap)).toEqual({ priceCents: 900, stock: 1 })
    expect(await count(sql`SELECT count(*) AS n FROM stock_ledger`)).toBe(0)
    expect(await count(sql`SELECT count(*) AS n FROM audit_log`)).toBe(0)
  })

  it('refuses a damaged form (a seen figure that is not a number, a variant twice or gone)', async () => {
    const mug = await variant({ sku: 'MUG', stock: 4 })
    const form = await row(mug)
    expect(await bulkEdit.apply(OWNER, [{ ...form, seenStock: 'x', stock: '9' }])).toMatchObject({ ok: false, errors: { '': /damaged/ } })
    expect(await bulkEdit.apply(OWNER, [form, form])).toMatchObject({ ok: false, errors: { '': /damaged/ } })
    expect(await bulkEdit.apply(OWNER, [{ ...form, variantId: mug + 1000 }])).toMatchObject({ ok: false, errors: { '': /deleted meanwhile/ } })
    expect((await variantOf(engine, mug)).stock).toBe(4)
  })

  it('lets staff, who may change products and stock, save; their name is on the ledger and the audit', async () => {
    await insertAdmins(engine)
    const mug = await variant({ sku: 'MUG', priceCents: 1850, stock: 4 })
    expect(await bulkEdit.apply(STAFF, [{ ...(await row(mug)), price: '17.00', stock: '2' }])).toMatchObject({ ok: true, prices: 1, stockChanges: 1 })
    expect(await variantOf(engine, mug)).toEqual({ priceCents: 1700, stock: 2 })
    expect(await count(sql`SELECT count(*) AS n FROM stock_ledger WHERE admin_user_id = 2 AND delta = -2`)).toBe(1)
    expect(await count(sql`SELECT count(*) AS n FROM audit_log WHERE admin_email = 'sam@example.com' AND action = 'variant.bulk_edit'`)).toBe(1)
  })

  it.runIf(name === 'postgres')('bulk stock changes from two app servers while holds and sales land: never below zero, no unit lost', async () => {
    await insertAdmins(engine)
    const mug = await variant({ sku: 'MUG', stock: 6 })
    const form = await row(mug) // every owner's page showed 6
    await engine.rows(sql`INSERT INTO carts (id) SELECT 'cart-' || g FROM generate_series(1, 8) AS g RETURNING id`)
    const servers = engine.appServers(2)
    try {
      // 8 owners' saves: 4 take 2 away (saw 6, typed 4), 4 add 3 (saw 6, typed 9)
      const edits = Array.from({ length: 8 }, (_, n) => bulkEdit.apply(OWNER, [{ ...form, stock: n % 2 ? '9' : '4' }]))
      const { refused } = await settled<unknown>([
        ...edits,
        // 8 sales of one unit (the shelf's own conditional cut) and 8 holds of one
        ...Array.from({ length: 8 }, () => inventory.adjustByAdmin(OWNER, { variantId: mug, delta: -1, note: 'sold at the counter' })),
        ...Array.from({ length: 8 }, (_, n) => transaction((tx, t) => inventory.placingHolds(tx, t, { cartId: `cart-${n + 1}`, lines: [{ variantId: mug, quantity: 1 }], expiresAt: Date.now() + 600_000 }))),
      ])
      // a refusal is the shelf's own answer, never a fault
      expect(refused.every((err) => err instanceof InvalidInput || err instanceof OutOfStock), String(refused.find((err) => !(err instanceof InvalidInput || err instanceof OutOfStock)))).toBe(true)
      for (const edit of await Promise.all(edits)) if (!edit.ok) expect(Object.values(edit.errors)[0]).toMatch(/would go below zero/)
    } finally {
      await servers.end()
    }
    // every unit is accounted for: the shelf is where its ledger says, and never went below zero
    const { stock } = await variantOf(engine, mug)
    const ledger = await engine.rows<{ delta: number | string; stockAfter: number | string }>(sql`SELECT delta, stock_after AS "stockAfter" FROM stock_ledger WHERE variant_id = ${mug} ORDER BY id`)
    expect(stock).toBe(6 + ledger.reduce((sum, l) => sum + Number(l.delta), 0))
    expect(ledger.at(-1) ? Number(ledger.at(-1)!.stockAfter) : 6).toBe(stock)
    expect(ledger.every((l) => Number(l.stockAfter) >= 0)).toBe(true)
    // each ledger row starts where the one before it ended: no change overwrote another
    ledger.reduce((before, l) => (expect(before + Number(l.delta)).toBe(Number(l.stockAfter)), Number(l.stockAfter)), 6)
    expect(await count(sql`SELECT count(*) AS n FROM audit_log WHERE action = 'variant.bulk_edit'`)).toBe(ledger.filter((l) => Number(l.delta) !== -1).length)
  })
})
