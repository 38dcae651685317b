import { expect, test, type Browser, type Page } from '@playwright/test'
import { storeRows } from '../support/store-file'
import { startServer, TEST_ADMIN, type ServerHandle } from '../support/server'
import { addToCartAndCheckout } from './shop'

// A digital product from end to end on its own server (links allow two downloads here): the
// owner uploads the file, a shopper buys it on the emulator's checkout page without being
// asked for an address, downloads it from the order page, and the link stops at its limit;
// a second order's link stops when the owner refunds it.

let server: ServerHandle
test.beforeAll(async () => {
  test.setTimeout(120_000)
  server = await startServer({ env: { DOWNLOAD_LIMIT: '2' } })
})
test.afterAll(async () => {
  await server?.stop()
})

const FILE = { name: 'Field guide.pdf', mimeType: 'application/pdf', buffer: Buffer.from('%PDF-1.4 a field guide to the harbour birds\n') }

async function pageAt(browser: Browser): Promise<Page> {
  return (await browser.newContext({ baseURL: server.url, acceptDownloads: true })).newPage()
}

/** Buys one of the variant as `email` on the emulator's page; the order's id and public token. */
async function buy(browser: Browser, product: { slug: string; variantId: number }, email: string) {
  const shop = await pageAt(browser)
  await addToCartAndCheckout(shop, product.slug, product.variantId, 1)
  await expect(shop).toHaveURL(/\/emulator\/checkout\/cs_/)
  // nothing to ship: no address asked, no shipping method offered
  await expect(shop.getByLabel('Address line 1')).toHaveCount(0)
  await expect(shop.getByText('Shipping method')).toHaveCount(0)
  await shop.getByLabel('Email').fill(email)
  await shop.getByLabel('Full name').fill('Dana Reader')
  await shop.getByLabel('Card number').fill('4242424242424242')
  await shop.getByRole('button', { name: /^Pay / }).click()
  await expect(shop.getByTestId('order-status')).toHaveAttribute('data-status', 'paid')
  const db = storeRows(server.storageDir)
  const order = (await db.get<{ id: number; token: string; total: number; address: string | null }>('SELECT id, public_token AS token, total_cents AS total, shipping_address AS address FROM orders WHERE email = ?', email))!
  await db.close()
  expect(order.address).toBeNull()
  await shop.goto(`/orders/${order.token}`)
  return { shop, order }
}

test('the owner sells a file; the shopper downloads it until the limit; a link expires; a refund withdraws a link', async ({ browser }) => {
  test.setTimeout(240_000)
  const db = storeRows(server.storageDir)
  const product = (await db.get<{ id: number; slug: string; variantId: number }>(`SELECT p.id, p.slug, min(v.id) AS "variantId" FROM products p JOIN variants v ON v.product_id = p.id WHERE p.status = 'active' AND v.stock >= 5 GROUP BY p.id ORDER BY p.id LIMIT 1`))!

  // the owner makes it a download
  const admin = await pageAt(browser)
  await admin.goto('/admin')
  await admin.getByLabel('Email').fill(TEST_ADMIN.email)
  await admin.getByLabel('Password').fill(TEST_ADMIN.password)
  await admin.getByRole('button', { name: 'Sign in' }).click()
  await expect(admin).toHaveURL(/\/admin$/)
  await admin.goto(`/admin/products/${product.id}`)
  await admin.getByTestId('download-upload-form').getByLabel(/File to sell/).setInputFiles(FILE)
  await admin.getByRole('button', { name: 'Upload file' }).click()
  await expect(admin.getByTestId('flash-notice')).toContainText('Field guide.pdf')
  await expect(admin.getByTestId('product-download-file')).toContainText('Field guide.pdf')
  expect(await db.get('SELECT file_name AS name, size_bytes AS size FROM product_files WHERE product_id = ?', product.id)).toEqual({ name: FILE.name, size: FILE.buffer.byteLength })
  // the file is not among the public uploads
  expect((await fetch(`${server.url}/uploads/../downloads`)).status).toBe(404)

  // first order: download from the order page, then the link runs out
  const first = await buy(browser, product, `dana-${Date.now()}@example.com`)
  const link = first.shop.getByTestId('order-download').getByRole('link')
  await expect(link).toContainText(/Download/)
  await expect(first.shop.getByTestId('order-download')).toContainText('2 downloads left')
  const [saved] = await Promise.all([first.shop.waitForEvent('download'), link.click()])
  expect(saved.suggestedFilename()).toBe(FILE.name)
  const fs = await import('node:fs')
  expect(fs.readFileSync((await saved.path())!).equals(FILE.buffer)).toBe(true)
  const href = await link.getAttribute('href')
  const second = await fetch(`${server.url}${href}`)
  expect(second.status).toBe(200)
  expect(second.headers.get('cache-control')).toBe('private, no-store')
  expect(Buffer.from(await second.arrayBuffer()).equals(FILE.buffer)).toBe(true)
  const third = await fetch(`${server.url}${href}`)
  expect(third.status).toBe(410)
  expect(await third.text()).toContain('used as many times as it allows')
  await first.shop.reload()
  await expect(first.shop.getByTestId('order-download')).toHaveAttribute('data-state', 'used_up')
  // the owner sees the same link from the order's page, figures as the database holds them
  const grantOf = async (orderId: number) =>
    (await db.get<{ used: number; lim: number; expiresAt: number }>('SELECT download_count AS used, download_limit AS lim, expires_at AS "expiresAt" FROM download_grants WHERE order_id = ?', orderId))!
  await admin.goto(`/admin/orders/${first.order.id}`)
  const firstGrant = await grantOf(first.order.id)
  expect(firstGrant.used).toBe(2)
  await expect(admin.getByTestId('admin-download')).toHaveCount(1)
  await expect(admin.getByTestId('admin-download')).toHaveAttribute('data-state', 'used_up')
  await expect(admin.getByTestId('admin-download')).toContainText(FILE.name)
  await expect(admin.getByTestId('admin-download')).toContainText(new Date(firstGrant.expiresAt).toISOString().replace('T', ' ').slice(0, 16))
  await expect(admin.getByTestId('admin-download-count')).toHaveText(`${firstGrant.used} of ${firstGrant.lim}`)
  await expect(admin.getByTestId('admin-download-state')).toHaveText('Used up')

  // second order: the owner refunds it in full, and its link stops once Stripe confirms
  const other = await buy(browser, product, `lee-${Date.now()}@example.com`)
  const otherHref = await other.shop.getByTestId('order-download').getByRole('link').getAttribute('href')
  expect(otherHref).not.toBe(href)
  // the link expires: with its expiry moved into the past (the clock, brought forward), the
  // file is refused and the order page says so; moved back, it works again
  const setExpiry = async (at: number) => {
    const before = (await db.get<{ at: number }>('SELECT expires_at AS at FROM download_grants WHERE order_id = ?', other.order.id))!.at
    await db.run('UPDATE download_grants SET expires_at = ? WHERE order_id = ?', at, other.order.id)
    return before
  }
  const expiresAt = await setExpiry(Date.now() - 1000)
  const expired = await fetch(`${server.url}${otherHref}`)
  expect(expired.status).toBe(410)
  expect(await expired.text()).toContain('This download link has expired.')
  await other.shop.reload()
  await expect(other.shop.getByTestId('order-download')).toHaveAttribute('data-state', 'expired')
  await expect(other.shop.getByTestId('order-download')).toContainText('this link has expired.')
  await setExpiry(expiresAt)
  expect((await fetch(`${server.url}${otherHref}`)).status).toBe(200)
  await admin.goto(`/admin/orders/${other.order.id}`)
  await admin.getByLabel(/^Amount/).fill((other.order.total / 100).toFixed(2))
  await admin.getByRole('button', { name: 'Refund through Stripe' }).click()
  await expect(admin.getByTestId('flash-notice')).toContainText('Refund of')
  await expect
    .poll(
      async () => (await db.get<{ revokedAt: number | null }>('SELECT revoked_at AS "revokedAt" FROM download_grants WHERE order_id = ?', other.order.id))!.revokedAt !== null,
      { timeout: 20_000 },
    )
    .toBe(true)
  const refused = await fetch(`${server.url}${otherHref}`)
  expect(refused.status).toBe(410)
  expect(await refused.text()).toContain('withdrawn because the order was refunded')
  await other.shop.reload()
  await expect(other.shop.getByTestId('order-download')).toHaveAttribute('data-state', 'revoked')
  await admin.goto(`/admin/orders/${other.order.id}`)
  const otherGrant = await grantOf(other.order.id)
  await expect(admin.getByTestId('admin-download-count')).toHaveText(`${otherGrant.used} of ${otherGrant.lim}`)
  await expect(admin.getByTestId('admin-download-state')).toHaveText('Withdrawn: refunded or disputed')
  await db.close()
})
