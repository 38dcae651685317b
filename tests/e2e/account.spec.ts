import fs from 'node:fs'
import path from 'node:path'
import { test as base, expect, type Page } from '@playwright/test'
import { startServer, type ServerHandle } from '../support/server'
import { storeRows } from '../support/store-file'
import { addToCartAndCheckout, catalog, fillHostedCheckout, money, pick, SAM, seriousViolations, signIn } from './shop'

// Returning customers in Chromium against the production build: sign in through the emailed
// link (read from STORAGE_DIR/mail), see a guest order, buy it again; ask to be told when a
// sold-out option is back and get the email when the owner adds stock in the admin; leave a
// checkout and get the reminder. Reminders go out at once here (CHECKOUT_REMINDER_DELAY_MINUTES=0).

const test = base.extend<object, { server: ServerHandle }>({
  server: [
    async ({}, use) => {
      const server = await startServer({ env: { CHECKOUT_REMINDER_DELAY_MINUTES: '0' } })
      await use(server)
      await server.stop()
    },
    { scope: 'worker', timeout: 120_000 },
  ],
  baseURL: async ({ server }, use) => {
    await use(server.url)
  },
})

// Each test walks a whole story with axe at two widths on the way: more than the default 90 s
// on a busy machine.
test.describe.configure({ timeout: 240_000 })

/** The newest email whose file name starts with `prefix` and is addressed to `to`, decoded. */
async function mailTo(server: ServerHandle, prefix: string, to: string): Promise<string> {
  const dir = path.join(server.storageDir, 'mail')
  let found = ''
  await expect
    .poll(
      () => {
        const files = fs.existsSync(dir) ? fs.readdirSync(dir).filter((f) => f.startsWith(prefix) && f.endsWith('.eml')) : []
        const texts = files.map((f) => fs.readFileSync(path.join(dir, f), 'utf8').replace(/=\r?\n/g, '').replace(/=3D/g, '='))
        found = texts.find((t) => t.includes(`To: ${to}`)) ?? ''
        return found !== ''
      },
      { timeout: 20_000 },
    )
    .toBe(true)
  return found
}

async function axeAtBothWidths(page: Page, url: string) {
  for (const width of [390, 1280]) {
    await page.setViewportSize({ width, height: 900 })
    await page.goto(url)
    expect(await seriousViolations(page), `${url} at ${width}px`).toEqual([])
  }
}

test('sign in through the emailed link, see the guest order, buy it again, download the data', async ({ page, server }) => {
  const email = 'returning.shopper@example.com'
  const { product, variant } = pick(await catalog(page.request), 3)
  await addToCartAndCheckout(page, product.slug, variant.id, 1)
  await fillHostedCheckout(page, '4242 4242 4242 4242', { shopper: { ...SAM, email } })
  await expect(page).toHaveURL(/\/checkout\/success/)

  await page.goto('/account')
  await expect(page).toHaveURL(/\/account\/sign-in$/)
  await axeAtBothWidths(page, '/account/sign-in')
  await page.getByLabel('Email').fill(email.toUpperCase())
  await page.getByRole('button', { name: 'Email me a sign-in link' }).click()
  await expect(page.getByTestId('sign-in-sent')).toBeVisible()
  const link = /(http:\/\/\S+\/account\/sign-in\/confirm\?token=[A-Za-z0-9_-]{43})/.exec(await mailTo(server, 'sign-in-', email))![1]!
  await page.goto(link)
  await page.getByTestId('confirm-sign-in').click()
  await expect(page).toHaveURL(/\/account$/)
  await expect(page.getByTestId('account-email')).toHaveText(email)
  const cookie = (await page.context().cookies()).find((c) => c.name === 'till_account')!
  expect(cookie).toMatchObject({ httpOnly: true, sameSite: 'Lax', path: '/' })

  // The guest order, placed before the account existed.
  const order = page.getByTestId('account-order')
  await expect(order).toHaveCount(1)
  await expect(order).toContainText(product.title)
  await expect(order.getByTestId('account-order-status')).toHaveAttribute('data-status', 'paid')
  await axeAtBothWidths(page, '/account')
  await axeAtBothWidths(page, '/privacy')

  // The link is used up.
  await page.goto(link)
  await expect(page.getByText('That sign-in link has expired or was already used.')).toBeVisible()

  await page.goto('/account')
  await page.getByTestId('buy-again').click()
  await expect(page).toHaveURL(/\/cart\?notice=/)
  await expect(page.getByTestId('cart-line').filter({ hasText: product.title })).toBeVisible()

  const data = await page.request.get('/account/data')
  expect(data.headers()['cache-control']).toContain('no-store')
  expect(((await data.json()) as { orders: unknown[] }).orders).toHaveLength(1)

  // The footer links the privacy page; signing out everywhere ends this session.
  await expect(page.getByRole('contentinfo').getByRole('link', { name: 'Privacy' })).toHaveAttribute('href', '/privacy')
  await page.goto('/account')
  await page.getByTestId('sign-out-everywhere').click()
  await expect(page).toHaveURL(/\/account\/sign-in/)
  await page.goto('/account')
  await expect(page).toHaveURL(/\/account\/sign-in$/)
})

test('a sold-out option offers "Email me when it’s back", and stock added in the admin sends the alert once', async ({ page, browser, server }) => {
  const email = 'waiting.shopper@example.com'
  const { product, variant } = pick(await catalog(page.request), 2, { n: 3 })
  const db = storeRows(server.storageDir)
  const stockOf = async () => (await db.get<{ stock: number }>('SELECT stock FROM variants WHERE id = ?', variant.id))!.stock
  const waitingInDb = async () => (await db.get<{ n: number }>('SELECT count(*) AS n FROM stock_alerts WHERE variant_id = ? AND notified_at IS NULL AND unsubscribed_at IS NULL', variant.id))!.n

  const owner = await (await browser.newContext({ baseURL: server.url })).newPage()
  await signIn(owner)
  const adjust = async (delta: number) => {
    await owner.goto(`/admin/inventory?q=${encodeURIComponent(variant.sku)}`)
    const row = owner.locator(`[data-testid="inventory-row"][data-sku="${variant.sku}"]`)
    await row.getByLabel('Change').fill(String(delta))
    await row.getByLabel('Why').fill('counted')
    await row.getByRole('button', { name: 'Apply' }).click()
    await expect(owner.getByTestId('flash-notice')).toContainText('Stock is now')
  }
  await adjust(-(await stockOf()))

  await page.goto(`/products/${product.slug}?variant=${variant.id}`)
  await expect(page.getByTestId('availability')).toContainText('Sold out')
  await page.getByLabel('Email me when it’s back').fill(email)
  await page.getByRole('button', { name: 'Notify me' }).click()
  await expect(page.getByTestId('stock-alert-form').getByTestId('flash-notice')).toContainText('we will email you once')
  expect(await seriousViolations(page)).toEqual([])

  // The owner sees who is waiting, as the database has it.
  await owner.goto(`/admin/inventory?q=${encodeURIComponent(variant.sku)}`)
  const waiting = owner.locator(`[data-testid="inventory-row"][data-sku="${variant.sku}"]`).getByTestId('stock-alerts-waiting')
  expect(await waitingInDb()).toBe(1)
  await expect(waiting).toHaveText(String(await waitingInDb()))

  await adjust(2)
  const alert = await mailTo(server, 'stock-alert-', email)
  expect(alert).toContain(product.title)
  // A burst of changes sends nothing more.
  await adjust(-1)
  await adjust(1)
  await owner.goto(`/admin/inventory?q=${encodeURIComponent(variant.sku)}`)
  await expect(waiting).toHaveText('0')
  expect(await waitingInDb()).toBe(0)
  const dir = path.join(server.storageDir, 'mail')
  expect(fs.readdirSync(dir).filter((f) => f.startsWith('stock-alert-'))).toHaveLength(1)

  // Unsubscribing needs no sign-in.
  const unsubscribe = /(http:\/\/\S+\/unsubscribe\/[A-Za-z0-9_-]{43})/.exec(alert)![1]!
  await axeAtBothWidths(page, unsubscribe)
  await page.getByTestId('confirm-unsubscribe').click()
  await expect(page.getByTestId('unsubscribed')).toContainText(email)
  await db.close()
})

test('a checkout left with consent given brings one reminder, whose link reopens it; the dashboard counts it', async ({ page, browser, server }) => {
  const email = 'left.it@example.com'
  const { product, variant } = pick(await catalog(page.request), 2, { n: 6 })
  await addToCartAndCheckout(page, product.slug, variant.id, 1)
  await expect(page).toHaveURL(/\/emulator\/checkout\/cs_/)
  await page.getByLabel('Email').fill(email)
  const saved = page.waitForResponse((r) => r.url().endsWith('/details') && r.status() === 204)
  await page.getByLabel(/Keep me updated/).check()
  await saved
  // The shopper leaves; back on the shop they let the checkout go.
  await page.getByRole('link', { name: /cancel/i }).click()
  await page.getByTestId('cancel-checkout').click()
  await expect(page).toHaveURL(/\/cart/)

  const reminder = await mailTo(server, 'checkout-reminder-', email)
  expect(reminder).toContain(product.title)
  const recovery = /(http:\/\/\S+\/emulator\/recover\/cs_test_[A-Za-z0-9]+)/.exec(reminder)![1]!
  await page.goto(recovery)
  await fillHostedCheckout(page, '4242 4242 4242 4242', { shopper: { ...SAM, email } })
  await expect(page).toHaveURL(/\/checkout\/success/)

  const db = storeRows(server.storageDir)
  const row = async () =>
    (await db.get<{ sent: number; cents: number | null }>(`SELECT (SELECT count(*) FROM checkout_reminders WHERE sent_at IS NOT NULL) AS sent,
    (SELECT sum(o.total_cents - o.refunded_cents) FROM checkout_reminders r JOIN orders o ON o.cart_id = r.cart_id AND o.status IN ('paid', 'fulfilled', 'partially_refunded') WHERE r.sent_at IS NOT NULL) AS cents`))!
  await expect.poll(async () => (await row()).cents ?? 0, { timeout: 15_000 }).toBeGreaterThan(0)
  const owner = await (await browser.newContext({ baseURL: server.url })).newPage()
  await signIn(owner)
  const figures = await row()
  await expect(owner.getByTestId('reminders-sent')).toHaveText(String(figures.sent))
  await expect(owner.getByTestId('revenue-recovered')).toHaveText(money(figures.cents!))
  expect(figures.sent).toBe(1)
  await db.close()
})
