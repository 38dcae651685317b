import fs from 'node:fs'
import path from 'node:path'
import type { Page } from '@playwright/test'
import { storeRows } from '../support/store-file'
import { expect, test } from './fixtures'
import { addToCartAndCheckout, fillHostedCheckout } from './shop'

// The whole purchase in Chromium against the production build, paying on the built-in
// emulator's hosted checkout page, as a shopper would.

type ApiProduct = { slug: string; title: string; variants: { id: number; sku: string; available: number; priceCents: number }[] }

async function pickProduct(page: Page, minAvailable: number, offset: number): Promise<{ product: ApiProduct; variant: ApiProduct['variants'][number] }> {
  const res = await page.request.get('/api/products')
  const { products } = (await res.json()) as { products: ApiProduct[] }
  const candidates = products.filter((p) => p.variants.length === 1 && p.variants[0]!.available >= minAvailable)
  const product = candidates[offset % candidates.length]!
  return { product, variant: product.variants[0]! }
}

async function availableOf(page: Page, variantId: number): Promise<number> {
  const { products } = (await (await page.request.get('/api/products')).json()) as { products: ApiProduct[] }
  return products.flatMap((p) => p.variants).find((v) => v.id === variantId)!.available
}

test('browse, add, check out, pay: the success page shows the order, the email is written, stock went down', async ({ page, server }) => {
  const { product, variant } = await pickProduct(page, 3, 0)
  const before = await availableOf(page, variant.id)
  await addToCartAndCheckout(page, product.slug, variant.id, 2)
  await fillHostedCheckout(page, '4242 4242 4242 4242')

  await expect(page).toHaveURL(/\/checkout\/success\?session_id=cs_/)
  const sessionId = new URL(page.url()).searchParams.get('session_id')
  await expect(page.getByRole('heading', { level: 1 })).toContainText('Thank you')
  await expect(page.getByTestId('order-status')).toHaveAttribute('data-status', 'paid')
  await expect(page.getByText(product.title).first()).toBeVisible()

  // the private order link works
  const href = await page.getByTestId('order-link').getAttribute('href')
  expect(href).toMatch(/^\/orders\/[A-Za-z0-9_-]{20,}$/)
  await page.goto(href!)
  await expect(page.getByTestId('order-status')).toHaveAttribute('data-status', 'paid')

  // the confirmation email is written by the job worker
  const mailDir = path.join(server.storageDir, 'mail')
  await expect.poll(() => (fs.existsSync(mailDir) ? fs.readdirSync(mailDir).filter((f) => f.endsWith('.eml')) : []).length, { timeout: 15_000 }).toBeGreaterThan(0)
  const eml = fs.readdirSync(mailDir).filter((f) => f.endsWith('.eml')).map((f) => fs.readFileSync(path.join(mailDir, f), 'utf8')).join('\n')
  expect(eml).toContain('sam@example.com')
  expect(eml).toContain('/orders/')

  expect(await availableOf(page, variant.id)).toBe(before - 2)
  const db = storeRows(server.storageDir)
  const { stock } = (await db.get<{ stock: number }>('SELECT stock FROM variants WHERE id = ?', variant.id))!
  // other tests share this server's store: only this checkout's session counts
  const orders = await db.all<{ status: string; totalCents: number }>('SELECT status, total_cents AS "totalCents" FROM orders WHERE stripe_checkout_session_id = ?', sessionId)
  await db.close()
  expect(stock).toBe(before - 2)
  expect(orders.map((o) => o.status)).toEqual(['paid'])
})

test('a declined card leaves no order, and canceling gives the held units back', async ({ page, server }) => {
  const { product, variant } = await pickProduct(page, 2, 1)
  const before = await availableOf(page, variant.id)
  const db = storeRows(server.storageDir)
  const ordersBefore = (await db.get<{ n: number }>('SELECT count(*) AS n FROM orders'))!.n

  await addToCartAndCheckout(page, product.slug, variant.id, 1)
  // the checkout's holds are committed before it sends the shopper to the payment page; asked
  // before that page opens, the count may not show them yet (on PostgreSQL it often does not)
  await expect(page).toHaveURL(/\/emulator\/checkout\/cs_/)
  expect(await availableOf(page, variant.id)).toBe(before - 1)
  await fillHostedCheckout(page, '4000 0000 0000 0002')
  await expect(page.getByRole('alert')).toContainText(/declined/i)

  await page.getByRole('link', { name: /cancel/i }).click()
  // Stripe's cancel_url only shows a page; the units go back when the shopper confirms.
  await expect(page).toHaveURL(/\/checkout\/cancel/)
  expect(await availableOf(page, variant.id)).toBe(before - 1)
  await page.getByTestId('cancel-checkout').click()
  await expect(page).toHaveURL(/\/cart/)
  await expect(page.getByText(/checkout canceled/i)).toBeVisible()
  expect(await availableOf(page, variant.id)).toBe(before)
  expect((await db.get<{ n: number }>('SELECT count(*) AS n FROM orders'))!.n).toBe(ordersBefore)
  await db.close()
})

test('a pay-later payment shows the order awaiting payment, then paid once it settles', async ({ page }) => {
  const { product, variant } = await pickProduct(page, 2, 2)
  const before = await availableOf(page, variant.id)
  await addToCartAndCheckout(page, product.slug, variant.id, 1)
  await fillHostedCheckout(page, '4242 4242 4242 4242', { payLater: true })
  await expect(page).toHaveURL(/\/checkout\/success\?session_id=cs_/)
  await expect(page.getByTestId('order-status')).toHaveAttribute('data-status', 'awaiting_payment')
  // the unit stays reserved while the payment is pending
  expect(await availableOf(page, variant.id)).toBe(before - 1)
  const href = await page.getByTestId('order-link').getAttribute('href')
  // the emulator settles it a few seconds later and delivers async_payment_succeeded
  await expect
    .poll(
      async () => {
        await page.goto(href!)
        return page.getByTestId('order-status').getAttribute('data-status')
      },
      { timeout: 20_000, intervals: [1000] },
    )
    .toBe('paid')
  expect(await availableOf(page, variant.id)).toBe(before - 1)
})
