import fs from 'node:fs'
import path from 'node:path'
import type { Page } from '@playwright/test'
import sharp from 'sharp'
import { storeRows } from '../support/store-file'
import { expect, test } from './fixtures'
import { fillHostedCheckout, seriousViolations, signIn } from './shop'

// The shop owner's whole day in Chromium against the production build: sign in, create a
// product with two variants and a picture, see it in the shop, adjust stock, sell it, ship
// it, refund part of it, replay a failed webhook, and find every step in the audit log.

test.describe.configure({ mode: 'serial' })

const run = Date.now().toString(36)
const TITLE = `Trail Mug ${run}`
const SKU_S = `MUG-${run}-S`.toUpperCase()
const SKU_L = `MUG-${run}-L`.toUpperCase()

async function picture(color: string): Promise<Buffer> {
  return sharp({ create: { width: 320, height: 320, channels: 3, background: color } }).png().toBuffer()
}

function errorFlash(page: Page) {
  return page.getByTestId('flash-error')
}

test('the owner runs the store: catalog, stock, order, fulfilment, refund, webhook replay, audit', async ({ page, server, browser }) => {
  test.setTimeout(300_000)
  await signIn(page)

  // the home page, as every visitor gets it, comes from the response cache before the edit
  await page.request.get('/')
  const homeBefore = await page.request.get('/')
  expect(homeBefore.headers()['x-till-cache']).toBe('HIT')
  expect(await homeBefore.text()).not.toContain(TITLE)

  // create a product with two variants
  await page.goto('/admin/products/new')
  await page.getByLabel('Title', { exact: true }).fill(TITLE)
  await page.getByLabel('Description', { exact: true }).fill('A stoneware mug for the trail.')
  await page.locator('#v0-sku').fill(SKU_S)
  await page.locator('#v0-price').fill('18.00')
  await page.locator('#v0-stock').fill('5')
  await page.locator('#v0-options').fill('Size=Small')
  await page.locator('#v1-sku').fill(SKU_L)
  await page.locator('#v1-price').fill('22.50')
  await page.locator('#v1-stock').fill('4')
  await page.locator('#v1-options').fill('Size=Large')
  await page.getByRole('button', { name: 'Create product' }).click()
  await expect(page).toHaveURL(/\/admin\/products\/\d+\?notice=/)
  const productId = Number(/\/admin\/products\/(\d+)/.exec(page.url())![1])

  // and a picture
  await page.getByLabel(/Add a picture/).setInputFiles({ name: 'mug.png', mimeType: 'image/png', buffer: await picture('#b45309') })
  await page.getByLabel(/Description of the picture/).fill('A rust-red mug')
  await page.getByRole('button', { name: 'Upload picture' }).click()
  await expect(page.getByTestId('flash-notice')).toContainText('Picture added')
  const adminImg = page.getByTestId('product-images').locator('img').first()
  const src = await adminImg.getAttribute('src')
  expect(src).toMatch(/^\/uploads\/products\/[0-9a-f]{32}\.jpg$/)
  expect(fs.existsSync(path.join(server.storageDir, 'uploads', src!.replace('/uploads/', '')))).toBe(true)
  const picRes = await page.request.get(src!)
  expect(picRes.headers()['content-type']).toBe('image/jpeg')

  // the storefront shows it at once, the cached home page included
  expect(await (await page.request.get('/')).text()).toContain(TITLE)
  const shopHref = await page.getByRole('link', { name: 'View in shop' }).getAttribute('href')
  const shopper = await browser.newContext({ baseURL: server.url })
  const shop = await shopper.newPage()
  await shop.goto(shopHref!)
  await expect(shop.getByRole('heading', { level: 1 })).toHaveText(TITLE)
  await expect(shop.locator(`img[src*="${src!.split('/').pop()!.slice(0, 12)}"]`).first()).toBeAttached()
  const { products } = (await (await shop.request.get('/api/products')).json()) as { products: { title: string; variants: { id: number; sku: string; available: number }[] }[] }
  const listed = products.find((p) => p.title === TITLE)!
  expect(listed.variants.map((v) => v.sku).sort()).toEqual([SKU_L, SKU_S].sort())
  const small = listed.variants.find((v) => v.sku === SKU_S)!

  // adjust stock and find the ledger row
  const row = page.locator(`[data-testid="variant-stock-row"][data-sku="${SKU_S}"]`)
  await row.getByLabel('Change').fill('3')
  await row.getByLabel('Why').fill('received from the potter')
  await row.getByRole('button', { name: 'Apply' }).click()
  await expect(page.getByTestId('flash-notice')).toContainText('Stock is now 8')
  await page.goto(`/admin/inventory/${small.id}`)
  const adjustRow = page.locator('[data-testid="ledger-row"][data-reason="adjust"]').first()
  await expect(adjustRow).toContainText('+3')
  await expect(adjustRow).toContainText('received from the potter')
  await expect(page.locator('[data-testid="ledger-row"][data-reason="initial"]')).toContainText('+5')

  // a shopper buys two
  await shop.goto(`${shopHref}?variant=${small.id}`)
  const qty = shop.getByLabel(/quantity/i).first()
  if (await qty.count()) await qty.fill('2')
  await shop.getByRole('button', { name: /add to (cart|bag)/i }).click()
  await expect(shop.getByText(/^Added \d+ ×/)).toBeVisible()
  await shop.goto('/cart')
  await shop.getByRole('button', { name: /checkout/i }).click()
  await fillHostedCheckout(shop, '4242 4242 4242 4242', { shopper: { email: 'pat@example.com', name: 'Pat Buyer', line1: '9 Quay Road' } })
  await expect(shop).toHaveURL(/\/checkout\/success\?session_id=cs_/)
  await expect(shop.getByTestId('order-status')).toHaveAttribute('data-status', 'paid')

  // the sale is in the ledger
  await page.goto(`/admin/inventory/${small.id}`)
  await expect(page.locator('[data-testid="ledger-row"][data-reason="sale"]').first()).toContainText('-2')

  // the owner finds the paid order
  await page.goto('/admin/orders?q=pat%40example.com')
  await expect(page.getByTestId('order-row')).toHaveCount(1)
  await expect(page.getByTestId('order-row').getByTestId('order-status-badge')).toHaveAttribute('data-status', 'paid')
  await page.getByTestId('order-row').getByRole('link').first().click()
  await expect(page).toHaveURL(/\/admin\/orders\/\d+$/)
  const orderId = Number(/\/admin\/orders\/(\d+)/.exec(page.url())![1])
  await expect(page.getByText(SKU_S)).toBeVisible()
  await expect(page.getByRole('link', { name: /^pi_/ })).toHaveAttribute('href', /dashboard\.stripe\.com\/test\/payments\/pi_/)

  // marks it fulfilled: the shipping email is written and the shopper's page shows tracking
  await page.getByLabel('Carrier').fill('UPS')
  await page.getByLabel('Tracking number').fill('1Z999AA10123456784')
  await page.getByRole('button', { name: /Mark fulfilled/ }).click()
  await expect(page.getByTestId('flash-notice')).toContainText('Marked fulfilled')
  await expect(page.getByTestId('order-status-badge').first()).toHaveAttribute('data-status', 'fulfilled')
  const shippedMail = path.join(server.storageDir, 'mail', `order-${orderId}-shipped.eml`)
  await expect.poll(() => fs.existsSync(shippedMail), { timeout: 20_000 }).toBe(true)
  const eml = fs.readFileSync(shippedMail, 'utf8')
  expect(eml).toContain('pat@example.com')
  expect(eml).toContain('1Z999AA10123456784')
  const customerHref = await page.getByRole('link', { name: /Customer.s order page/ }).getAttribute('href')
  await shop.goto(customerHref!)
  await expect(shop.getByTestId('order-tracking')).toContainText('1Z999AA10123456784')
  await expect(shop.getByTestId('order-status')).toHaveAttribute('data-status', 'fulfilled')

  // refunds part of it, putting one unit back on the shelf; the webhook moves the status
  await page.getByLabel(/^Amount/).fill('10.00')
  await page.getByLabel('Put units back in stock').check()
  await page.getByLabel(/Units of .* to restock/).fill('1')
  await page.getByRole('button', { name: 'Refund through Stripe' }).click()
  await expect(page.getByTestId('flash-notice')).toContainText('Refund of $10.00')
  await expect
    .poll(
      async () => {
        await page.reload()
        return page.getByTestId('order-status-badge').first().getAttribute('data-status')
      },
      { timeout: 20_000, intervals: [500, 1000] },
    )
    .toBe('partially_refunded')
  // charged, refunded and net, each against the order row
  const db = storeRows(server.storageDir)
  const refundedRow = (await db.get<{ total: number; refunded: number }>('SELECT total_cents AS total, refunded_cents AS refunded FROM orders WHERE id = ?', orderId))!
  const usd = (cents: number) => new Intl.NumberFormat('en-US', { style: 'currency', currency: 'USD' }).format(cents / 100)
  expect(refundedRow.refunded).toBe(1000)
  await expect(page.getByTestId('admin-order-total')).toContainText(`Total charged${usd(refundedRow.total)}`)
  await expect(page.getByTestId('admin-order-refunded')).toContainText('Refunded−$10.00')
  await expect(page.getByTestId('admin-order-net')).toContainText(`Net${usd(refundedRow.total - 1000)}`)
  // the shopper's order page says the same, without ambiguity
  await shop.goto(customerHref!)
  await expect(shop.getByTestId('order-total')).toHaveText(usd(refundedRow.total))
  await expect(shop.getByTestId('order-refunded')).toHaveText('−$10.00')
  await expect(shop.getByTestId('order-net')).toHaveText(usd(refundedRow.total - 1000))
  await expect(page.getByText('1 restocked')).toBeVisible()

  // a webhook event that failed is replayed from the admin. Scheduled reconciliation (every
  // five minutes) would apply the failed event itself; keep clear of its slot so the replay
  // button is what applies it.
  const toSlot = 300_000 - (Date.now() % 300_000)
  if (toSlot < 45_000) await page.waitForTimeout(toSlot + 15_000)
  const refundEvent = (await db.get<{ id: string }>(`SELECT id FROM stripe_events WHERE type = 'charge.refunded' ORDER BY received_at DESC LIMIT 1`))!
  await db.run(`UPDATE stripe_events SET processed_at = NULL, error = 'Error: simulated outage' WHERE id = ?`, refundEvent.id)
  await page.goto('/admin/events?filter=failed')
  const eventRow = page.locator(`[data-testid="event-row"][data-event-id="${refundEvent.id}"]`)
  await expect(eventRow.getByTestId('event-error')).toContainText('simulated outage')
  await eventRow.getByRole('button', { name: 'Replay' }).click()
  await expect(page.getByTestId('flash-notice')).toContainText(`Replayed ${refundEvent.id}: applied`)
  const replayed = (await db.get<{ processedAt: number | null; error: string | null }>('SELECT processed_at AS "processedAt", error FROM stripe_events WHERE id = ?', refundEvent.id))!
  expect(replayed.processedAt).not.toBeNull()
  expect(replayed.error).toBeNull()
  const order = (await db.get<{ status: string; refundedCents: number }>('SELECT status, refunded_cents AS "refundedCents" FROM orders WHERE id = ?', orderId))!
  expect(order).toEqual({ status: 'partially_refunded', refundedCents: 1000 })

  await page.goto(`/admin/orders/${orderId}`)
  await expect(page.getByTestId('timeline')).toContainText('Stripe charge.refunded')

  // the restock is in the ledger, tied to the order
  await page.goto(`/admin/inventory/${small.id}`)
  await expect(page.locator('[data-testid="ledger-row"][data-reason="refund_restock"]').first()).toContainText('+1')
  await expect(page.locator('[data-testid="ledger-row"][data-reason="refund_restock"]').first()).toContainText(`order #${String(orderId).padStart(5, '0')}`)

  // a failed job is retried from the admin, and runs
  const mailJob = (await db.get<{ id: number }>(`UPDATE jobs SET status = 'failed', last_error = 'Error: SMTP said no' WHERE kind = 'mail.order_shipped' RETURNING id`))!
  await page.goto('/admin/jobs')
  const jobRow = page.getByTestId('job-row').filter({ hasText: `#${mailJob.id} mail.order_shipped` })
  await expect(jobRow).toContainText('SMTP said no')
  await jobRow.getByRole('button', { name: 'Retry' }).click()
  await expect(page.getByTestId('flash-notice')).toContainText(`Job ${mailJob.id} (mail.order_shipped) is queued`)
  await expect.poll(async () => (await db.get<{ status: string }>('SELECT status FROM jobs WHERE id = ?', mailJob.id))!.status, { timeout: 15_000 }).toBe('done')

  // reconciliation runs on demand
  await page.goto('/admin/reconciliation')
  await page.getByRole('button', { name: 'Reconcile now' }).click()
  await expect(page.getByTestId('flash-notice')).toContainText(/Reconciled: \d+ events and \d+ sessions checked, 0 orders repaired, 0 failures/)
  await expect(page.getByTestId('reconcile-row').first()).toBeVisible()

  // the audit log shows each step
  await page.goto('/admin/audit')
  for (const action of ['admin.sign_in', 'product.create', 'image.add', 'stock.adjust', 'order.fulfil', 'order.refund', 'webhook.replay', 'job.retry', 'reconcile.run']) {
    await expect(page.locator(`[data-testid="audit-row"][data-action="${action}"]`).first(), action).toBeVisible()
  }
  await shopper.close()
  await db.close()

  // the sign-in page passes axe too
  await page.context().clearCookies()
  fs.mkdirSync(path.join('test-results', 'screenshots'), { recursive: true })
  for (const width of [390, 1280]) {
    await page.setViewportSize({ width, height: 900 })
    await page.goto('/admin/sign-in')
    expect(await seriousViolations(page), `/admin/sign-in at ${width}px`).toEqual([])
    await page.screenshot({ path: path.join('test-results', 'screenshots', `admin-sign-in-${width}.png`) })
  }
  await signIn(page)

  // the pages that matter most pass axe at phone and desktop widths; screenshots are kept
  const shots = path.join('test-results', 'screenshots')
  fs.mkdirSync(shots, { recursive: true })
  const pages: [string, string][] = [
    ['dashboard', '/admin'],
    ['orders', '/admin/orders'],
    ['order', `/admin/orders/${orderId}`],
    ['product-form', `/admin/products/${productId}`],
    ['new-product', '/admin/products/new'],
  ]
  for (const width of [390, 1280]) {
    await page.setViewportSize({ width, height: 900 })
    for (const [name, url] of pages) {
      await page.goto(url)
      expect(await seriousViolations(page), `${url} at ${width}px`).toEqual([])
      // nothing but the tables' own scroll boxes may be wider than the screen
      expect(await page.evaluate(() => document.documentElement.scrollWidth), `${url} at ${width}px`).toBeLessThanOrEqual(width)
      await page.screenshot({ path: path.join(shots, `admin-${name}-${width}.png`), fullPage: true })
    }
  }

  // signing out ends the session: the admin is closed again
  await page.getByRole('button', { name: 'Sign out' }).click()
  await expect(page).toHaveURL(/\/admin\/sign-in\?notice=/)
  await page.goto('/admin/orders')
  await expect(page).toHaveURL(/\/admin\/sign-in/)
})

test('bad catalog input gets a clear message on the form and writes nothing', async ({ page, server }) => {
  await signIn(page)
  const db = storeRows(server.storageDir)
  const counts = async () => ({
    products: (await db.get<{ n: number }>('SELECT count(*) AS n FROM products'))!.n,
    variants: (await db.get<{ n: number }>('SELECT count(*) AS n FROM variants'))!.n,
    images: (await db.get<{ n: number }>('SELECT count(*) AS n FROM product_images'))!.n,
    files: fs.existsSync(path.join(server.storageDir, 'uploads', 'products')) ? fs.readdirSync(path.join(server.storageDir, 'uploads', 'products')).length : 0,
  })
  const existingSku = (await db.get<{ sku: string }>('SELECT sku FROM variants ORDER BY id LIMIT 1'))!.sku
  const before = await counts()

  async function tryCreate(fields: { title?: string; sku?: string; price?: string }, message: RegExp) {
    await page.goto('/admin/products/new')
    await page.getByLabel('Title', { exact: true }).fill(fields.title ?? `Bad input ${run}`)
    await page.locator('#v0-sku').fill(fields.sku ?? `BAD-${run}`)
    await page.locator('#v0-price').fill(fields.price ?? '10.00')
    // the browser's own maxlength would stop a person; the server must stop a script too
    await page.getByLabel('Title', { exact: true }).evaluate((el) => el.removeAttribute('maxlength'))
    if (fields.title) await page.getByLabel('Title', { exact: true }).fill(fields.title)
    await page.getByRole('button', { name: 'Create product' }).click()
    await expect(errorFlash(page)).toContainText(message)
    expect(await counts()).toEqual(before)
  }

  await tryCreate({ sku: existingSku }, /SKU .* is already used/)
  await tryCreate({ price: '-5.00' }, /price must be digits with at most 2 decimals after a point, like 12\.50/)
  await tryCreate({ price: '12.345' }, /price must be digits with at most 2 decimals after a point/)
  // one meaning for a typed amount: a comma is refused, never read as 1250
  await tryCreate({ price: '12,50' }, /price has a comma: write amounts with a decimal point/)
  await tryCreate({ price: '0' }, /price must be more than zero: at least \$0\.01/)
  await tryCreate({ price: '1000000000' }, /price can be at most \$999,999\.99/)
  await tryCreate({ title: 'x'.repeat(10 * 1024) }, /title is too long/)

  // the same SKU twice in one form
  await page.goto('/admin/products/new')
  await page.getByLabel('Title', { exact: true }).fill(`Twin SKUs ${run}`)
  for (const i of [0, 1]) {
    await page.locator(`#v${i}-sku`).fill(`TWIN-${run}`)
    await page.locator(`#v${i}-price`).fill('10.00')
  }
  await page.getByRole('button', { name: 'Create product' }).click()
  await expect(errorFlash(page)).toContainText(/used twice/)
  expect(await counts()).toEqual(before)

  // uploads: not a picture, far too large, a hostile name
  const productId = (await db.get<{ id: number }>(`SELECT id FROM products WHERE status = 'active' ORDER BY id LIMIT 1`))!.id
  await page.goto(`/admin/products/${productId}`)
  await page.getByLabel(/Add a picture/).setInputFiles({ name: 'notes.png', mimeType: 'image/png', buffer: Buffer.from('#!/bin/sh\necho this is not a picture\n') })
  await page.getByRole('button', { name: 'Upload picture' }).click()
  await expect(errorFlash(page)).toContainText(/not a picture/)
  expect(await counts()).toEqual(before)

  const huge = path.join(test.info().outputDir, 'huge.png')
  fs.mkdirSync(path.dirname(huge), { recursive: true })
  fs.writeFileSync(huge, Buffer.concat([await picture('#0f766e'), Buffer.alloc(50 * 1024 * 1024)]))
  await page.getByLabel(/Add a picture/).setInputFiles(huge)
  await page.getByRole('button', { name: 'Upload picture' }).click()
  await expect(errorFlash(page)).toContainText(/too large/)
  expect(await counts()).toEqual(before)

  const res = await page.request.post(`/admin/products/${productId}/images`, {
    headers: { origin: server.url },
    multipart: { image: { name: '../../evil.png', mimeType: 'image/png', buffer: await picture('#1d4ed8') }, alt: '' },
    maxRedirects: 0,
  })
  expect(res.status()).toBe(303)
  expect(new URL(res.headers()['location']!, server.url).searchParams.get('error')).toMatch(/file name .* is not allowed/)
  expect(await counts()).toEqual(before)
  await db.close()
})
