import fs from 'node:fs'
import { TEST_ADMIN } from '../support/server'
import { adminPages, layoutProblems, paidOrderId } from './admin-pages'
import { expect, test } from './fixtures'
import { catalog, pick, signIn } from './shop'

// Screenshots a person looks at after each run, at phone and desk widths.

test('screenshots of home, product and cart at 390 and 1280 px', async ({ browser, baseURL, request }) => {
  const { product, variant } = pick(await catalog(request), 2, { n: 4 })
  fs.mkdirSync('test-results/screenshots', { recursive: true })
  for (const width of [390, 1280]) {
    const context = await browser.newContext({ baseURL, viewport: { width, height: width < 500 ? 844 : 900 }, deviceScaleFactor: 1 })
    const page = await context.newPage()
    const shoot = async (name: string) => {
      // load the lazy pictures below the fold before a full-page capture
      await page.evaluate(() => document.querySelectorAll('img[loading="lazy"]').forEach((img) => ((img as HTMLImageElement).loading = 'eager')))
      await page.waitForFunction(() => Array.from(document.images).every((img) => img.complete))
      await page.mouse.move(0, 0)
      await page.evaluate(() => window.scrollTo(0, 0))
      await page.screenshot({ path: `test-results/screenshots/${name}-${width}.png`, fullPage: true })
    }
    await page.goto('/')
    await shoot('home')
    await page.goto(`/products/${product.slug}?variant=${variant.id}`)
    await page.getByRole('button', { name: 'Add to cart' }).click()
    await expect(page.getByTestId('flash-notice')).toBeVisible()
    await shoot('product')
    await page.goto('/cart')
    await expect(page.getByTestId('cart-line')).toHaveCount(1)
    await shoot('cart')
    await context.close()
  }
})

// Every admin page at a phone's and a desk's width: a full-page screenshot kept under
// test-results/screenshots, nothing wider than the screen, every form button within reach,
// no table that hides columns off to the side on a phone, and the menu folded away there.
test('screenshots of every admin page at 390 and 1280 px; on a phone nothing is off screen', async ({ browser, baseURL, server }) => {
  test.setTimeout(420_000)
  const orderId = await paidOrderId(browser, server)
  const pages = await adminPages(server, orderId)
  fs.mkdirSync('test-results/screenshots', { recursive: true })
  for (const width of [390, 1280]) {
    const context = await browser.newContext({ baseURL, viewport: { width, height: width < 500 ? 844 : 900 }, deviceScaleFactor: 1 })
    const page = await context.newPage()
    await page.goto('/admin/sign-in')
    await page.screenshot({ path: `test-results/screenshots/admin-sign-in-${width}.png`, fullPage: true })
    await signIn(page)
    for (const [name, url] of pages) {
      await page.goto(url)
      await expect(page.getByRole('heading', { level: 1 })).toBeVisible()
      // the admin's own frame: none of the shop's search, cart or footer
      await expect(page.getByRole('search'), url).toHaveCount(0)
      await expect(page.getByRole('contentinfo'), url).toHaveCount(0)
      await expect(page.getByRole('link', { name: /cart|bag/i }), url).toHaveCount(0)
      const problems = await layoutProblems(page)
      expect(problems.overflow, `${url} at ${width}px is wider than the screen`).toBeLessThanOrEqual(0)
      expect(problems.offscreen, `${url} at ${width}px: buttons off screen`).toEqual([])
      expect(problems.withoutCue, `${url} at ${width}px: table boxes with no scroll cue`).toEqual([])
      if (width < 500) {
        expect(problems.scrolling, `${url} at ${width}px: tables that scroll sideways`).toEqual([])
        // the menu is folded: the page's own heading is on the first screen
        await expect(page.getByTestId('admin-menu')).not.toHaveAttribute('open')
        expect((await page.getByRole('heading', { level: 1 }).boundingBox())!.y, url).toBeLessThan(260)
      }
      await page.screenshot({ path: `test-results/screenshots/admin-${name}-${width}.png`, fullPage: true })
    }
    // the phone's menu opens without a script, and leads to every page
    if (width < 500) {
      await page.getByText('Admin menu').click()
      // the owner sees all thirteen: Dashboard to Account, with Import and Staff
      await expect(page.getByRole('navigation', { name: 'Admin' }).getByRole('link')).toHaveCount(13)
    }
    // a record that does not exist is a 404 in the admin's frame, not the shop's
    const missing = await page.goto('/admin/orders/999999')
    expect(missing!.status()).toBe(404)
    await expect(page.getByRole('heading', { level: 1, name: 'Not found' })).toBeVisible()
    await expect(page.getByRole('contentinfo')).toHaveCount(0)
    await expect(page.getByRole('link', { name: 'View the shop' })).toBeVisible()
    await context.close()
  }
})

test('at 390 px the key columns of orders, order items and products come first and are on screen', async ({ browser, baseURL, server }) => {
  const orderId = await paidOrderId(browser, server)
  const context = await browser.newContext({ baseURL, viewport: { width: 390, height: 844 } })
  const page = await context.newPage()
  await signIn(page)
  const keyCells: [string, string, string[]][] = [
    ['/admin/orders', '[data-testid="order-row"]', ['Customer', 'Total', 'Status']],
    [`/admin/orders/${orderId}`, '[data-testid="order-line"]', ['Qty', 'Price', 'Total']],
    ['/admin/products', '[data-testid="product-row"]', ['Stock', 'From', 'Status']],
  ]
  for (const [url, rowSelector, labels] of keyCells) {
    await page.goto(url)
    const row = page.locator(rowSelector).first()
    // the first cell (order number, item, product) is the card's title; the key figures follow in order
    const order = await row.locator('td').evaluateAll((cells) => cells.map((c) => c.getAttribute('data-label') ?? ''))
    expect(order.slice(0, labels.length + 1), url).toEqual(['', ...labels])
    for (const label of labels) {
      const cell = row.locator(`td[data-label="${label}"]`)
      await expect(cell, `${url} ${label}`).toBeVisible()
      await expect(cell, `${url} ${label}`).not.toBeEmpty()
      const box = (await cell.boundingBox())!
      expect(box.x + box.width, `${url} ${label}`).toBeLessThanOrEqual(390)
    }
  }
  // the stock form's Apply button stays on screen, on the inventory and on a product's page
  for (const url of ['/admin/inventory', (await adminPages(server, orderId)).find(([name]) => name === 'product')![1]]) {
    await page.goto(url)
    const apply = page.getByRole('button', { name: 'Apply' }).first()
    await apply.scrollIntoViewIfNeeded()
    await expect(apply).toBeInViewport({ ratio: 1 })
    const box = (await apply.boundingBox())!
    expect(box.x + box.width, url).toBeLessThanOrEqual(390)
  }
  await context.close()
})

test('at 1280 px the audit log keeps emails whole and shows changes as field lists', async ({ browser, baseURL }) => {
  const context = await browser.newContext({ baseURL, viewport: { width: 1280, height: 900 } })
  const page = await context.newPage()
  await signIn(page)
  // a change with a before and an after: a stock adjustment
  await page.goto('/admin/inventory')
  const row = page.getByTestId('inventory-row').first()
  await row.getByLabel('Change').fill('2')
  await row.getByLabel('Why').fill('counted the shelf')
  await row.getByRole('button', { name: 'Apply' }).click()
  await expect(page.getByTestId('flash-notice')).toContainText('Stock is now')
  await page.goto('/admin/audit')
  const adjust = page.locator('[data-testid="audit-row"][data-action="stock.adjust"]').first()
  const changes = adjust.getByTestId('audit-changes')
  await expect(changes.locator('div').filter({ hasText: /^stock: / })).toHaveText(/^stock: \d+ → \d+$/)
  await expect(changes.locator('div').filter({ hasText: /^note: / })).toHaveText('note: counted the shelf')
  await expect(changes.locator('div').filter({ hasText: /^delta: / })).toHaveText('delta: 2')
  await expect(page.getByTestId('audit-changes').first()).not.toContainText('{')
  // the admin's email in one line: its cell is as tall as one line of text
  const who = adjust.locator('td[data-label="Who"]')
  await expect(who).toHaveText(TEST_ADMIN.email)
  const lines = await who.evaluate((td) => {
    const range = document.createRange()
    range.selectNodeContents(td)
    return new Set([...range.getClientRects()].map((r) => Math.round(r.top))).size
  })
  expect(lines).toBe(1)
  await context.close()
})
