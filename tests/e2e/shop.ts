import type { APIRequestContext, Page } from '@playwright/test'
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
export const optionLink = (page: Page, option: string, value: string) =>
  page.getByRole('group', { name: new RegExp(`^${option}:`) }).getByRole('link', { name: new RegExp(`^${value}( \\(sold out\\))?$`) })

/** Picks a Colour / Size variant with the option links, as a shopper would. */
export async function chooseVariant(page: Page, variant: ApiVariant) {
  const [colour, size] = variant.title.split(' / ') as [string, string]
  await optionLink(page, 'Colour', colour).click()
  await optionLink(page, 'Size', size).click()
  await expect(page).toHaveURL(new RegExp(`[?&]variant=${variant.id}$`))
  await expect(page.getByTestId('sku')).toHaveText(variant.sku)
}

