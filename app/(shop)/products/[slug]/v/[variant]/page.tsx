import { ProductView, productMetadata, requestedVariant } from '../../product-view'

// The product page as shoppers and crawlers get it: static, rendered on first visit (nothing
// at build time, when there is no database), served from Next's cache, and rendered again
// when the catalog or stock tags are revalidated or after a minute at most (holds expire by
// the clock). `variant` is a variant id, or "default" for the product's first available one.

export const revalidate = 60
export const dynamicParams = true

export function generateStaticParams(): { variant: string }[] {
  return []
}

type Props = { params: Promise<{ slug: string; variant: string }> }

export const generateMetadata = productMetadata

export default async function StaticProductPage({ params }: Props) {
  const { slug, variant } = await params
  return <ProductView slug={slug} variantId={requestedVariant(variant)} flash={null} isLive={false} />
}
