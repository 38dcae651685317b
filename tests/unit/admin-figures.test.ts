import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { collect } from '../support/collect'
import { getDb } from '@/db'
import * as dashboard from '@/lib/dashboard'
import * as orderList from '@/lib/orders/list'
import * as products from '@/lib/products'
import { freshStore, type TestDb } from '../support/db'
import { createHold, createOrder, createProduct, createVariant, createVariedCatalog } from '../support/factories'

// Every figure an admin list shows, checked against the database itself on a catalog where
// each product's figures differ: the products list (variants, stock, lowest price), the
// inventory, the dashboard's totals, the orders list and the CSV export. Each expected value
// is computed here in plain SQL, apart from the code under test.

let t: TestDb
beforeEach(() => {
  t = freshStore()
})
afterEach(() => {
  t.close()
})

const all = <T>(query: string, ...params: unknown[]) => getDb().$client.prepare(query).all(...params) as T[]
const one = <T>(query: string, ...params: unknown[]) => getDb().$client.prepare(query).get(...params) as T

describe('the products list', () => {
  it('finds a title or SKU as typed: an underscore or a percent sign stands for itself, in any case', async () => {
    const underscore = createProduct({ title: 'Mug_Large' })
    createVariant({ productId: underscore.id, sku: 'MUG_L' })
    createVariant({ productId: createProduct({ title: 'MugxLarge' }).id, sku: 'MUGXL' })
    createVariant({ productId: createProduct({ title: '100% wool' }).id, sku: 'WOOL-1' })
    createVariant({ productId: createProduct({ title: '100x wool' }).id, sku: 'WOOL-2' })
    const titles = async (q: string) => (await products.list({ q })).rows.map((r) => r.title).sort()
    const skus = async (q: string) => (await products.stockList({ q })).rows.map((r) => r.sku).sort()
    expect(await titles('mug_large')).toEqual(['Mug_Large'])
    expect(await titles('mug_l')).toEqual(['Mug_Large']) // by its SKU
    expect(await titles('100%')).toEqual(['100% wool'])
    expect(await skus('mug_l')).toEqual(['MUG_L'])
    expect(await skus('100%')).toEqual(['WOOL-1']) // by its product's title
  })

  it('shows each product its own variant count, stock and lowest price', async () => {
    const catalog = createVariedCatalog()
    const rows = (await products.list({ sort: 'title' })).rows
    expect(rows).toHaveLength(catalog.length)
    for (const row of rows) {
      const db = one<{ n: number; stock: number; min: number | null }>('SELECT count(*) AS n, coalesce(sum(stock), 0) AS stock, min(price_cents) AS min FROM variants WHERE product_id = ?', row.id)
      expect({ id: row.id, variants: row.variantCount, stock: row.stock, from: row.minPriceCents }).toEqual({ id: row.id, variants: db.n, stock: db.stock, from: db.min })
    }
    // and the figures differ from row to row, as the catalog does
    expect(new Set(rows.map((r) => r.variantCount)).size).toBe(catalog.length)
    const bySeed = new Map(catalog.map((c) => [c.product.id, c.variants]))
    for (const row of rows) {
      const vs = bySeed.get(row.id)!
      expect(row.variantCount).toBe(vs.length)
      expect(row.stock).toBe(vs.reduce((s, v) => s + v.stock, 0))
      expect(row.minPriceCents).toBe(vs.length ? Math.min(...vs.map((v) => v.priceCents)) : null)
    }
  })

  it('finds a product by the SKU of one of its variants, and only that product', async () => {
    const catalog = createVariedCatalog()
    const target = catalog[4]!
    const rows = (await products.list({ q: target.variants[3]!.sku })).rows
    expect(rows.map((r) => r.id)).toEqual([target.product.id])
  })
})

describe('the inventory list', () => {
  it('shows each variant its stock and held units as the database has them', async () => {
    const catalog = createVariedCatalog()
    const someVariant = catalog[3]!.variants[1]!
    createHold({ variantId: someVariant.id, quantity: 2 })
    createHold({ variantId: someVariant.id, quantity: 1 })
    createHold({ variantId: someVariant.id, quantity: 5, status: 'released' })
    const result = await products.stockList({})
    expect(result.total).toBe(one<{ n: number }>('SELECT count(*) AS n FROM variants').n)
    for (const row of result.rows) {
      const db = one<{ stock: number; sku: string; held: number }>(
        `SELECT stock, sku, (SELECT coalesce(sum(quantity), 0) FROM stock_holds h WHERE h.variant_id = v.id AND h.status = 'active' AND h.expires_at > ?) AS held FROM variants v WHERE id = ?`,
        Date.now(),
        row.id,
      )
      expect({ sku: row.sku, stock: row.stock, held: row.held }).toEqual(db)
    }
    expect(result.rows.find((r) => r.id === someVariant.id)?.held).toBe(3)
    const low = (await products.stockList({ lowOnly: true })).rows
    expect(low.map((r) => r.id).sort()).toEqual(all<{ id: number }>('SELECT id FROM variants WHERE stock <= ?', products.LOW_STOCK).map((r) => r.id).sort())
  })
})

function seedOrders() {
  const catalog = createVariedCatalog()
  const [a, b] = [catalog[1]!.variants[0]!, catalog[4]!.variants[2]!]
  const now = Date.now()
  const day = 24 * 3600 * 1000
  createOrder({ createdAt: now - 1000, lines: [{ variantId: a.id, title: 'A', quantity: 2, unitAmountCents: a.priceCents }] })
  createOrder({ createdAt: now - 3 * day, shippingCents: 500, totalCents: b.priceCents + 500, lines: [{ variantId: b.id, title: 'B', quantity: 1, unitAmountCents: b.priceCents }] })
  createOrder({ createdAt: now - 10 * day, status: 'partially_refunded', refundedCents: 700, totalCents: 4200, lines: [{ variantId: a.id, title: 'A', quantity: 1, unitAmountCents: 4200 }] })
  createOrder({ createdAt: now - 2 * day, status: 'refunded', refundedCents: 3100, totalCents: 3100, discountCents: 400, discountCodes: ['WELCOME'], lines: [{ variantId: b.id, title: 'B', quantity: 1, unitAmountCents: 3500 }] })
  createOrder({ createdAt: now - 2 * day, status: 'canceled', totalCents: 9900, lines: [{ variantId: b.id, title: 'B', quantity: 3, unitAmountCents: 3300 }] })
  createOrder({ createdAt: now - 40 * day, status: 'fulfilled', totalCents: 12_345, carrier: 'UPS', trackingNumber: '1Z, "quoted"', lines: [{ variantId: a.id, title: 'A', quantity: 5, unitAmountCents: 2469 }] })
  return now
}

describe('the dashboard', () => {
  it('totals revenue, orders and the average per period from the orders table', async () => {
    const now = seedOrders()
    const { periods, series, topProducts } = await dashboard.overview(now)
    const today = dashboard.startOfUtcDay(now)
    const day = 24 * 3600 * 1000
    const sold = `status IN ('paid', 'fulfilled', 'partially_refunded', 'refunded')`
    for (const [label, since] of [['Today', today], ['Last 7 days', today - 6 * day], ['Last 30 days', today - 29 * day]] as const) {
      const db = one<{ revenue: number | null; n: number }>(`SELECT sum(total_cents - refunded_cents) AS revenue, count(*) AS n FROM orders WHERE ${sold} AND created_at >= ?`, since)
      const period = periods.find((p) => p.label === label)!
      expect(period.revenueCents).toBe(db.revenue ?? 0)
      expect(period.orders).toBe(db.n)
      expect(period.averageCents).toBe(db.n ? Math.round((db.revenue ?? 0) / db.n) : 0)
    }
    expect(periods.find((p) => p.label === 'Last 30 days')!.orders).toBe(4)
    expect(series.reduce((s, d) => s + d.revenueCents, 0)).toBe(periods.find((p) => p.label === 'Last 30 days')!.revenueCents)
    const top = all<{ title: string; units: number; revenue: number }>(
      `SELECT l.title AS title, sum(l.quantity) AS units, sum(l.total_cents) AS revenue FROM order_lines l JOIN orders o ON o.id = l.order_id WHERE o.${sold} AND o.created_at >= ? GROUP BY l.title ORDER BY units DESC`,
      today - 29 * day,
    )
    expect(topProducts).toEqual(top)
  })
})

describe('the orders list and its CSV export', () => {
  it('shows every order with the amounts the database holds', async () => {
    seedOrders()
    const result = await orderList.list(orderList.parseFilters({}))
    const db = all<{ id: number; status: string; email: string; total_cents: number; refunded_cents: number; discount_cents: number }>('SELECT id, status, email, total_cents, refunded_cents, discount_cents FROM orders ORDER BY created_at DESC, id DESC')
    expect(result.total).toBe(db.length)
    expect(result.rows.map((r) => ({ id: r.id, status: r.status, email: r.email, total_cents: r.totalCents, refunded_cents: r.refundedCents, discount_cents: r.discountCents }))).toEqual(db)
    const refunded = await orderList.list(orderList.parseFilters({ status: 'refunded' }))
    expect(refunded.rows.map((r) => r.id)).toEqual(all<{ id: number }>(`SELECT id FROM orders WHERE status = 'refunded'`).map((r) => r.id))
  })

  it('finds an email as typed: an underscore or a percent sign stands for itself, in any case', async () => {
    for (const email of ['John_Doe@example.com', 'johnxdoe@example.com', '100%off@example.com', '100xoff@example.com']) createOrder({ email })
    const found = async (q: string) => (await orderList.list(orderList.parseFilters({ q }))).rows.map((r) => r.email).sort()
    expect(await found('john_doe')).toEqual(['John_Doe@example.com'])
    expect(await found('100%')).toEqual(['100%off@example.com'])
    expect(await found('JOHN')).toEqual(['John_Doe@example.com', 'johnxdoe@example.com'])
  })

  it('exports the same rows, cell for cell, in batches', async () => {
    seedOrders()
    const csv = (await collect(orderList.exportCsv(orderList.parseFilters({}), 2))).join('')
    const [header = [], ...lines] = parseCsv(csv)
    expect(header).toEqual(['id', 'created_at', 'status', 'email', 'customer_name', 'total_cents', 'discount_cents', 'discount_codes', 'tax_cents', 'refunded_cents', 'currency', 'is_oversold', 'is_disputed', 'carrier', 'tracking_number'])
    const db = all<Record<string, unknown>>(
      `SELECT id, created_at, status, email, customer_name, total_cents, discount_cents, discount_codes, tax_cents, refunded_cents, currency, is_oversold, is_disputed, carrier, tracking_number FROM orders ORDER BY created_at DESC, id DESC`,
    )
    expect(lines).toHaveLength(db.length)
    lines.forEach((cells, i) => {
      const row = db[i]!
      const expected = header.map((column) => {
        const value = row[column]
        if (column === 'created_at') return new Date(value as number).toISOString()
        if (column === 'discount_codes') return (JSON.parse(value as string) as string[]).join(' ')
        return value === null ? '' : String(value)
      })
      expect(cells).toEqual(expected)
    })
  })
})

/** Just enough of RFC 4180 for the export: quoted cells with doubled quotes, commas and no line breaks inside. */
function parseCsv(text: string): string[][] {
  return text
    .trimEnd()
    .split('\n')
    .map((line) => {
      const cells: string[] = []
      let cell = ''
      let quoted = false
      for (let i = 0; i < line.length; i++) {
        const c = line[i]
        if (quoted) {
          if (c === '"' && line[i + 1] === '"') {
            cell += '"'
            i++
          } else if (c === '"') quoted = false
          else cell += c
        } else if (c === '"') quoted = true
        else if (c === ',') {
          cells.push(cell)
          cell = ''
        }
        else cell += c
      }
      cells.push(cell)
      return cells
    })
}
