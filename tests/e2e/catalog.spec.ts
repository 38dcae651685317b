import { expect, test } from './fixtures'
import { catalog, pick } from './shop'

// Finding things: 404s with a way back, and catalog pages served from the cache and
// refreshed when stock moves.

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
  // and, once Next's copy is there, from the response cache in front of Next
  expect((await request.get(url)).headers()['x-till-cache']).toBe('HIT')
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
