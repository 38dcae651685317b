import { storeRows } from '../support/store-file'
import { expectMessageBeside } from './admin-pages'
import { expect, hydrated, test } from './fixtures'
import { signIn } from './shop'

// Bulk prices and stock in Chromium against the production build: a bad price is refused
// beside its field with everything typed kept and nothing saved; fixed, the save applies the
// price and the stock as a change from what the page showed, so a sale made meanwhile stays.

const run = Date.now().toString(36).toUpperCase()

test('the owner edits prices and stock from the products list; a bad price keeps what was typed, a sale meanwhile is kept', async ({ page, server }) => {
  test.setTimeout(120_000)
  const db = storeRows(server.storageDir)
  // a draft product of this test's own, so no other spec's figures move
  const productId = (await db.get<{ id: number }>(`INSERT INTO products (slug, title, description, status) VALUES (?, ?, 'Bulk test.', 'draft') RETURNING id`, `bulk-${run.toLowerCase()}`, `Bulk Lamp ${run}`))!.id
  const insert = async (sku: string, title: string, priceCents: number, stock: number, position: number) =>
    (await db.get<{ id: number }>(`INSERT INTO variants (product_id, sku, title, price_cents, stock, position) VALUES (?, ?, ?, ?, ?, ?) RETURNING id`, productId, sku, title, priceCents, stock, position))!.id
  const small = await insert(`BULK-${run}-S`, 'Small', 1500, 10, 0)
  const large = await insert(`BULK-${run}-L`, 'Large', 2500, 4, 1)
  const row = async (id: number) => (await db.get<{ priceCents: number; stock: number }>('SELECT price_cents AS "priceCents", stock FROM variants WHERE id = ?', id))!

  await signIn(page)
  await page.goto('/admin/products')
  await page.getByRole('link', { name: 'Edit prices and stock' }).click()
  await expect(page).toHaveURL(/\/admin\/products\/bulk$/)
  await page.getByLabel('Product or SKU').fill(`BULK-${run}`)
  await page.getByRole('button', { name: 'Find' }).click()
  await expect(page.getByTestId('bulk-row')).toHaveCount(2)
  await hydrated(page, 'bulk-form')
  // the page shows what the database holds
  await expect(page.getByLabel(`Price of BULK-${run}-S`)).toHaveValue('15.00')
  await expect(page.getByLabel(`Stock of BULK-${run}-L`)).toHaveValue('4')

  const smallPrice = page.getByLabel(`Price of BULK-${run}-S`)
  const largeStock = page.getByLabel(`Stock of BULK-${run}-L`)
  await smallPrice.fill('16,50')
  await largeStock.fill('9')
  await page.getByRole('button', { name: 'Save prices and stock' }).click()
  await expectMessageBeside(page, smallPrice, `The price of SKU BULK-${run}-S has a comma`)
  await expect(smallPrice).toHaveValue('16,50')
  await expect(largeStock).toHaveValue('9')
  expect(await row(small)).toEqual({ priceCents: 1500, stock: 10 })
  expect(await row(large)).toEqual({ priceCents: 2500, stock: 4 })

  // one Large sells while the page is open: the owner added 5 to the 4 they saw, so 8 remain
  await db.run('UPDATE variants SET stock = stock - 1 WHERE id = ?', large)
  await smallPrice.fill('16.50')
  await page.getByRole('button', { name: 'Save prices and stock' }).click()
  await expect(page.getByTestId('flash-notice')).toContainText('Saved 1 price and 1 stock change.')
  expect(await row(small)).toEqual({ priceCents: 1650, stock: 10 })
  expect(await row(large)).toEqual({ priceCents: 2500, stock: 8 })
  expect(await db.all(`SELECT delta, stock_after AS "stockAfter", reason FROM stock_ledger WHERE variant_id = ?`, large)).toEqual([{ delta: 5, stockAfter: 8, reason: 'adjust' }])

  // the product's own page shows the new figures
  await page.goto(`/admin/products/${productId}`)
  await expect(page.locator(`#var${small}-price`)).toHaveValue('16.50')
  await expect(page.locator('main')).toContainText(`BULK-${run}-L`)
  await page.goto(`/admin/products/bulk?q=BULK-${run}`)
  await expect(page.getByLabel(`Stock of BULK-${run}-L`)).toHaveValue('8')
  await db.close()
})

// Paging through many prices, or any link out of the page, must not drop what was typed
// without asking: the form asks before a link leaves, and the browser asks before a reload.
test('leaving the bulk form with unsaved edits asks first; dismissing keeps them, a clean form leaves without asking', async ({ page }) => {
  test.setTimeout(120_000)
  const questions: { type: string; message: string }[] = []
  let answer: 'accept' | 'dismiss' = 'dismiss'
  page.on('dialog', (dialog) => {
    questions.push({ type: dialog.type(), message: dialog.message() })
    void (answer === 'accept' ? dialog.accept() : dialog.dismiss())
  })
  await signIn(page)
  await page.goto('/admin/products/bulk')
  await hydrated(page, 'bulk-form')
  const next = page.getByRole('navigation', { name: 'Pagination' }).getByRole('link', { name: 'Next' })
  await expect(next).toBeVisible()

  // clean: the next page opens without a question
  await next.click()
  await expect(page).toHaveURL(/page=2/)
  expect(questions).toEqual([])
  await page.goto('/admin/products/bulk')
  await hydrated(page, 'bulk-form')

  const firstPrice = page.getByTestId('bulk-row').first().getByRole('textbox').first()
  const shown = await firstPrice.inputValue()
  await firstPrice.fill('123.45')
  await next.click()
  await expect.poll(() => questions.length).toBe(1)
  expect(questions[0]).toEqual({ type: 'confirm', message: 'This page has changes that are not saved. Leave it and lose them?' })
  await expect(page).not.toHaveURL(/page=2/)
  await expect(firstPrice).toHaveValue('123.45')

  // the browser's own question guards a reload or a closed tab
  await page.close({ runBeforeUnload: true })
  await expect.poll(() => questions.length).toBe(2)
  expect(questions[1]!.type).toBe('beforeunload')
  expect(page.isClosed()).toBe(false)
  await expect(firstPrice).toHaveValue('123.45')

  // put back as shown: nothing to lose, so the link leaves at once
  await firstPrice.fill(shown)
  await next.click()
  await expect(page).toHaveURL(/page=2/)
  expect(questions).toHaveLength(2)

  // a refused save leaves the typed values as the form's defaults: still unsaved, still asked
  await page.goto('/admin/products/bulk')
  await hydrated(page, 'bulk-form')
  await firstPrice.fill('12,50')
  await page.getByRole('button', { name: 'Save prices and stock' }).click()
  await expect(page.getByTestId('flash-error')).toBeVisible()
  await expect(firstPrice).toHaveValue('12,50')
  answer = 'accept'
  await next.click()
  await expect.poll(() => questions.length).toBe(3)
  await expect(page).toHaveURL(/page=2/)
})
