'use server'

import { redirect } from 'next/navigation'
import { isSlug } from '@/lib/catalog'
import { InvalidInput, NotFound, RateLimited } from '@/lib/errors'
import * as clientAddress from '@/lib/request/client-address'
import * as flash from '@/lib/request/flash'
import * as stockAlerts from '@/lib/stock-alerts'

// "Email me when it's back": a plain form post answered with a 303 back to the product page
// (post/redirect/get), so it works without JavaScript. The page it comes back to carries
// ?notice= or ?error= (signed, lib/request/flash.ts), which is rendered per request and never cached.
export async function requestStockAlert(formData: FormData): Promise<void> {
  const rawSlug = String(formData.get('productSlug') ?? '')
  const slug = isSlug(rawSlug) ? rawSlug : null
  const rawVariant = String(formData.get('variantId') ?? '')
  const variantId = /^[1-9]\d{0,9}$/.test(rawVariant) ? Number(rawVariant) : null
  const typed = String(formData.get('email') ?? '').slice(0, 254)
  const back = (key: 'notice' | 'error', message: string, keep = false): never => {
    const query = new URLSearchParams({ ...(variantId ? { variant: String(variantId) } : {}), ...(keep ? { email: typed } : {}) })
    redirect(flash.href(slug ? `/products/${slug}?${query.toString()}` : '/products', key, message))
  }
  if (!slug || !variantId) back('error', 'That product option does not exist.')
  try {
    await stockAlerts.subscribe(variantId!, typed, await clientAddress.current())
  } catch (err) {
    if (err instanceof InvalidInput || err instanceof NotFound || err instanceof RateLimited) back('error', err.message, true)
    throw err
  }
  back('notice', 'Thanks: we will email you once when it is back in stock.')
}
