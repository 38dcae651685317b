import { expect, hydrated, test } from './fixtures'
import { catalog, pick } from './shop'

// Malformed and hostile input from a browser and from raw requests: a clear message or a
// 4xx, never a 500.

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
    // Tamper at the moment of submitting, in a listener on the form itself, which runs before
    // React's (delegated to the root) reads the fields: React puts a hidden input's value back
    // whenever the form renders again (the header's cart count arriving after hydration does
    // that), so a value set earlier can be gone by the click on a slow machine.
    await page.reload()
    await hydrated(page, 'add-to-cart-form')
    await form.evaluate(
      (el, [name, v]) => {
        el.addEventListener(
          'submit',
          () => {
            const input = (el as HTMLFormElement).elements.namedItem(name!) as HTMLInputElement
            input.type = 'text'
            input.removeAttribute('min')
            input.removeAttribute('max')
            input.value = v!
          },
          { once: true },
        )
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
