import type { Locator, Page } from '@playwright/test'
import { storeRows } from '../support/store-file'
import { TEST_ADMIN } from '../support/server'
import { adminPages, expectMessageBeside, paidOrderId } from './admin-pages'
import { expect, test } from './fixtures'
import { signIn } from './shop'

// Every main admin form, sent with a mistake: everything typed is still there afterwards, the
// message sits under the field it is about (aria-describedby, aria-invalid), and nothing is
// written. With JavaScript (useActionState) and without (the browser posts the form).

const run = Date.now().toString(36).toUpperCase()

/** Fills each field (a text box, a select by value, a checkbox by true) and returns a check that all still hold it. */
async function fillAll(fields: [Locator, string | boolean][]): Promise<() => Promise<void>> {
  for (const [field, value] of fields) {
    if (typeof value === 'boolean') await field.setChecked(value)
    else if ((await field.evaluate((el) => el.tagName)) === 'SELECT') await field.selectOption(value)
    else await field.fill(value)
  }
  return async () => {
    for (const [field, value] of fields) {
      if (typeof value === 'boolean') await (value ? expect(field).toBeChecked() : expect(field).not.toBeChecked())
      else await expect(field).toHaveValue(value)
    }
  }
}

async function newProductForm(page: Page, price: string) {
  await page.goto('/admin/products/new')
  return fillAll([
    [page.getByLabel('Title', { exact: true }), `Harbour Mug ${run}`],
    [page.getByLabel('Description', { exact: true }), 'Stoneware, glazed inside.\nHolds a pint.'],
    [page.getByLabel('Status'), 'draft'],
    [page.getByLabel('Featured on the home page'), true],
    [page.getByLabel(/Tax code/), 'txcd_99999999'],
    [page.locator('#v0-sku'), `HM-${run}-C`],
    [page.locator('#v0-price'), '18.00'],
    [page.locator('#v0-stock'), '5'],
    [page.locator('#v0-vtitle'), 'Cream mug'],
    [page.locator('#v0-options'), 'Colour: Cream, Size: M'],
    [page.locator('#v1-sku'), `HM-${run}-N`],
    [page.locator('#v1-price'), price],
    [page.locator('#v1-stock'), '4'],
    [page.locator('#v1-options'), 'Colour=Navy, Size=M'],
  ])
}

test('the new-product form keeps every field after a refusal, the options in the storefront format are accepted', async ({ page, server }) => {
  await signIn(page)
  const db = storeRows(server.storageDir)
  const products = async () => (await db.get<{ n: number }>('SELECT count(*) AS n FROM products'))!.n
  const before = await products()

  const stillThere = await newProductForm(page, '18,5x')
  await page.getByRole('button', { name: 'Create product' }).click()
  await expectMessageBeside(page, page.locator('#v1-price'), /Variant 2:.*price/)
  await stillThere()
  await expect(page.getByTestId('flash-error')).toContainText('Variant 2')
  expect(await products()).toBe(before)

  // the options hint is whole, under the field, at a phone's width and a desk's
  for (const width of [390, 1280]) {
    await page.setViewportSize({ width, height: 900 })
    const hint = page.locator('#v0-options-hint')
    await expect(hint).toBeVisible()
    await expect(hint).toContainText('Colour: Cream, Size: M')
    expect(await hint.evaluate((el) => el.scrollWidth <= el.clientWidth && el.getBoundingClientRect().right <= document.documentElement.clientWidth)).toBe(true)
    await expect(page.locator('#v0-options')).toHaveAttribute('aria-describedby', /v0-options-hint/)
    await expect(page.locator('#v0-options')).not.toHaveAttribute('placeholder')
  }

  // corrected, it is created with both option formats read the same way
  await page.locator('#v1-price').fill('19.50')
  await page.getByRole('button', { name: 'Create product' }).click()
  await expect(page).toHaveURL(/\/admin\/products\/\d+\?notice=/)
  // the options as stored text on both engines (PostgreSQL's driver would parse a json column)
  const rows = await db.all<{ sku: string; options: string; priceCents: number; stock: number }>('SELECT sku, CAST(options AS TEXT) AS options, price_cents AS "priceCents", stock FROM variants WHERE sku LIKE ? ORDER BY sku', `HM-${run}-%`)
  expect(rows.map((r) => ({ ...r, options: JSON.parse(r.options) as unknown }))).toEqual([
    { sku: `HM-${run}-C`, options: { Colour: 'Cream', Size: 'M' }, priceCents: 1800, stock: 5 },
    { sku: `HM-${run}-N`, options: { Colour: 'Navy', Size: 'M' }, priceCents: 1950, stock: 4 },
  ])
  // and the edit form shows them as the storefront does
  await expect(page.locator('input[id$="-options"]').first()).toHaveValue('Colour: Cream, Size: M')
  await db.close()
})

test('without JavaScript the refused new-product form comes back filled in, with its messages', async ({ browser, server }) => {
  const context = await browser.newContext({ baseURL: server.url, javaScriptEnabled: false })
  const page = await context.newPage()
  await page.goto('/admin/sign-in')
  await page.getByLabel('Email').fill(TEST_ADMIN.email)
  await page.getByLabel('Password').fill('not the password')
  await page.getByRole('button', { name: 'Sign in' }).click()
  await expect(page.getByTestId('flash-error')).toContainText('do not match')
  await expect(page.getByLabel('Email')).toHaveValue(TEST_ADMIN.email)
  await expect(page.getByLabel('Password')).toHaveValue('')
  await page.getByLabel('Password').fill(TEST_ADMIN.password)
  await page.getByRole('button', { name: 'Sign in' }).click()
  await expect(page).toHaveURL(/\/admin$/)
  // on a phone the admin menu is folded, and opens without a script
  await page.setViewportSize({ width: 390, height: 844 })
  await expect(page.getByRole('navigation', { name: 'Admin' })).toBeHidden()
  await page.getByText('Admin menu').click()
  await expect(page.getByRole('navigation', { name: 'Admin' }).getByRole('link', { name: 'Orders' })).toBeVisible()

  const stillThere = await newProductForm(page, '-3')
  await page.locator('#v0-options').fill('Cream')
  await page.getByRole('button', { name: 'Create product' }).click()
  await expectMessageBeside(page, page.locator('#v0-options'), /Colour: Cream/)
  await expectMessageBeside(page, page.locator('#v1-price'), /Variant 2: the price must be digits.*no minus sign/)
  await page.locator('#v0-options').fill('Colour: Cream, Size: M')
  await stillThere()
  await context.close()
})

test('every other admin form keeps what was typed and puts the message beside the field', async ({ page, browser, server }) => {
  test.setTimeout(180_000)
  const orderId = await paidOrderId(browser, server)
  await signIn(page)
  const db = storeRows(server.storageDir)
  const productUrl = (await adminPages(server, orderId)).find(([name]) => name === 'product')![1]
  const productId = Number(productUrl.split('/').pop())
  const variant = (await db.get<{ id: number; sku: string }>('SELECT id, sku FROM variants WHERE product_id = ? ORDER BY id LIMIT 1', productId))!

  // product edit: a bad tax code
  await page.goto(productUrl)
  const form = page.getByTestId('product-form')
  let stillThere = await fillAll([
    [form.getByLabel('Title', { exact: true }), `Renamed ${run}`],
    [form.getByLabel('Description', { exact: true }), 'A new description'],
    [form.getByLabel('Status'), 'draft'],
    [form.getByLabel(/Tax code/), 'txcd_12'],
  ])
  await form.getByRole('button', { name: 'Save product' }).click()
  await expectMessageBeside(page, form.getByLabel(/Tax code/), /txcd_99999999/)
  await stillThere()
  expect((await db.get<{ title: string }>('SELECT title FROM products WHERE id = ?', productId))!.title).not.toBe(`Renamed ${run}`)

  // a variant's edit row: options that are not pairs
  const variantForm = page.getByTestId('variant-form').filter({ has: page.locator(`[id="var${variant.id}-sku"]`) })
  stillThere = await fillAll([
    [variantForm.locator(`#var${variant.id}-price`), '99.99'],
    [variantForm.locator(`#var${variant.id}-vtitle`), 'Renamed variant'],
    [variantForm.locator(`#var${variant.id}-options`), 'just words'],
  ])
  await variantForm.getByRole('button', { name: /Save variant/ }).click()
  await expectMessageBeside(page, variantForm.locator(`#var${variant.id}-options`), /Colour: Cream/)
  await stillThere()

  // adding a variant: a SKU another product has
  const other = (await db.get<{ sku: string }>('SELECT sku FROM variants WHERE product_id <> ? LIMIT 1', productId))!.sku
  const addForm = page.getByTestId('new-variant-form')
  stillThere = await fillAll([
    [addForm.locator('#new-sku'), other],
    [addForm.locator('#new-price'), '12.00'],
    [addForm.locator('#new-stock'), '3'],
    [addForm.locator('#new-options'), 'Colour: Sand'],
  ])
  await addForm.getByRole('button', { name: 'Add variant' }).click()
  await expectMessageBeside(page, addForm.locator('#new-sku'), /already used/)
  await stillThere()

  // the stock form on the product page: a change that is not a number
  const stockRow = page.locator(`[data-testid="variant-stock-row"][data-sku="${variant.sku}"]`)
  stillThere = await fillAll([
    [stockRow.getByLabel('Change'), 'lots'],
    [stockRow.getByLabel('Why'), 'delivery from the potter'],
  ])
  await stockRow.getByRole('button', { name: 'Apply' }).click()
  await expectMessageBeside(page, stockRow.getByLabel('Change'), /whole number/)
  await stillThere()

  // inventory: a change that would go below zero, and no reason
  await page.goto('/admin/inventory')
  const inventoryRow = page.getByTestId('inventory-row').first()
  stillThere = await fillAll([[inventoryRow.getByLabel('Change'), '-100000']])
  await inventoryRow.getByRole('button', { name: 'Apply' }).click()
  await expectMessageBeside(page, inventoryRow.getByLabel('Why'), /Say why/)
  await stillThere()
  stillThere = await fillAll([[inventoryRow.getByLabel('Why'), 'counted']])
  await inventoryRow.getByRole('button', { name: 'Apply' }).click()
  await expectMessageBeside(page, inventoryRow.getByLabel('Change'), /below zero/)
  await stillThere()

  // collections: a bad address
  await page.goto('/admin/collections')
  const collection = page.getByTestId('new-collection-form')
  stillThere = await fillAll([
    [collection.getByLabel('Title'), `Harbour ${run}`],
    [collection.getByLabel(/Address/), 'Not An Address!'],
    [collection.getByLabel('Description'), 'Things for the quay'],
    [collection.getByLabel('Featured on the home page'), true],
  ])
  await collection.getByRole('button', { name: 'Create collection' }).click()
  await expectMessageBeside(page, collection.getByLabel(/Address/), /lowercase letters/)
  await stillThere()

  // discounts: a percentage over 100
  await page.goto('/admin/discounts')
  const promo = page.getByTestId('promotion-form')
  stillThere = await fillAll([
    [promo.getByLabel(/Code shoppers type/), `QUAY-${run}`],
    [promo.getByLabel('Discount type'), 'percent'],
    [promo.getByLabel('Percentage or amount off'), '120'],
    [promo.getByLabel(/Last day/), '2031-05-31'],
    [promo.getByLabel(/Redemption limit/), '7'],
    [promo.getByLabel(/Minimum order/), '40.00'],
    [promo.getByLabel(/First order only/), true],
  ])
  await promo.getByRole('button', { name: 'Create promotion code' }).click()
  await expectMessageBeside(page, promo.getByLabel('Percentage or amount off'), /percentage from 0.01 to 100/)
  await stillThere()

  // the order: a tracking number with characters it cannot have, then a refund of nothing
  await page.goto(`/admin/orders/${orderId}`)
  const fulfil = page.getByTestId('fulfil-form')
  stillThere = await fillAll([
    [fulfil.getByLabel('Carrier'), 'Harbour Post'],
    [fulfil.getByLabel('Tracking number'), 'HP<123>'],
  ])
  await fulfil.getByRole('button', { name: /Mark fulfilled/ }).click()
  await expectMessageBeside(page, fulfil.getByLabel('Tracking number'), /letters, digits/)
  await stillThere()
  const refund = page.getByTestId('refund-form')
  stillThere = await fillAll([
    [refund.getByLabel(/^Amount/), 'all of it'],
    [refund.getByLabel('Put units back in stock'), true],
    [refund.getByLabel(/Units of .* to restock/).first(), '1'],
  ])
  await refund.getByRole('button', { name: 'Refund through Stripe' }).click()
  await expectMessageBeside(page, refund.getByLabel(/^Amount/), /amount to refund/)
  await stillThere()
  expect(await db.get('SELECT status, refunded_cents AS "refundedCents" FROM orders WHERE id = ?', orderId)).toEqual({ status: 'paid', refundedCents: 0 })

  // account: the two new passwords differ; no password comes back to the page
  await page.goto('/admin/account')
  await page.getByLabel('Current password').fill(TEST_ADMIN.password)
  await page.getByLabel(/^New password \(/).fill('a brand new password')
  await page.getByLabel('New password again').fill('a different password')
  await page.getByRole('button', { name: 'Change password' }).click()
  await expectMessageBeside(page, page.getByLabel('New password again'), /differ/)
  for (const label of ['Current password', /^New password \(/, 'New password again']) await expect(page.getByLabel(label)).toHaveValue('')
  expect(await page.content()).not.toContain('a brand new password')
  await db.close()
})
