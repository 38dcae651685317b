import type { Metadata, ResolvingMetadata } from 'next'
import { Link } from '@/app/_components/shop-link'
import { notFound } from 'next/navigation'
import { cache } from 'react'
import { Gallery } from './gallery'
import { ProductDetails } from './product-details'
import { Breadcrumbs } from '@/app/_components/breadcrumbs'
import type { Flash } from '@/app/_components/flash-message'
import { cardFacts } from '@/app/_components/card-facts'
import { ProductGrid } from '@/app/_components/product-card'
import { container } from '@/app/_components/ui/styles'
import * as catalog from '@/lib/catalog'
import * as picker from '@/lib/variant-picker'
import { decimalAmount, formatMoney } from '@/lib/money'
import { describe, site } from '@/lib/seo'

// The product page, shared by two routes (see next.config.ts rewrites):
// - /products/[slug]/[variant]: static, rendered on first visit and kept in Next's cache
//   until the catalog or stock tags are revalidated; every plain product URL lands here.
// - /products/[slug]: per request, only when a no-JavaScript form post came back with
//   ?notice= or ?error= to show.
// The variant is in the URL (?variant=ID), so choosing a size or colour is a plain link.

type ProductParams = { slug: string; variant?: string }

const LOW_STOCK = 5

const productFor = cache(async (slug: string) => (catalog.isSlug(slug) ? catalog.cached.product(slug) : null))

export function requestedVariant(raw: string | string[] | undefined): number | null {
  const value = Array.isArray(raw) ? raw[0] : raw
  return value && /^\d{1,10}$/.test(value) ? Number(value) : null
}

export async function productMetadata({ params }: { params: Promise<ProductParams> }, parent: ResolvingMetadata): Promise<Metadata> {
  const { slug } = await params
  const product = await productFor(slug)
  if (!product) return { title: 'Product not found', robots: { index: false } }
  const description = describe(product.description)
  // og:image comes from ./opengraph-image.tsx: the product's picture as a PNG. The static
  // route sits below that segment and its openGraph would replace the inherited image, so
  // it is carried over explicitly.
  const images = (await parent).openGraph?.images
  return {
    title: product.title,
    description,
    alternates: { canonical: `/products/${product.slug}` },
    openGraph: { title: product.title, description, url: `/products/${product.slug}`, ...(images?.length ? { images } : {}) },
  }
}

export async function ProductView({ slug, variantId, flash, isLive, typedEmail = '' }: { slug: string; variantId: number | null; flash: Flash | null; isLive: boolean; typedEmail?: string }) {
  const product = await productFor(slug)
  if (!product) notFound()
  // Live on the per-request route; from the cache (tag catalog:stock) on the static one.
  const available = isLive ? await catalog.productAvailability(product.id) : await catalog.cached.productAvailability(product.id)
  const selected = picker.selectVariant(product, variantId, available)
  if (!selected) notFound()
  const units = available[selected.id] ?? 0
  const choices = picker.optionChoices(product, selected, available)
  // The selected variant's picture first, then the rest in their order.
  const images = [...product.images].sort((a, b) => Number(b.id === selected.imageId) - Number(a.id === selected.imageId))
  const s = site()
  const collection = product.collections[0]
  const related = (collection ? ((await catalog.cached.collection(collection.slug))?.listing.items ?? []) : [])
    .filter((p) => p.id !== product.id)
    .slice(0, 4)
    .map(cardFacts)
  const cheapestShipping = s.shippingRates.reduce<(typeof s.shippingRates)[number] | null>((best, r) => (!best || r.amountCents < best.amountCents ? r : best), null)

  return (
    <main id="main" className="flex-1">
      <div className={`${container} pt-6`}>
        <Breadcrumbs items={[{ href: '/', label: 'Home' }, collection ? { href: `/collections/${collection.slug}`, label: collection.title } : { href: '/products', label: 'Shop all' }, { label: product.title }]} />
      </div>
      <div className={`${container} mt-6 grid gap-8 lg:grid-cols-12 lg:gap-12`}>
        <div className="lg:col-span-7">
          <Gallery key={selected.id} images={images} title={product.title} />
        </div>
        <div className="lg:col-span-5">
          <div className="lg:sticky lg:top-24">
            <ProductDetails
              flash={flash}
              typedEmail={typedEmail}
              facts={{
                slug: product.slug,
                title: product.title,
                variantId: selected.id,
                itemTitle: catalog.itemLabel(product.title, selected.title),
                priceLabel: formatMoney(selected.priceCents, selected.currency),
                units,
                lowStock: LOW_STOCK,
                options: choices.map((o) => ({ name: o.name, selected: selected.options[o.name] ?? '', choices: o.choices.map(({ isExactMatch: _, isSelected: __, ...c }) => c) })),
                shipping: cheapestShipping
                  ? `Ships from ${formatMoney(cheapestShipping.amountCents, s.currency)} — ${cheapestShipping.name.toLowerCase()}, ${cheapestShipping.minDays}–${cheapestShipping.maxDays} business days.`
                  : null,
                paragraphs: product.description.split(/\n\s*\n/).filter(Boolean),
                sku: selected.sku,
                collections: product.collections.map((c) => ({ slug: c.slug, title: c.title })),
                structured: {
                  origin: s.url,
                  brand: s.name,
                  description: describe(product.description),
                  imagePaths: images.map((i) => i.path),
                  price: decimalAmount(selected.priceCents, selected.currency),
                  currency: selected.currency,
                },
              }}
            />
          </div>
        </div>
      </div>

      {related.length > 0 && collection ? (
        <section aria-labelledby="related-heading" className={`${container} mt-20`}>
          <div className="mb-6 flex items-end justify-between gap-4">
            <h2 id="related-heading" className="text-2xl font-semibold tracking-tight">
              More from {collection.title}
            </h2>
            <Link href={`/collections/${collection.slug}`} className="shrink-0 text-sm font-medium text-stone-600 hover:text-stone-900">
              View all
            </Link>
          </div>
          <ProductGrid products={related} />
        </section>
      ) : null}
    </main>
  )
}
