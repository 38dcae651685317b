import { storeRows } from '../support/store-file'
import { expect, hydrated, test } from './fixtures'
import { signIn } from './shop'

// Two tabs editing one product: the first save wins, the second is told the product changed
// since its form was drawn, keeps what was typed, and saves nothing (lib/products.ts compares
// the version the form carries).

test('a product form drawn before another save is refused with a message, keeping what was typed', async ({ page, context, server }) => {
  await signIn(page)
  const db = storeRows(server.storageDir)
  const { id } = (await db.get<{ id: number }>(`SELECT id FROM products WHERE status = 'active' ORDER BY id LIMIT 1`))!
  const other = await context.newPage()
  for (const tab of [page, other]) {
    await tab.goto(`/admin/products/${id}`)
    await hydrated(tab, 'product-form')
  }

  const first = page.getByTestId('product-form')
  await first.getByLabel('Title', { exact: true }).fill('Saved in the first tab')
  await first.getByRole('button', { name: 'Save product' }).click()
  await expect(page.getByText('Saved.')).toBeVisible()

  const second = other.getByTestId('product-form')
  await second.getByLabel('Title', { exact: true }).fill('Typed in the second tab')
  await second.getByRole('button', { name: 'Save product' }).click()
  await expect(other.getByTestId('flash-error')).toContainText('changed this product after you opened it')
  await expect(second.getByLabel('Title', { exact: true })).toHaveValue('Typed in the second tab')
  expect((await db.get<{ title: string }>('SELECT title FROM products WHERE id = ?', id))!.title).toBe('Saved in the first tab')

  // reloaded, the form carries the new version and saves
  await other.reload()
  await hydrated(other, 'product-form')
  await second.getByLabel('Title', { exact: true }).fill('Saved after a reload')
  await second.getByRole('button', { name: 'Save product' }).click()
  await expect(other.getByText('Saved.')).toBeVisible()
  expect((await db.get<{ title: string }>('SELECT title FROM products WHERE id = ?', id))!.title).toBe('Saved after a reload')
})
