import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { getDb } from '@/db'
import * as catalogCsv from '@/lib/catalog-csv'
import { resetEnv } from '@/lib/env'
import { InvalidInput } from '@/lib/errors'
import { freshDb, type TestDb } from '../support/db'
import { addToCollection, createCollection, createProduct, createVariant } from '../support/factories'

// The catalog CSV both ways on a real database: the export reads back as "nothing changes",
// errors are named by row and column, an apply is one transaction through the stock ledger,
// a second apply of the same file writes nothing, and 10,000 rows take seconds.

let t: TestDb
beforeEach(() => {
  t = freshDb()
  process.env.STORAGE_DIR = t.dir
  resetEnv()
  // the admin the ledger and the audit log name
  getDb().$client.prepare(`INSERT INTO admin_users (id, email, password_hash) VALUES (1, 'owner@example.com', 'unused')`).run()
})
afterEach(() => {
  t.close()
  delete process.env.STORAGE_DIR
  resetEnv()
})

const OWNER = { id: 1, email: 'owner@example.com' }
const sqlite = () => getDb().$client
const exported = () => [...catalogCsv.exportCsv()].join('')
const count = (sql: string) => (sqlite().prepare(sql).get() as { n: number }).n

function seed() {
  const summer = createCollection({ slug: 'summer', title: 'Summer' })
  createCollection({ slug: 'gifts', title: 'Gifts' })
  const mug = createProduct({ slug: 'trail-mug', title: 'Trail Mug, "enamel"', description: 'Line one\nline two, with a comma', taxCode: 'txcd_99999999' })
  createVariant({ productId: mug.id, sku: 'MUG-S', title: 'Small', priceCents: 1850, stock: 4, options: { Size: 'S' } })
  createVariant({ productId: mug.id, sku: 'MUG-L', title: 'Large', priceCents: 2200, stock: 0, options: { Size: 'L' }, position: 1 })
  addToCollection(summer.id, mug.id)
  const cap = createProduct({ slug: 'cap', title: '-50% cap', status: 'draft' })
  createVariant({ productId: cap.id, sku: 'CAP-1', title: 'Default', priceCents: 900, stock: 12 })
  return { mug, cap }
}

describe('export and import', () => {
  it('reads back its own export as nothing to change (round trip)', () => {
    seed()
    const csv = exported()
    expect(csv.split('\n')[0]).toBe(catalogCsv.COLUMNS.join(','))
    // quotes, commas, line breaks and a formula-looking title survive
    expect(csv).toContain('"Trail Mug, ""enamel"""')
    expect(csv).toContain("'-50% cap")
    const id = catalogCsv.upload(OWNER, 'catalog.csv', csv)
    const plan = catalogCsv.preview(id)
    expect(plan.errors).toEqual([])
    expect(plan.rows).toBe(3)
    expect(plan.products).toEqual({ created: 0, changed: 0, unchanged: 2 })
    expect(plan.variants).toEqual({ created: 0, changed: 0, unchanged: 3 })
    const audits = count('SELECT count(*) AS n FROM audit_log')
    expect(catalogCsv.apply(OWNER, id).stockMoves).toBe(0)
    expect(count('SELECT count(*) AS n FROM audit_log')).toBe(audits)
  })

  it('names every error by row and column in plain words, and applies nothing while any remains', () => {
    seed()
    const lines = exported().trimEnd().split('\n')
    const bad = [
      ...lines,
      'new-hat,New hat,,active,0,,winter,HAT-1,Default,,12.50,3',
      'new-hat,New hat,,active,0,,,MUG-S,Default,,9.999,3',
      'new-hat,New hat,,live,0,,,HAT-2,Default,,abc,-1',
      'cap,Cap,,draft,0,,,MUG-L,Default,,9.00,1',
    ].join('\n')
    const id = catalogCsv.upload(OWNER, 'bad.csv', bad)
    const errors = catalogCsv.preview(id).errors.map((e) => [e.row, e.column, e.message])
    expect(errors).toEqual([
      [5, 'collections', 'Unknown collection “winter”: create it under Collections first.'],
      [6, 'sku', 'Duplicate SKU MUG-S: also on row 2.'],
      [6, 'price', 'The price “9.999” must be digits with at most 2 decimals after a point, like 12.50 (no minus sign or currency symbol).'],
      [7, 'status', '“live” is not a status: active, draft or archived.'],
      [7, 'price', 'The price “abc” must be digits with at most 2 decimals after a point, like 12.50 (no minus sign or currency symbol).'],
      [7, 'stock', 'Bad stock “-1”: a whole number, zero or more.'],
      [8, 'sku', 'Duplicate SKU MUG-L: also on row 3.'],
    ])
    expect(() => catalogCsv.apply(OWNER, id)).toThrow(InvalidInput)
    expect(count(`SELECT count(*) AS n FROM products WHERE slug = 'new-hat'`)).toBe(0)
    const header = catalogCsv.preview(catalogCsv.upload(OWNER, 'x.csv', 'sku,price\nA,1.00\n')).errors
    expect(header[0]).toMatchObject({ row: 1, column: null })
    expect(header[0]!.message).toMatch(/Missing: product_slug/)
    // a variant cannot move between products, and a product's rows must agree
    const moved = catalogCsv.upload(OWNER, 'm.csv', [lines[0], 'cap,Cap,,draft,0,,,MUG-S,Default,,9.00,1', 'cap,Other title,,draft,0,,,CAP-1,Default,,9.00,12'].join('\n'))
    expect(catalogCsv.preview(moved).errors.map((e) => [e.row, e.column])).toEqual([
      [2, 'sku'],
      [3, 'product_title'],
    ])
  })

  it('applies creates and changes in one transaction, stock through the ledger, and a second apply changes nothing', () => {
    const { mug } = seed()
    const lines = exported().trimEnd().split('\n')
    const edited = [
      ...lines.map((l) => l.replace('MUG-S,Small,Size: S,18.50,4', 'MUG-S,Small,Size: S,19.00,7')),
      'new-hat,New hat,Warm.,active,1,,gifts summer,HAT-1,Blue,Colour=Blue,12.50,3',
      'new-hat,New hat,Warm.,active,1,,gifts summer,HAT-2,Red,Colour=Red,12.50,0',
    ].join('\n')
    const id = catalogCsv.upload(OWNER, 'edited.csv', edited)
    const plan = catalogCsv.preview(id)
    expect(plan.errors).toEqual([])
    expect(plan.products).toEqual({ created: 1, changed: 0, unchanged: 2 })
    expect(plan.variants).toEqual({ created: 2, changed: 1, unchanged: 2 })
    expect(plan.sample.find((r) => r.sku === 'MUG-S')).toMatchObject({ outcome: 'changed', changes: ['price', 'stock'] })
    const applied = catalogCsv.apply(OWNER, id)
    expect(applied.stockMoves).toBe(2)
    expect(sqlite().prepare(`SELECT price_cents AS p, stock FROM variants WHERE sku = 'MUG-S'`).get()).toEqual({ p: 1900, stock: 7 })
    const hat = sqlite().prepare(`SELECT id, title, status, is_featured AS f FROM products WHERE slug = 'new-hat'`).get() as { id: number; title: string; status: string; f: number }
    expect(hat).toMatchObject({ title: 'New hat', status: 'active', f: 1 })
    // in the search index once, with its SKUs and collections
    expect(sqlite().prepare('SELECT skus, collections FROM product_search WHERE rowid = ?').get(hat.id)).toEqual({ skus: 'HAT-1 HAT-2', collections: expect.stringMatching(/Gifts/) })
    expect(sqlite().prepare('SELECT c.slug FROM product_collections pc JOIN collections c ON c.id = pc.collection_id WHERE pc.product_id = ? ORDER BY c.slug').all(hat.id)).toEqual([{ slug: 'gifts' }, { slug: 'summer' }])
    const ledger = sqlite().prepare(`SELECT v.sku, l.delta, l.stock_after AS after, l.note, l.admin_user_id AS who FROM stock_ledger l JOIN variants v ON v.id = l.variant_id WHERE l.reason = 'import' ORDER BY v.sku`).all()
    expect(ledger).toEqual([
      { sku: 'HAT-1', delta: 3, after: 3, note: `import #${id}`, who: 1 },
      { sku: 'MUG-S', delta: 3, after: 7, note: `import #${id}`, who: 1 },
    ])
    expect(sqlite().prepare(`SELECT admin_email AS e, subject FROM audit_log WHERE action = 'catalog.import'`).all()).toEqual([{ e: 'owner@example.com', subject: `import:${id}` }])
    // the same file again: unchanged everywhere, nothing written
    const snapshot = () => sqlite().prepare('SELECT (SELECT count(*) FROM stock_ledger) AS l, (SELECT count(*) FROM audit_log) AS a, (SELECT count(*) FROM variants) AS v, (SELECT max(updated_at) FROM variants) AS u').get()
    const before = snapshot()
    const again = catalogCsv.upload(OWNER, 'edited.csv', edited)
    expect(catalogCsv.preview(again).variants).toEqual({ created: 0, changed: 0, unchanged: 5 })
    catalogCsv.apply(OWNER, again)
    catalogCsv.apply(OWNER, id)
    expect(snapshot()).toEqual(before)
    expect(mug.id).toBeGreaterThan(0)
  })

  it('imports 10,000 rows in seconds, and reads them back unchanged', () => {
    createCollection({ slug: 'bulk' })
    const rows = [catalogCsv.COLUMNS.join(',')]
    for (let i = 0; i < 10_000; i++) rows.push(`bulk-${Math.floor(i / 4)},Bulk product ${Math.floor(i / 4)},Made in batch.,active,0,,bulk,BULK-${i},Size ${i % 4},Size=${i % 4},${(i % 90) + 10}.00,${i % 50}`)
    const csv = rows.join('\n') + '\n'
    const started = performance.now()
    const id = catalogCsv.upload(OWNER, 'bulk.csv', csv)
    const plan = catalogCsv.preview(id)
    const applied = catalogCsv.apply(OWNER, id)
    const ms = performance.now() - started
    expect(plan.errors).toEqual([])
    expect(applied.variants.created).toBe(10_000)
    expect(applied.products.created).toBe(2_500)
    console.log(`catalog import: 10,000 rows previewed and applied in ${Math.round(ms)} ms`)
    expect(ms).toBeLessThan(10_000)
    const back = catalogCsv.preview(catalogCsv.upload(OWNER, 'back.csv', exported()))
    expect(back.variants).toEqual({ created: 0, changed: 0, unchanged: 10_000 })
    expect(count(`SELECT count(*) AS n FROM stock_ledger WHERE reason = 'import'`)).toBe(9_800)
  }, 60_000)
})
