import { storeRows } from '../support/store-file'
import { expect, test } from './fixtures'
import { catalog, pick, money, label, chooseVariant } from './shop'

// The cart in Chromium against the production build: adding from a product page with and
// without JavaScript, quantities, stock limits and lines whose stock fell since.

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
  const db = storeRows(server.storageDir)
  const { stock } = (await db.get<{ stock: number }>('SELECT stock FROM variants WHERE id = ?', variant.id))!
  await db.run('UPDATE variants SET stock = ? WHERE id = ?', stock - variant.available + 2, variant.id)
  await page.goto('/cart')
  const line = page.locator(`[data-testid="cart-line"][data-variant-id="${variant.id}"]`)
  await expect(line.getByTestId('line-problem')).toHaveText('Only 2 left since you added it. Lower the quantity to check out.')
  await expect(page.getByRole('note')).toContainText('Some items changed since you added them')
  await line.getByRole('button', { name: 'Lower to 2' }).click()
  await expect(line.getByTestId('line-quantity')).toHaveText('2')
  await expect(line.getByTestId('line-problem')).toHaveCount(0)

  // Sold out entirely: the line says so and can be removed.
  await db.run('UPDATE variants SET stock = ? WHERE id = ?', stock - variant.available, variant.id)
  await db.close()
  await page.reload()
  await expect(line.getByTestId('line-problem')).toHaveText('Sold out since you added it. Please remove it to check out.')
  await line.getByRole('button', { name: /^Remove/ }).click()
  await expect(page.getByRole('heading', { name: 'Your cart is empty' })).toBeVisible()
})
