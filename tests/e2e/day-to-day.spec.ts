import type { Browser } from '@playwright/test'
import type { ServerHandle } from '../support/server'
import { storeRows } from '../support/store-file'
import { expect, hydrated, test } from './fixtures'
import { addToCartAndCheckout, catalog, fillHostedCheckout, pick, sentMail, signIn } from './shop'

// The owner's day-to-day tools on one order in Chromium against the production build: notes
// for the shop only (refused when too long, kept as typed, escaped, never on the shopper's
// page) and the confirmation email sent again, once per click.

const run = Date.now().toString(36)

/** A shopper pays for one unit; their page (on its own order status) and the order's id. */
async function paidOrder(browser: Browser, server: ServerHandle, email: string, name: string) {
  const shop = await (await browser.newContext({ baseURL: server.url })).newPage()
  const { product, variant } = pick(await catalog(shop.request), 2, { n: 1 })
  await addToCartAndCheckout(shop, product.slug, variant.id, 1)
  await fillHostedCheckout(shop, '4242 4242 4242 4242', { shopper: { email, name, line1: '5 Pier Lane' } })
  await expect(shop.getByTestId('order-status')).toHaveAttribute('data-status', 'paid')
  const db = storeRows(server.storageDir)
  const order = (await db.get<{ id: number }>('SELECT id FROM orders WHERE email = ?', email))!
  return { shop, db, order }
}

test('notes on an order stay in the admin; the confirmation email goes again, once per click', async ({ page, server, browser }) => {
  test.setTimeout(240_000)
  const buyer = `notes-${run}@example.com`
  const { shop, db, order } = await paidOrder(browser, server, buyer, 'Noor Notes')
  const confirmations = () => sentMail(server.storageDir).filter((m) => m.file.startsWith(`order-${order.id}-confirmation`) && m.text.includes(`To: ${buyer}`)).length
  await expect.poll(confirmations, { timeout: 20_000 }).toBe(1)

  await signIn(page)
  await page.goto(`/admin/orders/${order.id}`)
  await hydrated(page, 'note-form')
  // too long: refused with a message, and what was typed is still there
  const long = 'x'.repeat(2001)
  await page.getByTestId('note-form').getByLabel('New note').evaluate((el, text) => {
    const area = el as HTMLTextAreaElement
    area.removeAttribute('maxlength')
    area.value = text
  }, long)
  await page.getByRole('button', { name: 'Add note' }).click()
  await expect(page.getByTestId('note-form').getByTestId('field-error')).toContainText('at most 2000 characters')
  await expect(page.getByTestId('note-form').getByLabel('New note')).toHaveValue(long)
  // two notes, the second with markup that must show as text
  await page.getByTestId('note-form').getByLabel('New note').fill('Customer called: ship Monday.')
  await page.getByRole('button', { name: 'Add note' }).click()
  await expect(page.getByTestId('flash-notice')).toContainText('Note added')
  await page.getByTestId('note-form').getByLabel('New note').fill('<b>fragile</b>')
  await page.getByRole('button', { name: 'Add note' }).click()
  await expect(page.getByTestId('note')).toHaveCount(2)
  const stored = await db.all<{ body: string; email: string }>('SELECT body, admin_email AS email FROM order_notes WHERE order_id = ? ORDER BY id', order.id)
  expect(stored.map((n) => n.body)).toEqual(['Customer called: ship Monday.', '<b>fragile</b>'])
  await expect(page.getByTestId('notes-count')).toHaveText(`(${stored.length})`)
  await expect(page.getByTestId('note').nth(1)).toContainText('<b>fragile</b>')
  await expect(page.getByTestId('note').first()).toContainText(stored[0]!.email)
  // the shopper's own order page shows none of it
  await shop.reload()
  await expect(shop.getByTestId('order-status')).toBeVisible()
  await expect(shop.locator('body')).not.toContainText('ship Monday')
  await expect(shop.locator('body')).not.toContainText('fragile')

  // resend: a second .eml lands, the timeline says so, and the audit counts one per click
  await page.getByRole('button', { name: 'Resend the confirmation email' }).click()
  await expect(page.getByTestId('flash-notice')).toContainText('on its way again')
  await expect.poll(confirmations, { timeout: 20_000 }).toBe(2)
  await expect(page.getByTestId('timeline')).toContainText('order.resend_confirmation')
  expect((await db.get<{ n: number }>(`SELECT count(*) AS n FROM audit_log WHERE action = 'order.resend_confirmation' AND subject = ?`, `order:${order.id}`))!.n).toBe(1)
  expect(sentMail(server.storageDir).filter((m) => m.text.includes(`To: ${buyer}`)).every((m) => !m.text.includes('ship Monday'))).toBe(true)
  await db.close()
})

test('a double-sent resend form queues one email', async ({ page, server, browser }) => {
  test.setTimeout(240_000)
  const { db, order } = await paidOrder(browser, server, `resend-${run}@example.com`, 'Rae Resend')
  await signIn(page)
  // the same rendered form sent twice, as a plain post would (a double click, a replay): one email
  await page.goto(`/admin/orders/${order.id}`)
  const fields = await page.getByTestId('resend-form').evaluate((form) => [...new FormData(form as HTMLFormElement).entries()].map(([k, v]) => [k, String(v)] as [string, string]))
  expect(fields.some(([k]) => k === 'nonce')).toBe(true)
  for (let i = 0; i < 2; i++) {
    const res = await page.request.post(`/admin/orders/${order.id}`, { multipart: Object.fromEntries(fields), headers: { origin: server.url }, maxRedirects: 0 })
    expect(res.status()).toBe(303)
  }
  const jobs = async () => (await db.get<{ n: number }>(`SELECT count(*) AS n FROM jobs WHERE kind = 'mail.order_confirmation' AND payload ->> 'orderId' = ? AND payload ->> 'resend' IS NOT NULL`, order.id))!.n
  expect(await jobs()).toBe(1)
  expect((await db.get<{ n: number }>(`SELECT count(*) AS n FROM audit_log WHERE action = 'order.resend_confirmation' AND subject = ?`, `order:${order.id}`))!.n).toBe(1)
  await db.close()
})
