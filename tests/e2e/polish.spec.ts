import fs from 'node:fs'
import path from 'node:path'
import type { Browser, Page } from '@playwright/test'
import { expect, hydrated, test } from './fixtures'
import { catalog, money, pick, type ApiProduct } from './shop'

// Shopper polish (issue 12): each test names the item it proves. Visual ones run at phone
// and desk widths and leave screenshots in test-results/screenshots/ for a person to look at.

const WIDTHS = [390, 1280] as const
const SHOTS = 'test-results/screenshots'

async function open(browser: Browser, baseURL: string | undefined, width: number): Promise<Page> {
  const context = await browser.newContext({ baseURL, viewport: { width, height: width < 500 ? 844 : 900 }, deviceScaleFactor: 1 })
  return context.newPage()
}

async function shoot(page: Page, name: string, options: { fullPage?: boolean } = {}) {
  fs.mkdirSync(SHOTS, { recursive: true })
  await page.evaluate(() => document.querySelectorAll('img[loading="lazy"]').forEach((img) => ((img as HTMLImageElement).loading = 'eager')))
  await page.waitForFunction(() => Array.from(document.images).every((img) => img.complete))
  await page.screenshot({ path: path.join(SHOTS, `${name}-${page.viewportSize()!.width}.png`), fullPage: options.fullPage ?? true })
}

/** Everything the browser would show a developer as a problem: console errors and warnings, failed requests. */
function watchProblems(page: Page): string[] {
  const problems: string[] = []
  page.on('console', (msg) => {
    if (msg.type() === 'error' || msg.type() === 'warning') problems.push(`console ${msg.type()}: ${msg.text()} @ ${msg.location().url}`)
  })
  page.on('pageerror', (err) => problems.push(`page error: ${err.message}`))
  page.on('response', (res) => {
    if (res.status() >= 400) problems.push(`${res.status()} ${res.request().method()} ${res.url()}`)
  })
  page.on('requestfailed', (req) => {
    // a navigation aborts the prefetches and image loads still in flight; that is not a failure
    if (!/ERR_ABORTED/.test(req.failure()?.errorText ?? '')) problems.push(`failed ${req.method()} ${req.url()}: ${req.failure()?.errorText}`)
  })
  return problems
}

// ---------------------------------------------------------------------------------------
// 1. The 404 page is the shop's own layout

test('1: the 404 page has the shop header (banner, search, collections) and footer, and ISR pages still serve 200 from cache', async ({ browser, baseURL, request }) => {
  const home = await request.get('/')
  const collectionHrefs = [...new Set([...(await home.text()).matchAll(/href="(\/collections\/[a-z0-9-]+)"/g)].map((m) => m[1]!))]
  expect(collectionHrefs.length).toBeGreaterThan(1)
  for (const width of WIDTHS) {
    const page = await open(browser, baseURL, width)
    const res = await page.goto('/no/such/page')
    expect(res!.status()).toBe(404)
    await expect(page.getByTestId('test-mode-banner')).toBeVisible()
    const nav = width < 768 ? page.getByRole('navigation', { name: 'Collections' }) : page.getByRole('navigation', { name: 'Main' })
    await expect(nav.locator(`a[href="${collectionHrefs[0]}"]`)).toBeVisible()
    const footerShop = page.getByRole('contentinfo').getByRole('navigation', { name: 'Shop' })
    for (const href of collectionHrefs) await expect(footerShop.locator(`a[href="${href}"]`)).toHaveCount(1)
    if (width >= 640) await expect(page.locator('#header-search')).toBeVisible()
    else await expect(page.getByRole('banner').getByRole('link', { name: 'Search' })).toBeVisible()
    await shoot(page, '404')
    await page.context().close()
  }
  // the static 404 stayed static: ISR pages are still rendered once and served from the cache
  for (const href of collectionHrefs.slice(0, 2)) {
    await request.get(href)
    const again = await request.get(href)
    expect(again.status(), href).toBe(200)
    expect(again.headers()['x-nextjs-cache'], href).toMatch(/HIT|STALE/)
  }
})

// ---------------------------------------------------------------------------------------
// 2. The cart badge never double-counts

test('2: adding one item shows 1 in the cart badge, never 2 on the way', async ({ browser, baseURL, request }) => {
  const { product, variant } = pick(await catalog(request), 3, { n: 6 })
  const page = await open(browser, baseURL, 1280)
  await page.goto(`/products/${product.slug}?variant=${variant.id}`)
  await hydrated(page, 'add-to-cart-form')
  await page.evaluate(() => {
    const badge = document.querySelector('[data-testid="cart-count"]')!
    const seen: string[] = []
    ;(window as unknown as { badgeValues: string[] }).badgeValues = seen
    new MutationObserver(() => seen.push(`${badge.textContent}${badge.classList.contains('invisible') ? ' (hidden)' : ''}`)).observe(badge, {
      childList: true,
      characterData: true,
      subtree: true,
      attributes: true,
    })
  })
  await page.getByRole('button', { name: 'Add to cart' }).click()
  await expect(page.getByTestId('flash-notice')).toBeVisible()
  await page.waitForTimeout(800)
  const values = await page.evaluate(() => (window as unknown as { badgeValues: string[] }).badgeValues)
  expect(values.length).toBeGreaterThan(0)
  expect(values.filter((v) => !v.endsWith('(hidden)'))).not.toContain('2')
  await expect(page.getByTestId('cart-count')).toHaveText('1')
  await page.context().close()
})

// ---------------------------------------------------------------------------------------
// 3. No 404s for variant prefetches or the favicon; no unused preloads

test('3: the favicon is served, and following variant links logs no 404s or preload warnings', async ({ browser, baseURL, request }) => {
  expect((await request.get('/favicon.ico')).status()).toBe(200)
  const { product, variant } = pick(await catalog(request), 2, { n: 7 })
  const page = await open(browser, baseURL, 1280)
  const problems = watchProblems(page)
  await page.goto('/')
  await page.waitForLoadState('networkidle')
  await page.goto(`/products/${product.slug}`)
  await hydrated(page, 'add-to-cart-form')
  const links = page.locator('[data-testid^="option-"]')
  for (let i = 0; i < Math.min(await links.count(), 6); i++) await links.nth(i).hover()
  const [colour, size] = variant.title.split(' / ')
  await page.getByRole('group', { name: /^Colour:/ }).getByRole('link', { name: new RegExp(`^${colour}`) }).click()
  await page.getByRole('group', { name: /^Size:/ }).getByRole('link', { name: new RegExp(`^${size}`) }).click()
  await expect(page).toHaveURL(new RegExp(`variant=${variant.id}$`))
  // "preloaded but not used" is reported a few seconds after load
  await page.waitForTimeout(3500)
  expect(problems).toEqual([])
  await page.context().close()
})

// ---------------------------------------------------------------------------------------
// 4, 9, 10 and the console: a whole purchase, looked at closely

async function payOnEmulator(page: Page, width: number, options: { country?: string; state?: string } = {}) {
  await expect(page).toHaveURL(/\/emulator\/checkout\/cs_/)
  // 10: the store's name and the line's picture, as Stripe's page shows them
  await expect(page.getByTestId('merchant')).toContainText('Till')
  await expect.poll(() => page.locator('ul.lines img.thumb').evaluateAll((imgs) => imgs.map((i) => (i as HTMLImageElement).naturalWidth))).toEqual([expect.any(Number)])
  expect(await page.locator('ul.lines img.thumb').evaluate((i) => (i as HTMLImageElement).naturalWidth)).toBeGreaterThan(0)
  await page.getByLabel('Email').fill('sam@example.com')
  await page.getByLabel('Full name').fill('Sam Shopper')
  await page.getByLabel('Address line 1').fill('1 Harbour Street')
  await page.getByLabel('City').fill('Portland')
  await page.getByLabel('State / region (optional)').fill(options.state ?? 'ME')
  await page.getByLabel('Postal code').fill('04101')
  if (options.country) await page.getByLabel('Country').selectOption(options.country)
  // 10: expiry and CVC may be given
  await expect(page.getByLabel('Expiry (optional)')).toBeVisible()
  await expect(page.getByLabel('CVC (optional)')).toBeVisible()
  // 10: layout: the summary is as tall as its content on a desk; on a phone city and
  // region do not sit side by side with labels of different heights
  const boxes = await page.evaluate(() => {
    const rect = (sel: string) => document.querySelector(sel)!.getBoundingClientRect()
    return { summary: rect('section[aria-labelledby="summary-heading"]'), pay: rect('section[aria-labelledby="pay-heading"]'), city: rect('#city'), state: rect('#state') }
  })
  if (width >= 800) {
    expect(boxes.summary.height).toBeLessThan(boxes.pay.height / 2)
    expect(boxes.city.top).toBe(boxes.state.top)
  } else {
    expect(boxes.state.top).toBeGreaterThan(boxes.city.bottom)
  }
  // 10: with "pay later" there is no card to give, and the button says so
  const pay = page.locator('#pay-button')
  const total = (await pay.locator('.pay-amount').first().textContent())!
  await expect(pay).toHaveAccessibleName(`Pay ${total}`)
  await page.getByLabel(/pay later/i).check()
  await expect(page.getByLabel('Card number')).toBeHidden()
  await expect(pay).toHaveAccessibleName(`Pay ${total} later by bank transfer`)
  await page.getByLabel(/pay later/i).uncheck()
  await expect(page.getByLabel('Card number')).toBeVisible()
  await expect(pay).toHaveAccessibleName(`Pay ${total}`)
  await page.getByLabel('Card number').fill('4242 4242 4242 4242')
  await page.getByLabel('Expiry (optional)').fill('12 / 34')
  await page.getByLabel('CVC (optional)').fill('123')
  await shoot(page, 'emulator')
  await pay.click()
}

test('4, 9, 10: a purchase in the browser logs no console errors or failed requests; the success page, order page and email show pictures, shipping method, date and a local address', async ({
  browser,
  baseURL,
  request,
  server,
}) => {
  const products = await catalog(request)
  for (const width of WIDTHS) {
    const { product, variant } = pick(products, 3, { n: width === 390 ? 8 : 9 })
    const page = await open(browser, baseURL, width)
    const problems = watchProblems(page)
    await page.goto('/')
    await page.goto(`/products/${product.slug}?variant=${variant.id}`)
    await hydrated(page, 'add-to-cart-form')
    await page.getByRole('button', { name: 'Add to cart' }).click()
    await expect(page.getByTestId('flash-notice')).toBeVisible()
    await page.getByTestId('flash-notice').getByRole('link', { name: 'View cart' }).click()
    await expect(page.getByTestId('cart-line')).toHaveCount(1)
    await page.getByRole('button', { name: 'Checkout' }).click()
    await payOnEmulator(page, width)

    await expect(page).toHaveURL(/\/checkout\/success\?session_id=cs_/)
    await expect(page.getByTestId('order-status')).toHaveAttribute('data-status', 'paid')
    const checkOrder = async () => {
      // 9: a picture per line, the shipping method, the date; 4: the address as the post writes it
      const thumb = page.getByTestId('order-line').locator('img')
      await expect(thumb).toHaveCount(1)
      await expect.poll(() => thumb.evaluate((i) => (i as HTMLImageElement).naturalWidth)).toBeGreaterThan(0)
      await expect(page.getByTestId('shipping-method')).toHaveText('Standard')
      await expect(page.getByTestId('payment-method')).toHaveText('Visa ending 4242')
      await expect(page.getByText(/^Shipping \(Standard\)$/)).toBeVisible()
      await expect(page.getByTestId('order-date')).toHaveText(new Intl.DateTimeFormat('en-US', { dateStyle: 'long', timeZone: 'UTC' }).format(new Date()))
      await expect(page.getByTestId('shipping-address')).toHaveText(/Sam Shopper\s*1 Harbour Street\s*Portland, ME 04101\s*United States/)
    }
    await checkOrder()
    await shoot(page, 'success')
    await page.getByTestId('order-link').click()
    await expect(page.getByRole('heading', { level: 1, name: 'Your order' })).toBeVisible()
    await checkOrder()
    await shoot(page, 'order-status')
    await page.waitForTimeout(3500)
    expect(problems).toEqual([])
    await page.context().close()
  }

  // 4, 9: the confirmation email carries the shipping method and the country's name
  const mailDir = path.join(server.storageDir, 'mail')
  await expect.poll(() => (fs.existsSync(mailDir) ? fs.readdirSync(mailDir).filter((f) => f.endsWith('.eml')).length : 0), { timeout: 15_000 }).toBeGreaterThan(1)
  const eml = fs
    .readdirSync(mailDir)
    .filter((f) => f.endsWith('.eml'))
    .map((f) => fs.readFileSync(path.join(mailDir, f), 'utf8'))
    .join('\n')
  expect(eml).toContain('Shipping method: Standard')
  expect(eml).toContain('Paid with: Visa ending 4242')
  expect(eml).toContain('Portland, ME 04101')
  expect(eml).toContain('United States')
  expect(eml).not.toMatch(/^US$/m)
})

// ---------------------------------------------------------------------------------------
// 5. Mobile navigation and filters

test('5: the current collection chip is highlighted; a filter chip closes the panel, keeps results in view and adds no empty collection=', async ({ browser, baseURL, request }) => {
  const page = await open(browser, baseURL, 390)
  const home = await (await request.get('/')).text()
  const href = /href="(\/collections\/[a-z0-9-]+)"/.exec(home)![1]!
  const chips = page.getByRole('navigation', { name: 'Collections' })
  await page.goto(href)
  await expect(chips.locator('[aria-current="page"]')).toHaveCount(1)
  await expect(chips.locator('[aria-current="page"]')).toHaveAttribute('href', href)
  // the current chip is filled; the others are not
  const background = (el: Element) => getComputedStyle(el).backgroundColor
  const current = await chips.locator('[aria-current="page"]').evaluate(background)
  expect(current).not.toMatch(/^rgba\(0, 0, 0, 0\)$|^transparent$/)
  expect(await chips.getByRole('link', { name: 'Shop all' }).evaluate(background)).not.toBe(current)
  await page.goto('/products')
  await expect(chips.locator('[aria-current="page"]')).toHaveAttribute('href', '/products')

  const panel = page.locator('details').filter({ hasText: 'Filters' })
  await hydrated(page, 'product-grid')
  await page.waitForFunction(() => document.querySelector('details form')?.getAttribute('data-auto-submit') === 'on')
  await panel.locator('summary').click()
  await expect(panel).toHaveAttribute('open', '')
  const chip = panel.locator('fieldset').filter({ hasNot: page.locator('input[type="radio"]') }).first().locator('label').first()
  await chip.click()
  await expect(page).toHaveURL(/\/products\?.+/)
  expect(page.url()).not.toMatch(/collection=(&|$)/)
  await expect(panel).not.toHaveAttribute('open', '')
  const top = await page.getByTestId('product-grid').evaluate((el) => el.getBoundingClientRect().top)
  expect(top).toBeLessThan(844)
  await shoot(page, 'filtered', { fullPage: false })
  await page.context().close()
})

// ---------------------------------------------------------------------------------------
// 6. Header search starts empty on each page

test('6: the header search box does not carry the last query to later pages', async ({ browser, baseURL }) => {
  const page = await open(browser, baseURL, 1280)
  await page.goto('/')
  await hydrated(page, 'cart-link')
  await page.locator('#header-search').fill('wool')
  await page.locator('#header-search').press('Enter')
  await expect(page).toHaveURL(/\/search\?q=wool/)
  await page.getByTestId('product-card').first().getByRole('link').click()
  await expect(page).toHaveURL(/\/products\//)
  await expect(page.locator('#header-search')).toHaveValue('')
  await page.context().close()
})

// ---------------------------------------------------------------------------------------
// 7. Sold-out options

test('7: a sold-out option is struck through with a visible "Sold out", and picking it shows the variant as sold out', async ({ browser, baseURL, request }) => {
  // the demo catalog has a few sold-out Colour / Size variants; show a sibling of the same colour
  const products = await catalog(request)
  const found = products
    .flatMap((p: ApiProduct) =>
      p.variants
        .filter((a) => a.available === 0 && a.title.includes(' / '))
        .flatMap((a) => p.variants.filter((b) => b.available > 0 && b.title.split(' / ')[0] === a.title.split(' / ')[0]).map((b) => ({ product: p, soldOut: a, shown: b }))),
    )
    .at(0)
  expect(found).toBeDefined()
  const { product, soldOut, shown } = found!
  for (const width of WIDTHS) {
    const page = await open(browser, baseURL, width)
    await page.goto(`/products/${product.slug}?variant=${shown.id}`)
    const size = soldOut.title.split(' / ')[1]!
    const choice = page.getByRole('group', { name: /^Size:/ }).getByRole('link', { name: `${size} (sold out)` })
    await expect(choice.getByTestId('choice-sold-out')).toBeVisible()
    await expect(choice.getByTestId('choice-sold-out')).toHaveText('Sold out')
    await expect(choice.getByText(size, { exact: true })).toHaveCSS('text-decoration-line', 'line-through')
    await choice.click()
    await expect(page).toHaveURL(new RegExp(`variant=${soldOut.id}$`))
    await expect(page.getByTestId('availability')).toHaveText('Sold out')
    await expect(page.getByTestId('add-to-cart-form').getByRole('button', { name: 'Sold out' })).toBeDisabled()
    await page.context().close()
  }
})

// ---------------------------------------------------------------------------------------
// 8. Sticky add to cart on a phone

test('8: on a phone, a sticky bar with the price and Add to cart appears once the form scrolls away, and it adds to the cart', async ({ browser, baseURL, request }) => {
  const { product, variant } = pick(await catalog(request), 3, { n: 10 })
  const page = await open(browser, baseURL, 390)
  await page.goto(`/products/${product.slug}?variant=${variant.id}`)
  await hydrated(page, 'add-to-cart-form')
  await expect(page.getByTestId('sticky-add-to-cart')).toHaveCount(0)
  await page.getByTestId('add-to-cart-form').evaluate((form) => window.scrollTo(0, form.getBoundingClientRect().bottom + window.scrollY + 200))
  const bar = page.getByTestId('sticky-add-to-cart')
  await expect(bar).toBeVisible()
  await expect(bar).toContainText(money(variant.priceCents))
  const box = (await bar.boundingBox())!
  expect(box.y + box.height).toBeLessThanOrEqual(844)
  await shoot(page, 'product-scrolled', { fullPage: false })
  await bar.getByRole('button', { name: 'Add to cart' }).click()
  await expect(page.getByTestId('cart-count')).toHaveText('1')
  // back up at the form, the bar goes away
  await page.evaluate(() => window.scrollTo(0, 0))
  await expect(bar).toHaveCount(0)
  await page.context().close()
})
