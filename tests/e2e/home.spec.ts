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
