import { adminPages, paidOrderId } from './admin-pages'
import { expect, hydrated, test } from './fixtures'
import { seriousViolations, signIn } from './shop'

// axe on the storefront's pages, at phone and desktop widths: no serious or critical
// violations of WCAG 2.1 A/AA (and axe's best practices, which include landmarks).

type ApiProduct = { slug: string; variants: { id: number; available: number }[] }

for (const width of [390, 1280]) {
  test(`home, collection, product, search and cart have no serious axe violations at ${width}px`, async ({ page, request }) => {
    await page.setViewportSize({ width, height: 900 })
    const { products } = (await (await request.get('/api/products')).json()) as { products: ApiProduct[] }
    const product = products.find((p) => p.variants.some((v) => v.available > 1))!
    const variant = product.variants.find((v) => v.available > 1)!

    const pages: [string, () => Promise<void>][] = [
      ['/', async () => {}],
      ['/collections/outerwear', async () => {}],
      [`/products/${product.slug}?variant=${variant.id}`, async () => {
        await hydrated(page, 'add-to-cart-form')
        await page.getByRole('button', { name: 'Add to cart' }).click()
        await expect(page.getByTestId('flash-notice')).toBeVisible()
      }],
      ['/search?q=wool', async () => {}],
      ['/search', async () => {}],
      ['/products?colour=Navy&sort=price-asc', async () => {}],
      ['/cart', async () => {
        await expect(page.getByTestId('cart-line').first()).toBeVisible()
      }],
    ]
    for (const [url, settle] of pages) {
      await page.goto(url)
      await settle()
      expect(await seriousViolations(page), url).toEqual([])
    }
    // the skip link is the first stop and leads to the main content
    await page.goto('/')
    await page.keyboard.press('Tab')
    const skip = page.getByRole('link', { name: 'Skip to content' })
    await expect(skip).toBeFocused()
    await expect(skip).toBeVisible()
    await page.keyboard.press('Enter')
    await expect(page).toHaveURL(/#main$/)
  })
}

// Every admin page, signed in, at both widths; and a form showing its messages.
for (const width of [390, 1280]) {
  test(`every admin page has no serious axe violations at ${width}px`, async ({ page, browser, server }) => {
    test.setTimeout(360_000)
    const orderId = await paidOrderId(browser, server)
    await page.setViewportSize({ width, height: 900 })
    await page.goto('/admin/sign-in')
    expect(await seriousViolations(page), `/admin/sign-in at ${width}px`).toEqual([])
    await signIn(page)
    for (const [, url] of await adminPages(server, orderId)) {
      await page.goto(url)
      expect(await seriousViolations(page), `${url} at ${width}px`).toEqual([])
    }
    // a refused form: the summary, the messages and the fields marked invalid
    await page.goto('/admin/products/new')
    await page.getByLabel('Title', { exact: true }).fill('Axe mug')
    await page.locator('#v0-sku').fill('AXE-1')
    await page.locator('#v0-price').fill('twelve')
    await page.locator('#v0-options').fill('Cream')
    await page.getByRole('button', { name: 'Create product' }).click()
    await expect(page.locator('#v0-price-error')).toBeVisible()
    expect(await seriousViolations(page), `refused product form at ${width}px`).toEqual([])
  })
}
