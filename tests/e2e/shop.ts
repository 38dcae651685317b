import fs from 'node:fs'
import path from 'node:path'
import AxeBuilder from '@axe-core/playwright'
import type { APIRequestContext, Page } from '@playwright/test'
import { TEST_ADMIN } from '../support/server'
import { expect } from './fixtures'

// What the storefront specs share. Specs share one server, so products and variants are
// chosen from /api/products at run time by what is actually available.

export type ApiVariant = { id: number; sku: string; title: string; priceCents: number; currency: string; available: number }
export type ApiProduct = { id: number; slug: string; title: string; variants: ApiVariant[] }

export async function catalog(request: APIRequestContext): Promise<ApiProduct[]> {
  const res = await request.get('/api/products')
  expect(res.status()).toBe(200)
  return ((await res.json()) as { products: ApiProduct[] }).products
}

/** The n-th product (skipping `exclude`) that has a Colour / Size variant with at least `min` available. */
export function pick(products: ApiProduct[], min: number, opts: { match?: RegExp; exclude?: string[]; max?: number; n?: number } = {}) {
  const found: { product: ApiProduct; variant: ApiVariant }[] = []
  for (const product of products) {
    if (opts.match && !opts.match.test(product.title)) continue
    if (opts.exclude?.includes(product.slug)) continue
    const variant = product.variants.find((v) => v.available >= min && v.available <= (opts.max ?? Infinity) && v.title.includes(' / '))
    if (variant) found.push({ product, variant })
  }
  const hit = found[opts.n ?? 0]
  if (!hit) throw new Error(`no product with a variant of ${min}..${opts.max ?? '∞'} available`)
  return hit
}

export const money = (cents: number) => new Intl.NumberFormat('en-US', { style: 'currency', currency: 'USD' }).format(cents / 100)
export const label = (p: ApiProduct, v: ApiVariant) => `${p.title} — ${v.title}`
const optionLink = (page: Page, option: string, value: string) =>
  page.getByRole('group', { name: new RegExp(`^${option}:`) }).getByRole('link', { name: new RegExp(`^${value}( \\(sold out\\))?$`) })

/** Picks a Colour / Size variant with the option links, as a shopper would. */
export async function chooseVariant(page: Page, variant: ApiVariant) {
  const [colour, size] = variant.title.split(' / ') as [string, string]
  await optionLink(page, 'Colour', colour).click()
  await optionLink(page, 'Size', size).click()
  await expect(page).toHaveURL(new RegExp(`[?&]variant=${variant.id}$`))
  await expect(page.getByTestId('sku')).toHaveText(variant.sku)
}

/** axe's serious and critical findings on the page (WCAG 2.1 A/AA and best practices). */
export async function seriousViolations(page: Page) {
  const results = await new AxeBuilder({ page }).withTags(['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa', 'best-practice']).analyze()
  return results.violations
    .filter((v) => v.impact === 'serious' || v.impact === 'critical')
    .map((v) => ({ id: v.id, impact: v.impact, help: v.help, nodes: v.nodes.slice(0, 3).map((n) => n.target.join(' ')) }))
}

export type Shopper = { email: string; name: string; line1: string; city?: string; postalCode?: string; country?: string }

export const SAM: Shopper = { email: 'sam@example.com', name: 'Sam Shopper', line1: '1 Harbour Street' }

/** Enters a promotion code on the emulator's hosted checkout page and applies it. */
export async function applyPromotionCode(page: Page, code: string) {
  await page.getByLabel('Promotion code').fill(code)
  await page.getByRole('button', { name: 'Apply' }).click()
}

/** Pays on the emulator's hosted checkout page as a shopper would, with a code first when given. */
export async function fillHostedCheckout(page: Page, card: string, options: { payLater?: boolean; shopper?: Shopper; promotionCode?: string } = {}) {
  const shopper = options.shopper ?? SAM
  await expect(page).toHaveURL(/\/emulator\/checkout\/cs_/)
  if (options.promotionCode) {
    await applyPromotionCode(page, options.promotionCode)
    await expect(page.locator('#promotion-applied')).toContainText(options.promotionCode, { ignoreCase: true })
  }
  await page.getByLabel('Email').fill(shopper.email)
  await page.getByLabel('Full name').fill(shopper.name)
  if (shopper.country) await page.getByLabel('Country').selectOption(shopper.country)
  await page.getByLabel('Address line 1').fill(shopper.line1)
  await page.getByLabel('City').fill(shopper.city ?? 'Portland')
  await page.getByLabel('Postal code').fill(shopper.postalCode ?? '04101')
  await page.getByLabel('Card number').fill(card)
  if (options.payLater) await page.getByLabel(/pay later/i).check()
  await page.getByRole('button', { name: /^Pay / }).click()
}

/** Adds `quantity` of a variant from its product page, then starts checkout from the cart. */
export async function addToCartAndCheckout(page: Page, slug: string, variantId: number, quantity: number) {
  await page.goto(`/products/${slug}?variant=${variantId}`)
  const qty = page.getByLabel(/quantity/i).first()
  if (await qty.count()) await qty.fill(String(quantity))
  await page.getByRole('button', { name: /add to (cart|bag)/i }).click()
  // wait for the server to confirm before leaving the page
  await expect(page.getByText(/^Added \d+ ×/)).toBeVisible()
  await page.goto('/cart')
  await page.getByRole('button', { name: /checkout/i }).click()
}

/**
 * The emails the server wrote to STORAGE_DIR/mail, as text: quoted-printable soft breaks
 * joined and escapes decoded, so a test can look for "−$11.80" as the shopper reads it.
 */
export function sentMail(storageDir: string): { file: string; text: string }[] {
  const dir = path.join(storageDir, 'mail')
  if (!fs.existsSync(dir)) return []
  return fs
    .readdirSync(dir)
    .filter((f) => f.endsWith('.eml'))
    .map((file) => {
      const raw = fs.readFileSync(path.join(dir, file), 'utf8').replace(/=\r?\n/g, '')
      const text = raw.replace(/(?:=[0-9A-F]{2})+/g, (run) => Buffer.from(run.split('=').slice(1).map((h) => parseInt(h, 16))).toString('utf8'))
      return { file, text }
    })
}

/** Signs the test server's owner in to the admin, as the owner would. */
export async function signIn(page: Page) {
  await page.goto('/admin')
  await expect(page).toHaveURL(/\/admin\/sign-in/)
  await page.getByLabel('Email').fill(TEST_ADMIN.email)
  await page.getByLabel('Password').fill(TEST_ADMIN.password)
  await page.getByRole('button', { name: 'Sign in' }).click()
  await expect(page).toHaveURL(/\/admin$/)
  await expect(page.getByRole('heading', { name: 'Dashboard' })).toBeVisible()
}
