import { notFound } from 'next/navigation'
import { ProductView, productMetadata, requestedVariant } from '../product-view'

// The product page as shoppers and crawlers get it: static, rendered on first visit (nothing
// at build time, when there is no database), served from Next's cache, and rendered again
// when the catalog or stock tags are revalidated or after a minute at most (holds expire by
// the clock). `variant` is a variant id, or "default" for the product's first available one;
// the segment sits beside the product's opengraph-image route, so any other word is a 404
// rather than a second copy of the page.

export const revalidate = 60
export const dynamicParams = true

export function generateStaticParams(): { variant: string }[] {
  return []
}

type Props = { params: Promise<{ slug: string; variant: string }> }

export const generateMetadata = productMetadata

export default async function StaticProductPage({ params }: Props) {
  const { slug, variant } = await params
  const variantId = requestedVariant(variant)
  if (variantId === null && variant !== 'default') notFound()
  return <ProductView slug={slug} variantId={variantId} flash={null} isLive={false} />
}
