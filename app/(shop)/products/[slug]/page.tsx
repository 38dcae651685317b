import { ProductView, productMetadata, requestedVariant } from './product-view'
import * as flash from '@/lib/request/flash'

// Reached only with ?notice= or ?error= (a no-JavaScript form post coming back); every other
// product URL is rewritten to the static /products/[slug]/[variant] (next.config.ts).
type Props = { params: Promise<{ slug: string }>; searchParams: Promise<Record<string, string | string[] | undefined>> }

export const generateMetadata = productMetadata

export default async function ProductPage({ params, searchParams }: Props) {
  const [{ slug }, query] = await Promise.all([params, searchParams])
  // A stock alert request that was refused comes back with what was typed (?email=).
  const typedEmail = typeof query.email === 'string' ? query.email.slice(0, 254) : ''
  return <ProductView slug={slug} variantId={requestedVariant(query.variant)} flash={flash.read(query)} isLive typedEmail={typedEmail} />
}
