import { sql, type SQL } from 'drizzle-orm'
import { describe, expect, it } from 'vitest'
import * as dashboard from '@/lib/dashboard'
import * as orderList from '@/lib/orders/list'
import * as products from '@/lib/products'
import { collect } from '../support/collect'
import { insertHold, insertOrderRow, insertVariedCatalog, parsed } from '../support/engine-admin-rows'
import { insertProduct, insertVariant } from '../support/engine-catalog'
import { ENGINES, useEngine, type TestEngine } from '../support/engines'

// Every figure an admin list shows, checked against the database itself on a catalog where
// each product's figures differ, on both engines: the products list (variants, stock, lowest
// price), the inventory, the dashboard's totals, the orders list and the CSV export. Each
// expected value is computed here in plain SQL, apart from the code under test.

const DAY = 24 * 3600 * 1000
const SOLD = sql.raw(`status IN ('paid', 'fulfilled', 'partially_refunded', 'refunded')`)

/** A number column as a number: PostgreSQL's bigint and numeric sums come back as text. */
const num = (value: unknown): number | null => (value === null ? null : Number(value))

async function one<T = Record<string, unknown>>(engine: TestEngine, query: SQL): Promise<T> {
  return (await engine.rows<T>(query))[0]!
}

async function seedOrders(engine: TestEngine): Promise<number> {
  const catalog = await insertVariedCatalog(engine)
  const [a, b] = [catalog[1]!.variants[0]!, catalog[4]!.variants[2]!]
  const now = Date.now()
  await insertOrderRow(engine, { createdAt: now - 1000, lines: [{ variantId: a.id, title: 'A', quantity: 2, unitAmountCents: a.priceCents }] })
  await insertOrderRow(engine, { createdAt: now - 3 * DAY, shippingCents: 500, totalCents: b.priceCents + 500, lines: [{ variantId: b.id, title: 'B', quantity: 1, unitAmountCents: b.priceCents }] })
  await insertOrderRow(engine, { createdAt: now - 10 * DAY, status: 'partially_refunded', refundedCents: 700, totalCents: 4200, lines: [{ variantId: a.id, title: 'A', quantity: 1, unitAmountCents: 4200 }] })
  await insertOrderRow(engine, { createdAt: now - 2 * DAY, status: 'refunded', refundedCents: 3100, totalCents: 3100, discountCents: 400, discountCodes: ['WELCOME'], lines: [{ variantId: b.id, title: 'B', quantity: 1, unitAmountCents: 3500 }] })
  await insertOrderRow(engine, { createdAt: now - 2 * DAY, status: 'canceled', totalCents: 9900, lines: [{ variantId: b.id, title: 'B', quantity: 3, unitAmountCents: 3300 }] })
  await insertOrderRow(engine, { createdAt: now - 40 * DAY, status: 'fulfilled', totalCents: 12_345, carrier: 'UPS', trackingNumber: '1Z, "quoted"', lines: [{ variantId: a.id, title: 'A', quantity: 5, unitAmountCents: 2469 }] })
  return now
}

describe.each(ENGINES)('admin figures on %s', (name) => {
  const engine = useEngine(name)

  describe('the products list', () => {
    it('finds a title or SKU as typed: an underscore or a percent sign stands for itself, in any case', async () => {
      await insertVariant(engine, { productId: await insertProduct(engine, { title: 'Mug_Large' }), sku: 'MUG_L' })
      await insertVariant(engine, { productId: await insertProduct(engine, { title: 'MugxLarge' }), sku: 'MUGXL' })
      await insertVariant(engine, { productId: await insertProduct(engine, { title: '100% wool' }), sku: 'WOOL-1' })
      await insertVariant(engine, { productId: await insertProduct(engine, { title: '100x wool' }), sku: 'WOOL-2' })
      const titles = async (q: string) => (await products.list({ q })).rows.map((r) => r.title).sort()
      const skus = async (q: string) => (await products.stockList({ q })).rows.map((r) => r.sku).sort()
      expect(await titles('mug_large')).toEqual(['Mug_Large'])
      expect(await titles('mug_l')).toEqual(['Mug_Large']) // by its SKU
      expect(await titles('100%')).toEqual(['100% wool'])
      expect(await skus('mug_l')).toEqual(['MUG_L'])
      expect(await skus('100%')).toEqual(['WOOL-1']) // by its product's title
    })

    it('shows each product its own variant count, stock and lowest price', async () => {
      const catalog = await insertVariedCatalog(engine)
      const rows = (await products.list({ sort: 'title' })).rows
      expect(rows).toHaveLength(catalog.length)
      for (const row of rows) {
        const db = await one<{ n: unknown; stock: unknown; min: unknown }>(engine, sql`SELECT count(*) AS n, coalesce(sum(stock), 0) AS stock, min(price_cents) AS min FROM variants WHERE product_id = ${row.id}`)
        expect({ id: row.id, variants: row.variantCount, stock: row.stock, from: row.minPriceCents }).toEqual({ id: row.id, variants: num(db.n), stock: num(db.stock), from: num(db.min) })
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
      const catalog = await insertVariedCatalog(engine)
      const target = catalog[4]!
      const rows = (await products.list({ q: target.variants[3]!.sku })).rows
      expect(rows.map((r) => r.id)).toEqual([target.product.id])
    })
  })

  describe('the inventory list', () => {
    it('shows each variant its stock and held units as the database has them', async () => {
      const catalog = await insertVariedCatalog(engine)
      const someVariant = catalog[3]!.variants[1]!
      await insertHold(engine, { variantId: someVariant.id, quantity: 2 })
      await insertHold(engine, { variantId: someVariant.id, quantity: 1 })
      await insertHold(engine, { variantId: someVariant.id, quantity: 5, status: 'released' })
      const result = await products.stockList({})
      expect(result.total).toBe(await engine.count(sql`SELECT count(*) AS n FROM variants`))
      for (const row of result.rows) {
        const db = await one<{ stock: unknown; sku: string; held: unknown }>(
          engine,
          sql`SELECT stock, sku, (SELECT coalesce(sum(quantity), 0) FROM stock_holds h WHERE h.variant_id = v.id AND h.status = 'active' AND h.expires_at > ${Date.now()}) AS held FROM variants v WHERE id = ${row.id}`,
        )
        expect({ sku: row.sku, stock: row.stock, held: row.held }).toEqual({ sku: db.sku, stock: num(db.stock), held: num(db.held) })
      }
      expect(result.rows.find((r) => r.id === someVariant.id)?.held).toBe(3)
      const low = (await products.stockList({ lowOnly: true })).rows
      const lowInDb = await engine.rows<{ id: unknown }>(sql`SELECT id FROM variants WHERE stock <= ${products.LOW_STOCK}`)
      expect(low.map((r) => r.id).sort()).toEqual(lowInDb.map((r) => Number(r.id)).sort())
    })
  })

  describe('the dashboard', () => {
    it('totals revenue, orders and the average per period from the orders table', async () => {
      const now = await seedOrders(engine)
      const { periods, series, topProducts } = await dashboard.overview(now)
      const today = dashboard.startOfUtcDay(now)
      for (const [label, since] of [['Today', today], ['Last 7 days', today - 6 * DAY], ['Last 30 days', today - 29 * DAY]] as const) {
        const db = await one<{ revenue: unknown; n: unknown }>(engine, sql`SELECT sum(total_cents - refunded_cents) AS revenue, count(*) AS n FROM orders WHERE ${SOLD} AND created_at >= ${since}`)
        const [revenue, n] = [num(db.revenue) ?? 0, num(db.n)!]
        const period = periods.find((p) => p.label === label)!
        expect(period.revenueCents).toBe(revenue)
        expect(period.orders).toBe(n)
        expect(period.averageCents).toBe(n ? Math.round(revenue / n) : 0)
      }
      expect(periods.find((p) => p.label === 'Last 30 days')!.orders).toBe(4)
      expect(series.reduce((s, d) => s + d.revenueCents, 0)).toBe(periods.find((p) => p.label === 'Last 30 days')!.revenueCents)
      const top = await engine.rows<{ title: string; units: unknown; revenue: unknown }>(
        sql`SELECT l.title AS title, sum(l.quantity) AS units, sum(l.total_cents) AS revenue FROM order_lines l JOIN orders o ON o.id = l.order_id WHERE o.${SOLD} AND o.created_at >= ${today - 29 * DAY} GROUP BY l.title ORDER BY units DESC`,
      )
      expect(topProducts).toEqual(top.map((r) => ({ title: r.title, units: num(r.units), revenue: num(r.revenue) })))
    })
  })

  describe('the orders list and its CSV export', () => {
    it('shows every order with the amounts the database holds', async () => {
      await seedOrders(engine)
      const result = await orderList.list(orderList.parseFilters({}))
      const db = (
        await engine.rows<Record<string, unknown>>(sql`SELECT id, status, email, total_cents, refunded_cents, discount_cents FROM orders ORDER BY created_at DESC, id DESC`)
      ).map((r) => ({ id: num(r.id), status: r.status, email: r.email, total_cents: num(r.total_cents), refunded_cents: num(r.refunded_cents), discount_cents: num(r.discount_cents) }))
      expect(result.total).toBe(db.length)
      expect(result.rows.map((r) => ({ id: r.id, status: r.status, email: r.email, total_cents: r.totalCents, refunded_cents: r.refundedCents, discount_cents: r.discountCents }))).toEqual(db)
      const refunded = await orderList.list(orderList.parseFilters({ status: 'refunded' }))
      expect(refunded.rows.map((r) => r.id)).toEqual((await engine.rows<{ id: unknown }>(sql`SELECT id FROM orders WHERE status = 'refunded'`)).map((r) => Number(r.id)))
    })

    it('finds an email as typed: an underscore or a percent sign stands for itself, in any case', async () => {
      for (const email of ['John_Doe@example.com', 'johnxdoe@example.com', '100%off@example.com', '100xoff@example.com']) await insertOrderRow(engine, { email })
      const found = async (q: string) => (await orderList.list(orderList.parseFilters({ q }))).rows.map((r) => r.email).sort()
      expect(await found('john_doe')).toEqual(['John_Doe@example.com'])
      expect(await found('100%')).toEqual(['100%off@example.com'])
      expect(await found('JOHN')).toEqual(['John_Doe@example.com', 'johnxdoe@example.com'])
    })

    it('exports the same rows, cell for cell, in batches', async () => {
      await seedOrders(engine)
      const csv = (await collect(orderList.exportCsv(orderList.parseFilters({}), 2))).join('')
      const [header = [], ...lines] = parseCsv(csv)
      expect(header).toEqual(['id', 'created_at', 'status', 'email', 'customer_name', 'total_cents', 'discount_cents', 'discount_codes', 'tax_cents', 'refunded_cents', 'currency', 'is_oversold', 'is_disputed', 'carrier', 'tracking_number'])
      const db = await engine.rows<Record<string, unknown>>(
        sql`SELECT id, created_at, status, email, customer_name, total_cents, discount_cents, discount_codes, tax_cents, refunded_cents, currency, is_oversold, is_disputed, carrier, tracking_number FROM orders ORDER BY created_at DESC, id DESC`,
      )
      expect(lines).toHaveLength(db.length)
      lines.forEach((cells, i) => {
        const row = db[i]!
        const expected = header.map((column) => {
          const value = row[column]
          if (column === 'created_at') return new Date(Number(value)).toISOString()
          if (column === 'discount_codes') return (parsed(value) as string[]).join(' ')
          return value === null ? '' : String(value)
        })
        expect(cells).toEqual(expected)
      })
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
        } else cell += c
      }
      cells.push(cell)
      return cells
    })
}
