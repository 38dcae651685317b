import fs from 'node:fs'
import path from 'node:path'
import type { Page } from '@playwright/test'
import Stripe from 'stripe'
import { startServer, type ServerHandle } from '../support/server'
import { storeRows } from '../support/store-file'
import { expect, test } from './fixtures'
import { addToCartAndCheckout, applyPromotionCode, catalog, fillHostedCheckout, money, pick, sentMail, seriousViolations, signIn, type Shopper } from './shop'

// Discount codes and Stripe Tax in Chromium against the production build: the owner makes a
// code in the admin, shoppers enter codes on the emulator's payment page, and every surface
// (success page, order page, email, admin) shows the discount, tax and total that the Stripe
// session says, read here with the SDK.

test.describe.configure({ mode: 'serial' })

const run = Date.now().toString(36).toUpperCase()

/** The test's own SDK client for the server's built-in emulator. */
function stripeOf(server: ServerHandle): Stripe {
  const { secretKey } = JSON.parse(fs.readFileSync(path.join(server.storageDir, 'emulator-keys.json'), 'utf8')) as { secretKey: string }
  return new Stripe(secretKey, { host: '127.0.0.1', port: server.port, protocol: 'http', telemetry: false, maxNetworkRetries: 0 })
}

/** The session the success page is about, as Stripe has it. */
async function paidSession(page: Page, stripe: Stripe): Promise<Stripe.Checkout.Session> {
  await expect(page).toHaveURL(/\/checkout\/success\?session_id=cs_/)
  await expect(page.getByTestId('order-status')).toHaveAttribute('data-status', 'paid')
  return stripe.checkout.sessions.retrieve(new URL(page.url()).searchParams.get('session_id')!)
}

async function orderOf(server: ServerHandle, sessionId: string) {
  const db = storeRows(server.storageDir)
  try {
    return (await db.get<{ id: number; totalCents: number; discountCents: number; codes: string; taxCents: number }>('SELECT id, total_cents AS "totalCents", discount_cents AS "discountCents", CAST(discount_codes AS TEXT) AS codes, tax_cents AS "taxCents" FROM orders WHERE stripe_checkout_session_id = ?', sessionId))!
  } finally {
    await db.close()
  }
}

/** The confirmation email of an order, once the job worker has written it. */
async function confirmation(server: ServerHandle, orderId: number): Promise<string> {
  const file = `order-${orderId}-confirmation.eml`
  await expect.poll(() => sentMail(server.storageDir).some((m) => m.file === file), { timeout: 15_000 }).toBe(true)
  return sentMail(server.storageDir).find((m) => m.file === file)!.text
}

/** What the shopper's order pages show, row by row. */
async function expectOrderSummary(page: Page, rows: { discount?: string; tax?: string | null; total: string }) {
  if (rows.discount) await expect(page.getByTestId('order-discount')).toContainText(rows.discount)
  if (rows.tax) await expect(page.getByTestId('order-tax')).toContainText(rows.tax)
  if (rows.tax === null) await expect(page.getByTestId('order-tax')).toHaveCount(0)
  await expect(page.getByTestId('order-total')).toHaveText(rows.total)
}

const ALEX: Shopper = { email: 'alex@example.com', name: 'Alex Shopper', line1: '2 Harbour Street' }

test('the owner creates a 20%-off code; a shopper uses it; order, success page, email and admin show Stripe\'s discount and total', async ({ page, server, browser }) => {
  test.setTimeout(180_000)
  const stripe = stripeOf(server)
  const code = `SPRING-${run}`

  // The owner creates the code in the admin, limited to one use.
  await signIn(page)
  await page.getByRole('navigation', { name: 'Admin' }).getByRole('link', { name: 'Discounts' }).click()
  await expect(page).toHaveURL(/\/admin\/discounts$/)
  const form = page.getByTestId('promotion-form')
  // bad input is refused with a message, and what was typed stays in the form
  await form.getByLabel(/Code shoppers type/).fill(code)
  await form.getByLabel('Percentage or amount off').fill('120')
  await form.getByRole('button', { name: 'Create promotion code' }).click()
  await expect(page.getByTestId('flash-error')).toContainText('percentage from 0.01 to 100')
  await expect(form.getByLabel(/Code shoppers type/)).toHaveValue(code)
  await form.getByLabel('Percentage or amount off').fill('20')
  await form.getByLabel(/Redemption limit/).fill('1')
  await form.getByRole('button', { name: 'Create promotion code' }).click()
  await expect(page.getByTestId('flash-notice')).toContainText(`Promotion code ${code} created`)
  // the same code again (as typed by someone who forgot): Stripe's refusal told as what it
  // is, and no coupon made for it is left behind
  const couponsBefore = (await stripe.coupons.list({ limit: 100 })).data.length
  await page.goto('/admin/discounts')
  await form.getByLabel(/Code shoppers type/).fill(code.toLowerCase())
  await form.getByLabel('Percentage or amount off').fill('10')
  await form.getByRole('button', { name: 'Create promotion code' }).click()
  await expect(page.getByTestId('flash-error')).toContainText(`A code ${code} already exists at Stripe`)
  expect((await stripe.coupons.list({ limit: 100 })).data).toHaveLength(couponsBefore)
  const row = page.locator(`[data-testid="promotion-code-row"][data-code="${code}"]`)
  await expect(row).toContainText('20% off')
  await expect(row).toContainText('at most 1 use')
  await expect(row.getByTestId('code-status')).toHaveText('active')

  // A shopper enters it (in lower case) on the payment page.
  // The shopper has a browser of their own; the owner's tab stays signed in.
  const shop = await (await browser.newContext({ baseURL: server.url })).newPage()
  const products = await catalog(shop.request)
  const { product, variant } = pick(products, 3, { n: 0 })
  await addToCartAndCheckout(shop, product.slug, variant.id, 2)
  await fillHostedCheckout(shop, '4242 4242 4242 4242', { promotionCode: code.toLowerCase(), shopper: ALEX })
  const session = await paidSession(shop, stripe)
  const discount = session.total_details!.amount_discount
  expect(discount).toBe(Math.round(variant.priceCents * 2 * 0.2))
  const shown = { discount: `−${money(discount)}`, total: money(session.amount_total!), tax: null }

  // the order is Stripe's session, to the cent
  const order = await orderOf(server, session.id)
  expect(order).toMatchObject({ totalCents: session.amount_total, discountCents: discount, taxCents: 0 })
  expect(JSON.parse(order.codes)).toEqual([code])

  // the success page and the private order page
  await expect(shop.getByTestId('order-discount')).toContainText(`Discount (${code})`)
  await expectOrderSummary(shop, shown)
  await shop.screenshot({ path: path.join('test-results', 'screenshots', 'success-discounted-1280.png'), fullPage: true })
  await shop.goto((await shop.getByTestId('order-link').getAttribute('href'))!)
  await expect(shop.getByTestId('order-discount')).toContainText(`Discount (${code})`)
  await expectOrderSummary(shop, shown)
  // no tax is charged with STRIPE_TAX off, and the cart never says prices exclude it
  await shop.goto('/cart')
  await expect(shop.getByText(/tax/i)).toHaveCount(0)

  // the email
  const mail = await confirmation(server, order.id)
  expect(mail).toContain(`Discount (${code}): ${shown.discount}`)
  expect(mail).toContain(`Total: ${shown.total}`)
  expect(mail).not.toMatch(/^Tax/m)

  // the admin: the order, the list and the code's use counts
  await page.goto(`/admin/orders/${order.id}`)
  await expect(page.getByTestId('admin-order-discount')).toContainText(`Discount (${code})`)
  await expect(page.getByTestId('admin-order-discount')).toContainText(shown.discount)
  await expect(page.getByTestId('admin-order-total')).toContainText(shown.total)
  await expect(page.getByTestId('admin-order-tax')).toHaveCount(0)
  await page.goto('/admin/discounts')
  await expect(row.getByTestId('times-redeemed')).toHaveText('1')
  await expect(row.getByTestId('paid-orders')).toHaveText('1')
  const csv = await (await page.request.get(`/admin/orders/export?q=${encodeURIComponent(ALEX.email)}`)).text()
  expect(csv.split('\n')[0]).toContain('"discount_cents","discount_codes","tax_cents"')
  expect(csv).toContain(`,"${session.amount_total}","${discount}","${code}","0",`)

  // The code has reached its limit: the next shopper is told so, and pays full price.
  const { product: other, variant: otherVariant } = pick(products, 2, { n: 1 })
  await addToCartAndCheckout(shop, other.slug, otherVariant.id, 1)
  await applyPromotionCode(shop, code)
  await expect(shop.getByRole('alert').filter({ hasText: 'code' })).toHaveText('This code has reached its usage limit.')
  await expect(shop.locator('#promotion-applied')).toHaveCount(0)

  // The owner deactivates it; the audit log has both actions.
  await row.getByRole('button', { name: `Deactivate ${code}` }).click()
  await expect(page.getByTestId('flash-notice')).toContainText(`${code} deactivated`)
  await expect(row.getByTestId('code-status')).toHaveText('inactive')
  await page.goto('/admin/audit')
  await expect(page.getByText('discount.create').first()).toBeVisible()
  await expect(page.getByText('discount.deactivate').first()).toBeVisible()

  // The Discounts page and the order with its discount pass axe at phone and desktop widths.
  for (const width of [390, 1280]) {
    await page.setViewportSize({ width, height: 900 })
    for (const [name, url] of [['discounts', '/admin/discounts'], ['discounted-order', `/admin/orders/${order.id}`]] as const) {
      await page.goto(url)
      expect(await seriousViolations(page), `${url} at ${width}px`).toEqual([])
      expect(await page.evaluate(() => document.documentElement.scrollWidth), `${url} at ${width}px`).toBeLessThanOrEqual(width)
      await page.screenshot({ path: path.join('test-results', 'screenshots', `admin-${name}-${width}.png`), fullPage: true })
    }
  }
  await shop.context().close()
})

test('an expired code is refused on the payment page with a clear message', async ({ page, server }) => {
  const stripe = stripeOf(server)
  const code = `LATE-${run}`
  const coupon = await stripe.coupons.create({ percent_off: 10, duration: 'once' })
  // Stripe takes only a future expiry: the code works for two seconds, and the shopper comes later.
  const expiresAt = Math.floor(Date.now() / 1000) + 2
  await stripe.promotionCodes.create({ promotion: { type: 'coupon', coupon: coupon.id }, code, expires_at: expiresAt })
  await page.waitForTimeout(Math.max(0, expiresAt * 1000 + 1000 - Date.now()))
  const { product, variant } = pick(await catalog(page.request), 2, { n: 2 })
  await addToCartAndCheckout(page, product.slug, variant.id, 1)
  await applyPromotionCode(page, code)
  await expect(page.getByRole('alert').filter({ hasText: 'code' })).toHaveText('This code has expired.')
  await expect(page.locator('#promotion-applied')).toHaveCount(0)
})

test('with STRIPE_TAX=on, an order to a taxed country shows the session\'s tax on every surface', async ({ browser }) => {
  test.setTimeout(180_000)
  const taxed = await startServer({ env: { STRIPE_TAX: 'on', STRIPE_TAX_BEHAVIOR: 'exclusive' } })
  const context = await browser.newContext({ baseURL: taxed.url })
  try {
    const page = await context.newPage()
    const stripe = stripeOf(taxed)
    const { product, variant } = pick(await catalog(page.request), 2)
    await page.goto(`/products/${product.slug}?variant=${variant.id}`)
    await page.getByRole('button', { name: /add to (cart|bag)/i }).click()
    await expect(page.getByText(/^Added \d+ ×/)).toBeVisible()
    await page.goto('/cart')
    await expect(page.getByTestId('cart-note').filter({ hasText: 'Tax calculated at checkout.' })).toBeVisible()
    // nothing on the page still says the prices are all there is
    await expect(page.getByRole('contentinfo')).toContainText('Tax is calculated at checkout, with shipping.')
    await expect(page.getByText(/Prices include/)).toHaveCount(0)
    await page.getByRole('button', { name: /checkout/i }).click()
    await fillHostedCheckout(page, '4242 4242 4242 4242', { shopper: { email: 'robin@example.co.uk', name: 'Robin Shopper', line1: '10 Downing Street', city: 'London', postalCode: 'SW1A 2AA', country: 'GB' } })
    const session = await paidSession(page, stripe)
    const tax = session.total_details!.amount_tax
    expect(tax).toBeGreaterThan(0)
    expect(session.automatic_tax.enabled).toBe(true)
    const shown = { tax: money(tax), total: money(session.amount_total!) }

    const order = await orderOf(taxed, session.id)
    expect(order).toMatchObject({ totalCents: session.amount_total, taxCents: tax, discountCents: 0 })
    await expectOrderSummary(page, shown)
    await page.goto((await page.getByTestId('order-link').getAttribute('href'))!)
    await expectOrderSummary(page, shown)

    const mail = await confirmation(taxed, order.id)
    expect(mail).toContain(`Tax: ${shown.tax}`)
    expect(mail).toContain(`Total: ${shown.total}`)

    await signIn(page)
    await page.goto(`/admin/orders/${order.id}`)
    await expect(page.getByTestId('admin-order-tax')).toContainText(shown.tax)
    await expect(page.getByTestId('admin-order-total')).toContainText(shown.total)
    const csv = await (await page.request.get('/admin/orders/export')).text()
    expect(csv).toContain(`,"${session.amount_total}","0","","${tax}",`)
  } finally {
    await context.close()
    await taxed.stop()
  }
})
