import { expect, test } from './fixtures'
import { catalog, pick, money } from './shop'

// What search engines read: the sitemap, robots.txt and product JSON-LD.

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
    // X falls back to og:image, so the card is declared once and the image is not copied
    await expect(page.locator('meta[name="twitter:card"]')).toHaveAttribute('content', 'summary_large_image')
    await expect(page.locator('meta[name^="twitter:image"]')).toHaveCount(0)
  }
  // the static product route's variant segment takes a variant id or "default", nothing else
  expect((await request.get(`/products/${inStock.product.slug}/${inStock.variant.id}`)).status()).toBe(200)
  expect((await request.get(`/products/${inStock.product.slug}/not-a-variant`)).status()).toBe(404)
  await expect(page.getByRole('button', { name: 'Sold out' })).toBeDisabled()
})
