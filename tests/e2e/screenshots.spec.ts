import fs from 'node:fs'
import { expect, test } from './fixtures'
import { catalog, pick } from './shop'

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
