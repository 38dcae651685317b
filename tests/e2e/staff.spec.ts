import type { Page } from '@playwright/test'
import { TEST_ADMIN } from '../support/server'
import { storeRows } from '../support/store-file'
import { expect, test } from './fixtures'
import { addToCartAndCheckout, catalog, fillHostedCheckout, pick, sentMail, signIn } from './shop'

// Staff with roles in Chromium against the production build: the owner sets the staff refund
// limit and invites a colleague by email; the colleague joins from the link, works an order,
// is refused a refund over the limit and every owner-only page; removed, their session ends
// on their next click.

const run = Date.now().toString(36)
const COLLEAGUE = `kim-${run}@till.test`
const PASSWORD = 'a colleague password'

async function signInAs(page: Page, email: string, password: string) {
  await page.goto('/admin/sign-in')
  await page.getByLabel('Email').fill(email)
  await page.getByLabel('Password').fill(password)
  await page.getByRole('button', { name: 'Sign in' }).click()
  await expect(page).toHaveURL(/\/admin$/)
}

test('the owner invites a staff member, who is refused a refund over the limit and the owner-only pages, until removed', async ({ page, server, browser }) => {
  test.setTimeout(240_000)
  await signIn(page)
  await page.getByRole('navigation', { name: 'Admin' }).getByRole('link', { name: 'Staff' }).click()
  await expect(page).toHaveURL(/\/admin\/staff$/)
  await expect(page.locator(`[data-testid="member-row"][data-email="${TEST_ADMIN.email}"]`)).toHaveAttribute('data-role', 'owner')

  // the refund limit: a bad amount is refused and stays typed; then $5.00
  const limitForm = page.getByTestId('refund-limit-form')
  await limitForm.getByLabel(/Largest refund/).fill('five')
  await limitForm.getByRole('button', { name: 'Save limit' }).click()
  await expect(limitForm.getByTestId('field-error')).toContainText('The refund limit must be digits')
  await expect(limitForm.getByLabel(/Largest refund/)).toHaveValue('five')
  await limitForm.getByLabel(/Largest refund/).fill('5.00')
  await limitForm.getByRole('button', { name: 'Save limit' }).click()
  await expect(limitForm.getByRole('status')).toContainText('Refund limit saved')
  await expect(page.getByTestId('refund-limit')).toContainText('$5.00')

  // the invitation: an address without a domain is refused and stays typed
  const invite = page.getByTestId('invite-form')
  await invite.getByLabel('Email').fill(`kim-${run}@localhost`)
  await invite.getByRole('button', { name: 'Send invitation' }).click()
  await expect(invite.getByRole('alert')).toContainText('Enter a valid email address')
  await expect(invite.getByLabel('Email')).toHaveValue(`kim-${run}@localhost`)
  await invite.getByLabel('Email').fill(COLLEAGUE)
  await invite.getByLabel('Role').selectOption('staff')
  await invite.getByRole('button', { name: 'Send invitation' }).click()
  await expect(invite.getByRole('status')).toContainText(`Invitation sent to ${COLLEAGUE}`)
  await expect(page.locator(`[data-testid="invite-row"][data-email="${COLLEAGUE}"]`)).toBeVisible()

  // the email arrives through the job queue with the link
  await expect.poll(() => sentMail(server.storageDir).some((m) => m.text.includes(COLLEAGUE) && /\/admin\/invite\//.test(m.text)), { timeout: 20_000 }).toBe(true)
  const mail = sentMail(server.storageDir).find((m) => m.text.includes(COLLEAGUE) && /\/admin\/invite\//.test(m.text))!
  const link = /https?:\/\/\S+\/admin\/invite\/[A-Za-z0-9_-]+/.exec(mail.text)![0]

  // the colleague, in a browser of their own, chooses a password (typos first)
  const kim = await (await browser.newContext({ baseURL: server.url })).newPage()
  await kim.goto(new URL(link).pathname)
  await expect(kim.getByTestId('invite-email')).toContainText(COLLEAGUE)
  await kim.getByLabel(/^Password \(at least/).fill(PASSWORD)
  await kim.getByLabel('Password again').fill(`${PASSWORD}!`)
  await kim.getByRole('button', { name: 'Join the admin' }).click()
  await expect(kim.getByTestId('accept-invite-form').getByTestId('field-error')).toContainText('The two passwords differ')
  await kim.getByLabel(/^Password \(at least/).fill(PASSWORD)
  await kim.getByLabel('Password again').fill(PASSWORD)
  await kim.getByRole('button', { name: 'Join the admin' }).click()
  await expect(kim).toHaveURL(/\/admin\/sign-in\?notice=/)
  // the link worked once
  await kim.goto(new URL(link).pathname)
  await expect(kim.getByTestId('invite-invalid')).toBeVisible()
  await signInAs(kim, COLLEAGUE, PASSWORD)

  // staff see orders, products and stock, not discounts, staff or operations
  const nav = kim.getByRole('navigation', { name: 'Admin' })
  await expect(nav.getByRole('link', { name: 'Orders' })).toBeVisible()
  await expect(nav.getByRole('link', { name: 'Inventory' })).toBeVisible()
  for (const name of ['Discounts', 'Staff', 'Webhooks', 'Audit log']) await expect(nav.getByRole('link', { name })).toHaveCount(0)
  for (const [path, message] of [
    ['/admin/discounts', 'Only the owner can manage discounts.'],
    ['/admin/staff', 'Only the owner can manage staff.'],
    ['/admin/events', 'Only the owner can see webhooks'],
  ]) {
    await kim.goto(path!)
    await expect(kim).toHaveURL(/\/admin\?error=/)
    await expect(kim.getByTestId('flash-error')).toContainText(message!)
  }

  // a shopper pays for an order
  const shop = await (await browser.newContext({ baseURL: server.url })).newPage()
  const { product, variant } = pick(await catalog(shop.request), 2, { n: 1 })
  await addToCartAndCheckout(shop, product.slug, variant.id, 1)
  await fillHostedCheckout(shop, '4242 4242 4242 4242', { shopper: { email: `buyer-${run}@example.com`, name: 'Ray Buyer', line1: '3 Quay Road' } })
  await expect(shop.getByTestId('order-status')).toHaveAttribute('data-status', 'paid')
  const db = storeRows(server.storageDir)
  const order = (await db.get<{ id: number; totalCents: number }>('SELECT id, total_cents AS "totalCents" FROM orders WHERE email = ?', `buyer-${run}@example.com`))!
  expect(order.totalCents).toBeGreaterThan(500)

  // the staff member refunds more than the limit: refused, nothing sent to Stripe
  await kim.goto(`/admin/orders/${order.id}`)
  await kim.getByLabel(/^Amount/).fill('6.00')
  await kim.getByRole('button', { name: 'Refund through Stripe' }).click()
  await expect(kim.getByTestId('flash-error')).toContainText('Refunds above $5.00 need the owner.')
  expect((await db.get<{ n: number }>(`SELECT count(*) AS n FROM audit_log WHERE action = 'order.refund' AND subject = ?`, `order:${order.id}`))!.n).toBe(0)
  // within the limit it goes through, and the audit log names the staff member
  await kim.getByLabel(/^Amount/).fill('5.00')
  await kim.getByRole('button', { name: 'Refund through Stripe' }).click()
  await expect(kim.getByTestId('flash-notice')).toContainText('Refund of $5.00')
  expect(await db.get(`SELECT admin_email AS email FROM audit_log WHERE action = 'order.refund' AND subject = ?`, `order:${order.id}`)).toEqual({ email: COLLEAGUE })

  // the packing slip: the address and the lines, no prices; on paper the slip alone
  await kim.getByRole('link', { name: 'Packing slip' }).click()
  await expect(kim).toHaveURL(new RegExp(`/admin/orders/${order.id}/packing-slip$`))
  const lines = await db.all<{ title: string; quantity: number; sku: string }>('SELECT title, quantity, sku FROM order_lines WHERE order_id = ?', order.id)
  await expect(kim.getByTestId('slip-line')).toHaveCount(lines.length)
  for (const line of lines) await expect(kim.getByTestId('slip-line').filter({ hasText: line.sku })).toContainText(`${line.quantity}${line.title}`)
  await expect(kim.getByTestId('slip-address')).toContainText('3 Quay Road')
  await expect(kim.getByTestId('packing-slip')).not.toContainText('$')
  await kim.emulateMedia({ media: 'print' })
  await expect(kim.getByTestId('print-slip')).toBeHidden()
  await expect(kim.getByRole('navigation', { name: 'Admin' })).toBeHidden()
  await expect(kim.getByRole('heading', { name: /Packing slip #/ })).toBeVisible()
  await kim.emulateMedia({ media: 'screen' })

  // the owner makes them an owner, then staff again: each holds from their next request
  await page.goto('/admin/staff')
  const kimRow = page.locator(`[data-testid="member-row"][data-email="${COLLEAGUE}"]`)
  await page.getByRole('button', { name: `Make ${COLLEAGUE} an owner` }).click()
  await expect(page.getByTestId('flash-notice')).toContainText('Now an owner')
  await expect(kimRow).toHaveAttribute('data-role', 'owner')
  await kim.goto('/admin')
  await expect(nav.getByRole('link', { name: 'Staff' })).toBeVisible()
  await page.getByRole('button', { name: `Make ${COLLEAGUE} staff` }).click()
  await expect(page.getByTestId('flash-notice')).toContainText('Now staff')
  await expect(kimRow).toHaveAttribute('data-role', 'staff')
  await kim.goto('/admin')
  await expect(nav.getByRole('link', { name: 'Orders' })).toBeVisible()
  await expect(nav.getByRole('link', { name: 'Staff' })).toHaveCount(0)

  // the owner removes them; their very next request leads to sign-in
  await page.getByRole('button', { name: `Remove ${COLLEAGUE}` }).click()
  await expect(page.getByTestId('flash-notice')).toContainText('Removed; their sessions have ended.')
  await expect(page.locator(`[data-testid="member-row"][data-email="${COLLEAGUE}"]`)).toHaveCount(0)
  await kim.goto('/admin/orders')
  await expect(kim).toHaveURL(/\/admin\/sign-in/)
  await kim.getByLabel('Email').fill(COLLEAGUE)
  await kim.getByLabel('Password').fill(PASSWORD)
  await kim.getByRole('button', { name: 'Sign in' }).click()
  await expect(kim.getByTestId('flash-error')).toContainText('do not match')

  // the audit log names each person
  await page.goto('/admin/audit')
  const logged = await db.all(`SELECT action, admin_email AS email FROM audit_log WHERE action LIKE 'staff.%' OR action = 'settings.staff_refund_limit' ORDER BY id`)
  expect(logged).toEqual([
    { action: 'settings.staff_refund_limit', email: TEST_ADMIN.email },
    { action: 'staff.invite', email: TEST_ADMIN.email },
    { action: 'staff.join', email: COLLEAGUE },
    { action: 'staff.role', email: TEST_ADMIN.email },
    { action: 'staff.role', email: TEST_ADMIN.email },
    { action: 'staff.remove', email: TEST_ADMIN.email },
  ])
  await expect(page.getByText('staff.remove').first()).toBeVisible()
  await db.close()
})
