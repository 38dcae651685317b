import type { Browser, Locator, Page } from '@playwright/test'
import type { ServerHandle } from '../support/server'
import { storeRows } from '../support/store-file'
import { expect } from './fixtures'
import { addToCartAndCheckout, catalog, fillHostedCheckout, pick, type Shopper } from './shop'

// What the admin specs share: one paid order to look at, every admin page by name, and the
// checks that a form's message sits beside its field.

const BUYER: Shopper = { email: 'robin.longname-fieldtester@example.com', name: 'Robin Fieldtester', line1: '7 Pier Lane' }

/** The id of a paid order on this server, bought through the shop when there is none yet. */
export async function paidOrderId(browser: Browser, server: ServerHandle): Promise<number> {
  const db = storeRows(server.storageDir)
  const find = async () => (await db.get<{ id: number }>(`SELECT id FROM orders WHERE status = 'paid' AND email = ? ORDER BY id DESC LIMIT 1`, BUYER.email))?.id
  try {
    const existing = await find()
    if (existing) return existing
    const context = await browser.newContext({ baseURL: server.url })
    const shop = await context.newPage()
    const { product, variant } = pick(await catalog(shop.request), 3, { n: 1 })
    await addToCartAndCheckout(shop, product.slug, variant.id, 2)
    await fillHostedCheckout(shop, '4242 4242 4242 4242', { shopper: BUYER })
    await expect(shop).toHaveURL(/\/checkout\/success\?session_id=cs_/)
    await expect(shop.getByTestId('order-status')).toHaveAttribute('data-status', 'paid')
    await context.close()
    await expect.poll(find, { timeout: 20_000 }).toBeTruthy()
    return (await find())!
  } finally {
    await db.close()
  }
}

/** Every admin page (behind sign-in), by a short name, with the records they show. */
export async function adminPages(server: ServerHandle, orderId: number): Promise<[name: string, url: string][]> {
  const db = storeRows(server.storageDir)
  const variant = (await db.get<{ id: number; productId: number }>(`SELECT v.id, v.product_id AS "productId" FROM variants v JOIN products p ON p.id = v.product_id WHERE p.status = 'active' ORDER BY (SELECT count(*) FROM variants w WHERE w.product_id = p.id) DESC, v.id LIMIT 1`))!
  await db.close()
  return [
    ['dashboard', '/admin'],
    ['orders', '/admin/orders'],
    ['order', `/admin/orders/${orderId}`],
    ['products', '/admin/products'],
    ['new-product', '/admin/products/new'],
    ['bulk-edit', '/admin/products/bulk'],
    ['product', `/admin/products/${variant.productId}`],
    ['collections', '/admin/collections'],
    ['discounts', '/admin/discounts'],
    ['inventory', '/admin/inventory'],
    ['stock-ledger', `/admin/inventory/${variant.id}`],
    ['events', '/admin/events'],
    ['jobs', '/admin/jobs'],
    ['reconciliation', '/admin/reconciliation'],
    ['audit', '/admin/audit'],
    ['account', '/admin/account'],
    ['import', '/admin/import'],
    ['staff', '/admin/staff'],
    ['packing-slip', `/admin/orders/${orderId}/packing-slip`],
  ]
}

/** The field is marked invalid and its message, tied to it by aria-describedby, sits right under it. */
export async function expectMessageBeside(page: Page, field: Locator, message: RegExp | string) {
  await expect(field).toHaveAttribute('aria-invalid', 'true')
  const describedBy = (await field.getAttribute('aria-describedby')) ?? ''
  const errorId = describedBy.split(' ').find((id) => id.endsWith('-error'))
  expect(errorId, 'aria-describedby names the message').toBeTruthy()
  const error = page.locator(`[id="${errorId}"]`)
  await expect(error).toBeVisible()
  await expect(error).toContainText(message)
  const [f, e] = [(await field.boundingBox())!, (await error.boundingBox())!]
  // directly below the field (a hint of up to three lines on a phone may sit between), and overlapping it horizontally
  expect(e.y).toBeGreaterThanOrEqual(f.y + f.height - 1)
  expect(e.y - (f.y + f.height)).toBeLessThan(140)
  expect(e.x).toBeLessThan(f.x + f.width)
  expect(e.x + e.width).toBeGreaterThan(f.x)
}

/** Horizontal overflow of the document, and buttons that reach past the viewport's right edge. */
export async function layoutProblems(page: Page, scope = 'main') {
  return page.evaluate((selector) => {
    const width = document.documentElement.clientWidth
    const offscreen = [...document.querySelectorAll(`${selector} form button, ${selector} form input[type=submit]`)]
      .filter((b) => (b as HTMLElement).offsetParent !== null)
      .map((b) => ({ text: (b.textContent ?? '').trim().slice(0, 40), right: Math.round(b.getBoundingClientRect().right), left: Math.round(b.getBoundingClientRect().left) }))
      .filter((b) => b.right > width + 0.5 || b.left < -0.5)
    // a table box that scrolls sideways on a phone hides columns
    const regions = [...document.querySelectorAll('[role=region]')]
    const scrolling = regions.filter((r) => r.scrollWidth > r.clientWidth + 1).map((r) => r.getAttribute('aria-label'))
    // a box that does scroll shows it: edge shadows drawn as backgrounds
    const withoutCue = regions.filter((r) => !getComputedStyle(r).backgroundImage.includes('gradient')).map((r) => r.getAttribute('aria-label'))
    return { overflow: document.documentElement.scrollWidth - width, offscreen, scrolling, withoutCue }
  }, scope)
}
