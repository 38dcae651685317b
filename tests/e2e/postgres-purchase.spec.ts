import { test as base, expect } from '@playwright/test'
import pg from 'pg'
import { startPostgres, type Postgres } from '../support/postgres'
import { startServer, type ServerHandle } from '../support/server'
import { addToCartAndCheckout, catalog, fillHostedCheckout, pick, sentMail, signIn } from './shop'

// The whole purchase in Chromium on the store run by DATABASE_URL (decision 048): a
// PostgreSQL this spec starts (Debian's binaries, a temp folder, a loopback port), the
// production build booted on it with the demo catalog and the payments emulator. What the
// shopper and the owner see is checked against PostgreSQL's own rows; no SQLite store is made.

type Store = { database: Postgres; server: ServerHandle; pool: pg.Pool }

const test = base.extend<object, { store: Store }>({
  store: [
    async ({}, use) => {
      const database = await startPostgres()
      const server = await startServer({ env: { DATABASE_URL: database.url }, timeoutMs: 120_000 })
      const pool = new pg.Pool({ connectionString: database.url, max: 2 })
      await use({ database, server, pool })
      await pool.end()
      await server.stop()
      await database.stop()
    },
    { scope: 'worker', timeout: 180_000 },
  ],
  baseURL: async ({ store }, use) => {
    await use(store.server.url)
  },
})

test.describe.configure({ timeout: 180_000 })

test('on PostgreSQL: browse, add, pay; the order, its stock and its email are in PostgreSQL, and the owner sees it', async ({ page, store }) => {
  const { pool, server } = store
  const { product, variant } = pick(await catalog(page.request), 3)
  const stockOf = async () => Number((await pool.query<{ stock: number }>('SELECT stock FROM variants WHERE id = $1', [variant.id])).rows[0]!.stock)
  const stockBefore = await stockOf()

  await addToCartAndCheckout(page, product.slug, variant.id, 2)
  // the units are held in PostgreSQL while the shopper pays
  const held = async () => Number((await pool.query<{ n: string }>('SELECT coalesce(sum(quantity), 0) AS n FROM stock_holds WHERE variant_id = $1', [variant.id])).rows[0]!.n)
  await expect.poll(held).toBe(2)
  await fillHostedCheckout(page, '4242 4242 4242 4242')

  await expect(page).toHaveURL(/\/checkout\/success\?session_id=cs_/)
  const sessionId = new URL(page.url()).searchParams.get('session_id')!
  await expect(page.getByTestId('order-status')).toHaveAttribute('data-status', 'paid')
  await expect(page.getByText(product.title).first()).toBeVisible()

  // one paid order for the session, its line, the stock taken once, the event recorded
  const orders = await pool.query<{ id: string; status: string; total_cents: string }>('SELECT id, status, total_cents FROM orders WHERE stripe_checkout_session_id = $1', [sessionId])
  expect(orders.rows.map((o) => o.status)).toEqual(['paid'])
  const order = orders.rows[0]!
  const lines = await pool.query<{ variant_id: number; quantity: number; total_cents: number }>('SELECT variant_id, quantity, total_cents FROM order_lines WHERE order_id = $1', [order.id])
  expect(lines.rows.map((l) => [Number(l.variant_id), Number(l.quantity)])).toEqual([[variant.id, 2]])
  expect(await stockOf()).toBe(stockBefore - 2)
  // the shop's own answer agrees with the rows (the change reached the response cache)
  await expect.poll(async () => (await catalog(page.request)).flatMap((p) => p.variants).find((v) => v.id === variant.id)!.available).toBe(variant.available - 2)

  // the confirmation email is written by the job worker, claiming from PostgreSQL
  await expect.poll(() => sentMail(server.storageDir).filter((m) => m.text.includes('sam@example.com')).length, { timeout: 20_000 }).toBeGreaterThan(0)
  await expect
    .poll(async () => (await pool.query<{ status: string }>("SELECT status FROM jobs WHERE kind = 'mail.order_confirmation' AND unique_key = $1", [`mail.order_confirmation:${order.id}`])).rows.map((j) => j.status))
    .toEqual(['done'])

  // the owner finds it in the admin, with the figure PostgreSQL holds
  await signIn(page)
  await page.goto('/admin/orders')
  const row = page.getByTestId('order-row').filter({ hasText: `#${order.id.padStart(5, '0')}` })
  await expect(row).toBeVisible()
  await expect(row).toContainText(new Intl.NumberFormat('en-US', { style: 'currency', currency: 'USD' }).format(Number(order.total_cents) / 100))

  // every page of the shop and of the admin answers on PostgreSQL, none with an error page
  const ids = (await pool.query<{ product_id: string; variant_id: string; slug: string }>(
    `SELECT p.id AS product_id, v.id AS variant_id, (SELECT c.slug FROM collections c ORDER BY c.id LIMIT 1) AS slug FROM variants v JOIN products p ON p.id = v.product_id WHERE v.id = $1`,
    [variant.id],
  )).rows[0]!
  const pages = [
    '/', '/products', `/products/${product.slug}`, '/search?q=jacket', `/collections/${ids.slug}`, '/cart', '/account/sign-in', '/sitemap.xml',
    '/admin', '/admin/orders', `/admin/orders/${order.id}`, `/admin/orders/${order.id}/packing-slip`, '/admin/products', '/admin/products/new',
    '/admin/products/bulk', `/admin/products/${ids.product_id}`, '/admin/collections', '/admin/discounts', '/admin/inventory',
    `/admin/inventory/${ids.variant_id}`, '/admin/events', '/admin/jobs', '/admin/reconciliation', '/admin/audit', '/admin/account',
    '/admin/import', '/admin/staff',
  ]
  for (const url of pages) {
    const res = await page.goto(url)
    expect(res?.status(), url).toBeLessThan(400)
    await expect(page.getByText(/something went wrong|application error/i), url).toHaveCount(0)
  }
})
