import { expect, test, type Page } from '@playwright/test'
import { TEST_ADMIN } from '../support/server'
import { storeRows } from '../support/store-file'
import { ownServer } from './fixtures'

// The catalog import in Chromium against the production build: the owner exports the
// catalog, edits it, uploads a file with mistakes and reads each by row and column, fixes
// it, previews and applies it; the shop shows the change, and the same file again changes
// nothing. Its own server, since it changes the catalog other tests read.

const ownedServer = ownServer()

const run = Date.now().toString(36)

async function upload(page: Page, name: string, csv: string) {
  await page.goto('/admin/import')
  await page.getByLabel(/CSV file/).setInputFiles({ name, mimeType: 'text/csv', buffer: Buffer.from(csv) })
  await page.getByRole('button', { name: 'Preview the import' }).click()
  await expect(page).toHaveURL(/\/admin\/import\/\d+$/)
}

test('import a file with errors, fix it, apply it, and apply it again to no effect', async ({ browser }) => {
  test.setTimeout(180_000)
  const page = await (await browser.newContext({ baseURL: ownedServer().url })).newPage()
  await page.goto('/admin/sign-in')
  await page.getByLabel('Email').fill(TEST_ADMIN.email)
  await page.getByLabel('Password').fill(TEST_ADMIN.password)
  await page.getByRole('button', { name: 'Sign in' }).click()
  await expect(page).toHaveURL(/\/admin$/)
  await page.getByRole('navigation', { name: 'Admin' }).getByRole('link', { name: 'Import' }).click()

  // the export, as the owner downloads it
  const download = await page.request.get('/admin/products/export')
  expect(download.status()).toBe(200)
  expect(download.headers()['content-type']).toMatch(/text\/csv/)
  expect(download.headers()['cache-control']).toMatch(/no-store/)
  const exported = await download.text()
  const db = storeRows(ownedServer().storageDir)
  const skus = (await db.all<{ sku: string }>('SELECT sku FROM variants')).map((v) => v.sku)
  expect(exported.split('\n')[0]).toBe('product_slug,product_title,description,status,featured,tax_code,collections,sku,variant_title,options,price,stock')
  for (const sku of skus) expect(exported).toContain(`,${sku},`)

  // one price changed, one product added — with three mistakes
  const target = (await db.get<{ sku: string; priceCents: number }>('SELECT v.sku, v.price_cents AS "priceCents" FROM variants v ORDER BY v.id LIMIT 1'))!
  const collection = (await db.get<{ slug: string }>('SELECT slug FROM collections ORDER BY id LIMIT 1'))!.slug
  const newPrice = ((target.priceCents + 100) / 100).toFixed(2)
  // the price is the row's second-last cell, after the SKU, its title and options
  const priced = new RegExp(`(,${target.sku},[^\\n]*,)(\\d+\\.\\d{2})(,\\d+\\n)`)
  expect(exported).toMatch(priced)
  const edited = exported.replace(priced, `$1${newPrice}$3`).trimEnd().split('\n')
  const slug = `imported-lamp-${run}`
  const wrong = [...edited, `${slug},Imported lamp,A lamp from a file.,active,0,,no-such-collection,${target.sku},Default,,ten,5`].join('\n') + '\n'
  await upload(page, 'catalog-with-mistakes.csv', wrong)
  const newRow = skus.length + 2
  const errors = page.getByTestId('import-error')
  await expect(page.getByTestId('import-summary')).toHaveAttribute('data-errors', '3')
  await expect(errors.and(page.locator(`[data-row="${newRow}"][data-column="collections"]`))).toContainText('Unknown collection “no-such-collection”')
  await expect(errors.and(page.locator(`[data-row="${newRow}"][data-column="sku"]`))).toContainText(new RegExp(`Duplicate SKU ${target.sku}: also on row \\d+`))
  await expect(errors.and(page.locator(`[data-row="${newRow}"][data-column="price"]`))).toContainText('The price “ten” must be digits')
  await expect(page.getByRole('button', { name: 'Apply the import' })).toHaveCount(0)
  expect(await db.get('SELECT count(*) AS n FROM products WHERE slug = ?', slug)).toEqual({ n: 0 })

  // fixed: the preview says what will happen, and applying does it
  const fixed = [...edited, `${slug},Imported lamp,A lamp from a file.,active,0,,${collection},LAMP-${run},Default,,12.50,5`].join('\n') + '\n'
  await upload(page, 'catalog.csv', fixed)
  await expect(page.getByTestId('import-summary')).toHaveAttribute('data-errors', '0')
  await expect(page.getByTestId('import-products')).toHaveAttribute('data-created', '1')
  await expect(page.getByTestId('import-variants')).toHaveAttribute('data-created', '1')
  await expect(page.getByTestId('import-variants')).toHaveAttribute('data-changed', '1')
  await expect(page.locator(`[data-testid="import-row"][data-sku="${target.sku}"]`)).toHaveAttribute('data-outcome', 'changed')
  await page.getByRole('button', { name: 'Apply the import' }).click()
  await expect(page.getByTestId('flash-notice')).toContainText('Applied: 1 products created, 0 changed; 1 variants created, 1 changed; 1 stock changes')
  expect(await db.get('SELECT price_cents AS p FROM variants WHERE sku = ?', target.sku)).toEqual({ p: target.priceCents + 100 })
  expect(await db.all(`SELECT l.delta, l.reason FROM stock_ledger l JOIN variants v ON v.id = l.variant_id WHERE v.sku = ?`, `LAMP-${run}`)).toEqual([{ delta: 5, reason: 'import' }])
  const shop = await (await browser.newContext({ baseURL: ownedServer().url })).newPage()
  await shop.goto(`/products/${slug}`)
  await expect(shop.getByRole('heading', { name: 'Imported lamp' })).toBeVisible()

  // the same file again: all unchanged, and applying writes nothing
  const before = await db.get('SELECT (SELECT count(*) FROM stock_ledger) AS ledger, (SELECT count(*) FROM audit_log) AS audit, (SELECT count(*) FROM variants) AS variants')
  await upload(page, 'catalog.csv', fixed)
  await expect(page.getByTestId('import-variants')).toHaveAttribute('data-created', '0')
  await expect(page.getByTestId('import-variants')).toHaveAttribute('data-changed', '0')
  await expect(page.getByTestId('import-products')).toHaveAttribute('data-changed', '0')
  await page.getByRole('button', { name: 'Apply the import' }).click()
  await expect(page.getByTestId('flash-notice')).toContainText('Applied: 0 products created, 0 changed; 0 variants created, 0 changed; 0 stock changes')
  expect(await db.get('SELECT (SELECT count(*) FROM stock_ledger) AS ledger, (SELECT count(*) FROM audit_log) AS audit, (SELECT count(*) FROM variants) AS variants')).toEqual(before)
  await db.close()
})
