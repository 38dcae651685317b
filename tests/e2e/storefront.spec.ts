import fs from 'node:fs'
import type { APIRequestContext, Page } from '@playwright/test'
import { openStore } from '../support/store-file'
import { expect, hydrated, test } from './fixtures'

// A shopper's path through the storefront in Chromium against the production build:
// search, product pages with variants, the cart with and without JavaScript, stock limits,
// hostile input, 404s, the sitemap and JSON-LD. Other specs share the server, so products
// and variants are chosen from /api/products at run time by what is actually available.

type ApiVariant = { id: number; sku: string; title: string; priceCents: number; currency: string; available: number }
type ApiProduct = { id: number; slug: string; title: string; variants: ApiVariant[] }

async function catalog(request: APIRequestContext): Promise<ApiProduct[]> {
  const res = await request.get('/api/products')
  expect(res.status()).toBe(200)
  return ((await res.json()) as { products: ApiProduct[] }).products
}

/** The n-th product (skipping `exclude`) that has a Colour / Size variant with at least `min` available. */
function pick(products: ApiProduct[], min: number, opts: { match?: RegExp; exclude?: string[]; max?: number; n?: number } = {}) {
  const found: { product: ApiProduct; variant: ApiVariant }[] = []
  for (const product of products) {
    if (opts.match && !opts.match.test(product.title)) continue
    if (opts.exclude?.includes(product.slug)) continue
    const variant = product.variants.find((v) => v.available >= min && v.available <= (opts.max ?? Infinity) && v.title.includes(' / '))
    if (variant) found.push({ product, variant })
  }
  const hit = found[opts.n ?? 0]
  if (!hit) throw new Error(`no product with a variant of ${min}..${opts.max ?? '∞'} available`)
  return hit
}

const money = (cents: number) => new Intl.NumberFormat('en-US', { style: 'currency', currency: 'USD' }).format(cents / 100)
const label = (p: ApiProduct, v: ApiVariant) => `${p.title} (${v.title})`
const optionLink = (page: Page, option: string, value: string) =>
  page.getByRole('group', { name: new RegExp(`^${option}:`) }).getByRole('link', { name: new RegExp(`^${value}( \\(sold out\\))?$`) })

/** Picks a Colour / Size variant with the option links, as a shopper would. */
async function chooseVariant(page: Page, variant: ApiVariant) {
  const [colour, size] = variant.title.split(' / ') as [string, string]
  await optionLink(page, 'Colour', colour).click()
  await optionLink(page, 'Size', size).click()
  await expect(page).toHaveURL(new RegExp(`[?&]variant=${variant.id}$`))
  await expect(page.getByTestId('sku')).toHaveText(variant.sku)
}

test('search a word, open the product, pick a variant, add 2, change to 3, remove a line; the cart survives a restart', async ({ page, request, server }) => {
  const products = await catalog(request)
  const { product: jacket, variant } = pick(products, 3, { match: /jacket/i })
  const { product: other, variant: otherVariant } = pick(products, 1, { exclude: [jacket.slug], n: 3 })

  await page.goto('/')
  const search = page.getByRole('banner').getByLabel('Search products')
  await search.fill('jack')
  await search.press('Enter')
  await expect(page).toHaveURL(/\/search\?q=jack$/)
  const result = page.getByTestId('search-results').getByRole('link', { name: jacket.title })
  await expect(result.locator('mark').first()).toHaveText(/^jack/i)
  await result.click()

  await expect(page.getByRole('heading', { level: 1, name: jacket.title })).toBeVisible()
  await chooseVariant(page, variant)
  await expect(page.getByTestId('price')).toHaveText(money(variant.priceCents))
  await page.getByLabel('Quantity').fill('2')
  await page.getByRole('button', { name: 'Add to cart' }).click()
  await expect(page.getByTestId('flash-notice')).toHaveText(`Added 2 × ${label(jacket, variant)} to your cart.View cart`)
  await expect(page.getByTestId('cart-count')).toHaveText('2')

  await page.goto(`/products/${other.slug}?variant=${otherVariant.id}`)
  await page.getByRole('button', { name: 'Add to cart' }).click()
  await expect(page.getByTestId('flash-notice')).toContainText(`Added 1 × ${label(other, otherVariant)}`)
  await expect(page.getByTestId('cart-count')).toHaveText('3')

  await page.getByRole('banner').getByRole('link', { name: /^Cart/ }).click()
  await expect(page.getByTestId('cart-line')).toHaveCount(2)
  const jacketLine = page.locator(`[data-testid="cart-line"][data-variant-id="${variant.id}"]`)
  await jacketLine.getByRole('button', { name: `Increase quantity of ${label(jacket, variant)}` }).click()
  await expect(page.getByTestId('flash-notice')).toHaveText(`Updated ${label(jacket, variant)} to 3.`)
  await expect(jacketLine.getByTestId('line-quantity')).toHaveText('3')
  await expect(jacketLine.getByTestId('line-total')).toHaveText(money(3 * variant.priceCents))

  await page.getByRole('button', { name: `Remove ${label(other, otherVariant)}` }).click()
  await expect(page.getByTestId('flash-notice')).toHaveText(`Removed ${label(other, otherVariant)}.`)
  await expect(page.getByTestId('cart-line')).toHaveCount(1)
  await expect(page.getByTestId('cart-subtotal')).toHaveText(money(3 * variant.priceCents))
  await expect(page.getByTestId('cart-count')).toHaveText('3')

  // The cart lives in the database, not in the process.
  await server.restart()
  await page.goto('/cart')
  await expect(page.getByTestId('cart-line')).toHaveCount(1)
  await expect(jacketLine.getByTestId('line-quantity')).toHaveText('3')
  await expect(page.getByTestId('cart-count')).toHaveText('3')
})

test('without JavaScript: pick a variant, add to the cart, change the quantity and remove it', async ({ browser, baseURL, request }) => {
  const { product, variant } = pick(await catalog(request), 3, { n: 1 })
  const context = await browser.newContext({ javaScriptEnabled: false, baseURL })
  const page = await context.newPage()
  await page.goto(`/products/${product.slug}`)
  await chooseVariant(page, variant)
  await page.getByLabel('Quantity').fill('2')
  await page.getByRole('button', { name: 'Add to cart' }).click()
  await expect(page).toHaveURL(new RegExp(`/products/${product.slug}\\?variant=${variant.id}&notice=`))
  await expect(page.getByTestId('flash-notice')).toContainText(`Added 2 × ${label(product, variant)} to your cart.`)

  await page.getByRole('link', { name: 'View cart' }).click()
  const line = page.getByTestId('cart-line')
  await expect(line).toHaveCount(1)
  await expect(line.getByTestId('line-quantity')).toHaveText('2')
  await line.getByRole('button', { name: /^Increase quantity/ }).click()
  await expect(page).toHaveURL(/\/cart\?notice=/)
  await expect(line.getByTestId('line-quantity')).toHaveText('3')
  await expect(page.getByTestId('flash-notice')).toHaveText(`Updated ${label(product, variant)} to 3.`)
  await line.getByRole('button', { name: /^Remove/ }).click()
  await expect(page.getByRole('heading', { name: 'Your cart is empty' })).toBeVisible()
  await expect(page.getByTestId('flash-notice')).toHaveText(`Removed ${label(product, variant)}.`)
  await context.close()
})

test('asking for more than is available says how many are left, on the product page and in the cart', async ({ page, request }) => {
  const { product, variant } = pick(await catalog(request), 1, { max: 4 })
  const left = variant.available
  await page.goto(`/products/${product.slug}?variant=${variant.id}`)
  await expect(page.getByTestId('availability')).toHaveText(`Only ${left} left`)
  await page.getByLabel('Quantity').fill(String(left + 1))
  await page.getByRole('button', { name: 'Add to cart' }).click()
  await expect(page.getByTestId('flash-error')).toHaveText(`Only ${left} of ${label(product, variant)} left (you asked for ${left + 1}).`)
  await expect(page.getByTestId('cart-count')).toHaveText('0')

  await page.getByLabel('Quantity').fill(String(left))
  await page.getByRole('button', { name: 'Add to cart' }).click()
  await expect(page.getByTestId('flash-notice')).toContainText(`Added ${left} ×`)
  await page.goto('/cart')
  const line = page.getByTestId('cart-line')
  await line.getByRole('button', { name: /^Increase quantity/ }).click()
  await expect(page.getByTestId('flash-error')).toHaveText(`Only ${left} of ${label(product, variant)} left (you asked for ${left + 1}).`)
  // the optimistic +1 is rolled back
  await expect(line.getByTestId('line-quantity')).toHaveText(String(left))
})

test('the cart flags a line whose stock fell below its quantity since it was added, and fixes it in one click', async ({ page, request, server }) => {
  const { product, variant } = pick(await catalog(request), 3, { n: 5 })
  await page.goto(`/products/${product.slug}?variant=${variant.id}`)
  await page.getByLabel('Quantity').fill('3')
  await page.getByRole('button', { name: 'Add to cart' }).click()
  await expect(page.getByTestId('flash-notice')).toBeVisible()

  // Someone else bought all but two (the owner's database, as the webhook would leave it).
  const sqlite = openStore(server.storageDir)
  const { stock } = sqlite.prepare('SELECT stock FROM variants WHERE id = ?').get(variant.id) as { stock: number }
  sqlite.prepare('UPDATE variants SET stock = ? WHERE id = ?').run(stock - variant.available + 2, variant.id)
  await page.goto('/cart')
  const line = page.locator(`[data-testid="cart-line"][data-variant-id="${variant.id}"]`)
  await expect(line.getByTestId('line-problem')).toHaveText('Only 2 left since you added it. Lower the quantity to check out.')
  await expect(page.getByRole('note')).toContainText('Some items changed since you added them')
  await line.getByRole('button', { name: 'Lower to 2' }).click()
  await expect(line.getByTestId('line-quantity')).toHaveText('2')
  await expect(line.getByTestId('line-problem')).toHaveCount(0)

  // Sold out entirely: the line says so and can be removed.
  sqlite.prepare('UPDATE variants SET stock = ? WHERE id = ?').run(stock - variant.available, variant.id)
  sqlite.close()
  await page.reload()
  await expect(line.getByTestId('line-problem')).toHaveText('Sold out since you added it. Please remove it to check out.')
  await line.getByRole('button', { name: /^Remove/ }).click()
  await expect(page.getByRole('heading', { name: 'Your cart is empty' })).toBeVisible()
})

test('malformed input gets a clear message or a 4xx, never a 500', async ({ page, browser, baseURL, request }) => {
  const statuses: { url: string; status: number }[] = []
  page.on('response', (r) => statuses.push({ url: r.url(), status: r.status() }))
  page.on('dialog', (d) => {
    throw new Error(`a dialog opened: ${d.message()}`)
  })
  const { product, variant } = pick(await catalog(request), 2, { n: 2 })

  // Tampered add-to-cart forms, with JavaScript (the action answers in place)...
  await page.goto(`/products/${product.slug}?variant=${variant.id}`)
  const cases: [string, string, string][] = [
    ['quantity', '-5', 'Quantity must be at least 1.'],
    ['quantity', '0', 'Quantity must be at least 1.'],
    ['quantity', '99999999999999', 'You can have at most 99 of one item.'],
    ['quantity', '2.5', 'Quantity must be a whole number.'],
    ['quantity', 'abc', 'Quantity must be a whole number.'],
    ['variantId', 'abc', 'That product option does not exist.'],
    ['variantId', '-1', 'That product option does not exist.'],
    ['variantId', '987654321', 'That product was not found.'],
  ]
  const form = page.getByTestId('add-to-cart-form')
  for (const [field, value, message] of cases) {
    // Tamper only after hydration: React would put the hidden input's value back otherwise
    // (the static page arrives fast enough for the race to show).
    await page.reload()
    await hydrated(page, 'add-to-cart-form')
    await form.evaluate(
      (el, [name, v]) => {
        const input = (el as HTMLFormElement).elements.namedItem(name!) as HTMLInputElement
        input.type = 'text'
        input.removeAttribute('min')
        input.removeAttribute('max')
        input.value = v!
      },
      [field, value],
    )
    await page.getByRole('button', { name: 'Add to cart' }).click()
    await expect(page.getByTestId('flash-error')).toHaveText(message)
  }

  // ...and without (the action redirects with ?error=).
  const plain = await browser.newContext({ javaScriptEnabled: false, baseURL })
  const noJs = await plain.newPage()
  noJs.on('response', (r) => statuses.push({ url: r.url(), status: r.status() }))
  await noJs.goto(`/products/${product.slug}?variant=${variant.id}`)
  await noJs.getByTestId('add-to-cart-form').evaluate((el) => {
    const input = (el as HTMLFormElement).elements.namedItem('quantity') as HTMLInputElement
    input.type = 'text'
    input.value = '-3'
  })
  await noJs.getByRole('button', { name: 'Add to cart' }).click()
  await expect(noJs.getByTestId('flash-error')).toHaveText('Quantity must be at least 1.')
  await noJs.getByLabel('Quantity').fill('1')
  await noJs.getByRole('button', { name: 'Add to cart' }).click()
  await noJs.goto('/cart')
  await noJs.getByRole('button', { name: /^Increase quantity/ }).evaluate((el) => el.setAttribute('value', '-1'))
  await noJs.getByRole('button', { name: /^Increase quantity/ }).click()
  await expect(noJs.getByTestId('flash-error')).toHaveText('Quantity cannot be negative.')
  await noJs.getByRole('button', { name: /^Increase quantity/ }).evaluate((el) => el.setAttribute('value', '1000000'))
  await noJs.getByRole('button', { name: /^Increase quantity/ }).click()
  await expect(noJs.getByTestId('flash-error')).toHaveText('You can have at most 99 of one item.')
  await plain.close()

  // Hostile search text is just text.
  const xss = await page.goto(`/search?q=${encodeURIComponent('<script>alert(1)</script>"\' NEAR * OR')}`)
  expect(xss!.status()).toBe(200)
  await expect(page.getByTestId('search-summary')).toContainText('“script alert 1 NEAR OR”')
  expect(await page.locator('main script').count()).toBe(0)
  const huge = await page.goto(`/search?q=${'jacket%20'.repeat(1200)}`)
  expect(huge!.status()).toBeLessThan(500)
  for (const url of [
    `/search?q=${'x'.repeat(10_240)}`,
    `/products?sort=${'x'.repeat(5000)}&page=-1&size=%3Cscript%3E&collection=..%2F..`,
    '/products?page=99999999999999999999',
    `/products/${product.slug}?variant=abc`,
    `/products/${product.slug}?variant=-1`,
    `/products/${product.slug}?variant=99999999999999999999`,
  ]) {
    const res = await request.get(url)
    expect(res.status(), url).toBe(200)
  }
  const count = await request.get('/cart/count', { headers: { cookie: "till_cart=<script>'; DROP TABLE carts; --" } })
  expect(count.status()).toBe(200)
  expect(await count.json()).toEqual({ count: 0 })

  expect(statuses.filter((s) => s.status >= 500)).toEqual([])
})

test('unknown products and collections are 404s with a way back', async ({ page, request }) => {
  for (const url of ['/products/no-such-thing', '/collections/no-such-thing', '/products/%2e%2e%2fetc%2fpasswd', '/products/' + 'x'.repeat(300)]) {
    expect((await request.get(url)).status(), url).toBe(404)
  }
  const res = await page.goto('/products/no-such-thing')
  expect(res!.status()).toBe(404)
  await expect(page.getByRole('heading', { level: 1, name: 'We couldn’t find that page' })).toBeVisible()
  await expect(page.getByRole('main').getByRole('link', { name: 'Shop all' })).toBeVisible()
  const unmatched = await page.goto('/no/such/page')
  expect(unmatched!.status()).toBe(404)
  await expect(page.getByRole('heading', { level: 1, name: 'We couldn’t find that page' })).toBeVisible()
})

test('the sitemap lists every active product and robots.txt keeps private paths out', async ({ request, baseURL }) => {
  const products = await catalog(request)
  const res = await request.get('/sitemap.xml')
  expect(res.status()).toBe(200)
  const xml = await res.text()
  const locs = [...xml.matchAll(/<loc>([^<]+)<\/loc>/g)].map((m) => m[1])
  for (const p of products) expect(locs).toContain(`${baseURL}/products/${p.slug}`)
  expect(locs.filter((l) => l!.includes('/products/'))).toHaveLength(products.length)
  expect(locs).toContain(`${baseURL}/collections/outerwear`)

  const robots = await (await request.get('/robots.txt')).text()
  for (const path of ['/admin', '/cart', '/checkout', '/orders', '/api']) expect(robots).toContain(`Disallow: ${path}`)
  expect(robots).toContain(`Sitemap: ${baseURL}/sitemap.xml`)
})

test('product JSON-LD parses and tells the true price and availability', async ({ page, request, baseURL }) => {
  const products = await catalog(request)
  const inStock = pick(products, 1)
  const soldOut = products.flatMap((product) => product.variants.filter((v) => v.available === 0).map((variant) => ({ product, variant })))[0]!
  expect(soldOut, 'the demo catalog has a sold-out variant').toBeTruthy()
  for (const { product, variant } of [inStock, soldOut]) {
    await page.goto(`/products/${product.slug}?variant=${variant.id}`)
    const raw = await page.locator('script[type="application/ld+json"]').textContent()
    expect(raw).not.toContain('<')
    const data = JSON.parse(raw!)
    expect(data).toMatchObject({
      '@context': 'https://schema.org',
      '@type': 'Product',
      sku: variant.sku,
      url: `${baseURL}/products/${product.slug}?variant=${variant.id}`,
      offers: {
        '@type': 'Offer',
        price: (variant.priceCents / 100).toFixed(2),
        priceCurrency: 'USD',
        availability: variant.available > 0 ? 'https://schema.org/InStock' : 'https://schema.org/OutOfStock',
      },
    })
    expect(data.name).toContain(product.title)
    expect(data.image[0]).toMatch(new RegExp(`^${baseURL}/uploads/`))
    await expect(page.getByTestId('price')).toHaveText(money(variant.priceCents))
    await expect(page.getByTestId('availability')).toHaveText(variant.available > 0 ? (variant.available <= 5 ? `Only ${variant.available} left` : 'In stock') : 'Sold out')
    await expect(page.locator('link[rel="canonical"]')).toHaveAttribute('href', `${baseURL}/products/${product.slug}`)
    const ogImage = await page.locator('meta[property="og:image"]').first().getAttribute('content')
    expect(ogImage).toMatch(new RegExp(`^${baseURL}/products/${product.slug}/opengraph-image`))
    const png = await request.get(ogImage!)
    expect(png.status()).toBe(200)
    expect(png.headers()['content-type']).toBe('image/png')
    expect((await png.body()).subarray(1, 4).toString()).toBe('PNG')
  }
  await expect(page.getByRole('button', { name: 'Sold out' })).toBeDisabled()
})

test('collection pages are served from the cache', async ({ request }) => {
  await request.get('/collections/outerwear')
  const res = await request.get('/collections/outerwear')
  expect(res.status()).toBe(200)
  expect(res.headers()['x-nextjs-cache']).toMatch(/HIT|STALE/)
  // no page reads the cart cookie: the count comes from its own route
  expect((await request.get('/cart/count')).headers()['cache-control']).toContain('no-store')
})

test('product pages are served from the cache, and a sale refreshes their availability', async ({ page, request }) => {
  const { product, variant } = pick(await catalog(request), 3, { n: 5 })
  const url = `/products/${product.slug}?variant=${variant.id}`
  await request.get(url)
  const res = await request.get(url)
  expect(res.status()).toBe(200)
  expect(res.headers()['x-nextjs-cache']).toMatch(/HIT|STALE/)
  await page.goto(url)
  const before = Number(await page.getByTestId('availability').getAttribute('data-available'))
  // a checkout holds a unit; the cached page must not keep the old number
  await page.getByRole('button', { name: 'Add to cart' }).click()
  await expect(page.getByText(/^Added 1 ×/)).toBeVisible()
  await page.goto('/cart')
  await page.getByRole('button', { name: 'Checkout' }).click()
  await expect(page).toHaveURL(/\/emulator\/checkout\//)
  await expect
    .poll(async () => {
      const html = await (await request.get(url)).text()
      return Number(/data-available="(\d+)"/.exec(html)?.[1])
    })
    .toBe(before - 1)
})

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
