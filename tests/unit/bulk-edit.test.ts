import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { getDb } from '@/db'
import * as bulkEdit from '@/lib/bulk-edit'
import { freshStore, type TestDb } from '../support/db'
import { createVariant, setStock } from '../support/factories'

// Bulk price and stock edits on a real database: changes go through the stock ledger and are
// audited once, stock moves by what the owner changed (a sale made meanwhile is kept), and a
// single bad row refuses the whole submit and writes nothing.

let t: TestDb
beforeEach(() => {
  t = freshStore()
  // the admins the ledger and the audit log name
  sqlite().prepare(`INSERT INTO admin_users (id, email, password_hash, role) VALUES (1, 'owner@example.com', 'unused', 'owner'), (2, 'sam@example.com', 'unused', 'staff')`).run()
})
afterEach(() => t.close())

const OWNER = { id: 1, email: 'owner@example.com', role: 'owner' as const }
const STAFF = { id: 2, email: 'sam@example.com', role: 'staff' as const }
const sqlite = () => getDb().$client
const count = (sql: string, ...args: unknown[]) => (sqlite().prepare(sql).get(...args) as { n: number }).n
const variant = (id: number) => sqlite().prepare('SELECT price_cents AS priceCents, stock FROM variants WHERE id = ?').get(id) as { priceCents: number; stock: number }

/** A row as the page renders it for this variant (what it shows, and the same typed). */
function seen(v: { id: number; priceCents: number; stock: number }): bulkEdit.Row {
  return { variantId: v.id, price: (v.priceCents / 100).toFixed(2), stock: String(v.stock), seenPriceCents: String(v.priceCents), seenStock: String(v.stock) }
}

describe('bulk edit', () => {
  it('applies a price and a stock change with ledger rows and one audit row, and skips unchanged rows', () => {
    const mug = createVariant({ sku: 'MUG', priceCents: 1850, stock: 4 })
    const cap = createVariant({ sku: 'CAP', priceCents: 900, stock: 12 })
    const hat = createVariant({ sku: 'HAT', priceCents: 1200, stock: 3 })
    const result = bulkEdit.apply(OWNER, [{ ...seen(mug), price: '19.50' }, { ...seen(cap), stock: '20' }, seen(hat)])
    expect(result).toMatchObject({ ok: true, prices: 1, stockChanges: 1 })
    expect(variant(mug.id)).toEqual({ priceCents: 1950, stock: 4 })
    expect(variant(cap.id)).toEqual({ priceCents: 900, stock: 20 })
    expect(variant(hat.id)).toEqual({ priceCents: 1200, stock: 3 })
    const ledger = sqlite().prepare('SELECT variant_id AS variantId, delta, stock_after AS stockAfter, reason, admin_user_id AS adminUserId FROM stock_ledger').all()
    expect(ledger).toEqual([{ variantId: cap.id, delta: 8, stockAfter: 20, reason: 'adjust', adminUserId: 1 }])
    const audit = sqlite().prepare(`SELECT admin_email AS email, after FROM audit_log WHERE action = 'variant.bulk_edit'`).all() as { email: string; after: string }[]
    expect(audit).toHaveLength(1)
    expect(count('SELECT count(*) AS n FROM audit_log')).toBe(1)
    expect(audit[0]!.email).toBe('owner@example.com')
    expect(JSON.parse(audit[0]!.after)).toEqual({
      changes: [
        { variantId: mug.id, sku: 'MUG', priceCents: { from: 1850, to: 1950 } },
        { variantId: cap.id, sku: 'CAP', stock: { seen: 12, delta: 8, after: 20 } },
      ],
    })
  })

  it('keeps a sale made after the page loaded: stock moves by the difference typed', () => {
    const mug = createVariant({ sku: 'MUG', stock: 10 })
    const row = { ...seen(mug), stock: '15' } // the owner saw 10 and received 5
    setStock(mug.id, 8) // two sold while the page was open
    const result = bulkEdit.apply(OWNER, [row])
    expect(result).toMatchObject({ ok: true, prices: 0, stockChanges: 1 })
    expect(variant(mug.id).stock).toBe(13)
    expect(sqlite().prepare('SELECT delta, stock_after AS stockAfter FROM stock_ledger WHERE variant_id = ?').all(mug.id)).toEqual([{ delta: 5, stockAfter: 13 }])
  })

  it('refuses everything when one price is bad or one stock would go below zero, with a message per field', () => {
    const mug = createVariant({ sku: 'MUG', priceCents: 1850, stock: 4 })
    const cap = createVariant({ sku: 'CAP', priceCents: 900, stock: 3 })
    const bad = bulkEdit.apply(OWNER, [{ ...seen(mug), price: '12,50', stock: '9' }, { ...seen(cap), stock: '-1' }])
    expect(bad.ok).toBe(false)
    if (bad.ok) return
    expect(Object.keys(bad.errors).sort()).toEqual([`price-${mug.id}`, `stock-${cap.id}`])
    expect(bad.errors[`price-${mug.id}`]).toMatch(/^The price of SKU MUG has a comma/)
    expect(bad.errors[`stock-${cap.id}`]).toBe('The stock of SKU CAP must be a whole number, 0 or more.')

    // the owner takes 3 away from what they saw, but 2 were sold meanwhile: below zero, nothing saved
    const row = { ...seen(cap), stock: '0' }
    setStock(cap.id, 1)
    const short = bulkEdit.apply(OWNER, [{ ...seen(mug), price: '20.00' }, row])
    expect(short.ok).toBe(false)
    if (short.ok) return
    expect(short.errors).toEqual({ [`stock-${cap.id}`]: 'The stock of SKU CAP would go below zero: the page showed 3, there are 1 now. Reload the page to see the current figure.' })
    expect(variant(mug.id)).toEqual({ priceCents: 1850, stock: 4 })
    expect(variant(cap.id)).toEqual({ priceCents: 900, stock: 1 })
    expect(count('SELECT count(*) AS n FROM stock_ledger')).toBe(0)
    expect(count('SELECT count(*) AS n FROM audit_log')).toBe(0)
  })

  it('refuses a damaged form (a seen figure that is not a number, a variant twice or gone)', () => {
    const mug = createVariant({ sku: 'MUG', stock: 4 })
    expect(bulkEdit.apply(OWNER, [{ ...seen(mug), seenStock: 'x', stock: '9' }])).toMatchObject({ ok: false, errors: { '': /damaged/ } })
    expect(bulkEdit.apply(OWNER, [seen(mug), seen(mug)])).toMatchObject({ ok: false, errors: { '': /damaged/ } })
    expect(bulkEdit.apply(OWNER, [{ ...seen(mug), variantId: mug.id + 1000 }])).toMatchObject({ ok: false, errors: { '': /deleted meanwhile/ } })
    expect(variant(mug.id).stock).toBe(4)
  })

  it('lets staff, who may change products and stock, save; their name is on the ledger and the audit', () => {
    const mug = createVariant({ sku: 'MUG', priceCents: 1850, stock: 4 })
    expect(bulkEdit.apply(STAFF, [{ ...seen(mug), price: '17.00', stock: '2' }])).toMatchObject({ ok: true, prices: 1, stockChanges: 1 })
    expect(variant(mug.id)).toEqual({ priceCents: 1700, stock: 2 })
    expect(count('SELECT count(*) AS n FROM stock_ledger WHERE admin_user_id = 2 AND delta = -2')).toBe(1)
    expect(count(`SELECT count(*) AS n FROM audit_log WHERE admin_email = 'sam@example.com' AND action = 'variant.bulk_edit'`)).toBe(1)
  })
})
