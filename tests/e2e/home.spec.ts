import { expect, test } from './fixtures'

test('the home page shows the seeded catalog with images', async ({ page }) => {
  const response = await page.goto('/')
  expect(response?.status()).toBe(200)
  const images = page.locator('main img[src^="/uploads/"]')
  await expect(images.first()).toBeVisible()
  expect(await images.count()).toBeGreaterThanOrEqual(8)
  // every image on the page actually loads
  const broken = await page.evaluate(() => Array.from(document.images).filter((img) => img.complete && img.naturalWidth === 0).map((img) => img.src))
  expect(broken).toEqual([])
})

test('GET /api/products lists at least 24 products with availability', async ({ request }) => {
  const res = await request.get('/api/products')
  expect(res.status()).toBe(200)
  const body = (await res.json()) as { products: { slug: string; variants: { priceCents: number; available: number; sku: string }[] }[] }
  expect(body.products.length).toBeGreaterThanOrEqual(24)
  for (const product of body.products) {
    expect(product.variants.length).toBeGreaterThan(0)
    for (const v of product.variants) {
      expect(Number.isInteger(v.priceCents)).toBe(true)
      expect(v.available).toBeGreaterThanOrEqual(0)
    }
  }
})

// Decision 043: the shop's links fetch the next page when a shopper reaches for one, not when
// it comes into view, so loading a page spends the phone's CPU on that page alone.
test('links prefetch when reached for, not on sight, and the click still navigates', async ({ page }) => {
  const payloads: string[] = []
  page.on('request', (req) => {
    const headers = req.headers()
    if (headers['rsc'] === '1' || req.url().includes('_rsc=')) payloads.push(new URL(req.url()).pathname)
  })
  await page.goto('/')
  await page.waitForLoadState('networkidle')
  // a dozen product cards and the header's links are on screen, and none was fetched
  expect(await page.locator('main a[href^="/products/"]').count()).toBeGreaterThan(5)
  expect(payloads).toEqual([])

  const card = page.locator('main a[href^="/products/"]').first()
  const href = (await card.getAttribute('href'))!
  await card.hover()
  await expect.poll(() => payloads.filter((p) => p.startsWith(href.split('?')[0]!)).length).toBeGreaterThan(0)
  // only the page reached for was fetched
  expect(payloads.every((p) => p.startsWith(href.split('?')[0]!))).toBe(true)

  await card.click()
  await expect(page).toHaveURL(new RegExp(`${href.split('?')[0]!.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}`))
  await expect(page.getByRole('heading', { level: 1 })).toBeVisible()
})
