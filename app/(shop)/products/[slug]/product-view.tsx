import type { Metadata, ResolvingMetadata } from 'next'
import Link from 'next/link'
import { notFound } from 'next/navigation'
import { cache } from 'react'
import { AddToCartForm } from './add-to-cart-form'
import { Gallery } from './gallery'
import { Breadcrumbs } from '@/app/_components/breadcrumbs'
import type { Flash } from '@/app/_components/flash-message'
import { JsonLd } from '@/app/_components/json-ld'
import { Price } from '@/app/_components/price'
import { ProductGrid } from '@/app/_components/product-card'
import { TruckIcon } from '@/app/_components/ui/icons'
import { container } from '@/app/_components/ui/styles'
import * as catalog from '@/lib/catalog'
import { formatMoney } from '@/lib/money'
import { uploadUrl } from '@/app/_components/ui/upload-url'
import { absoluteUrl, describe, productJsonLd, site } from '@/lib/seo'

// The product page, shared by two routes (see next.config.ts rewrites):
// - /products/[slug]/v/[variant]: static, rendered on first visit and kept in Next's cache
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

export async function ProductView({ slug, variantId, flash, isLive }: { slug: string; variantId: number | null; flash: Flash | null; isLive: boolean }) {
  const product = await productFor(slug)
  if (!product) notFound()
  // Live on the per-request route; from the cache (tag catalog:stock) on the static one.
  const available = isLive ? catalog.productAvailability(product.id) : await catalog.cached.productAvailability(product.id)
  const selected = catalog.selectVariant(product, variantId, available)
  if (!selected) notFound()
  const units = available[selected.id] ?? 0
  const choices = catalog.optionChoices(product, selected, available)
  // The selected variant's picture first, then the rest in their order.
  const images = [...product.images].sort((a, b) => Number(b.id === selected.imageId) - Number(a.id === selected.imageId))
  const s = site()
  const collection = product.collections[0]
  const related = collection ? ((await catalog.cached.collection(collection.slug))?.listing.items ?? []).filter((p) => p.id !== product.id).slice(0, 4) : []
  const cheapestShipping = s.shippingRates.reduce<(typeof s.shippingRates)[number] | null>((best, r) => (!best || r.amountCents < best.amountCents ? r : best), null)

  return (
    <main id="main" className="flex-1">
      <JsonLd
        data={productJsonLd({
          name: catalog.itemLabel(product.title, selected.title),
          description: describe(product.description, 5000),
          url: absoluteUrl(`/products/${product.slug}?variant=${selected.id}`, s.url),
          imageUrls: images.map((i) => absoluteUrl(uploadUrl(i.path), s.url)),
          sku: selected.sku,
          priceCents: selected.priceCents,
          currency: selected.currency,
          available: units,
          brand: s.name,
        })}
      />
      <div className={`${container} pt-6`}>
        <Breadcrumbs items={[{ href: '/', label: 'Home' }, collection ? { href: `/collections/${collection.slug}`, label: collection.title } : { href: '/products', label: 'Shop all' }, { label: product.title }]} />
      </div>
      <div className={`${container} mt-6 grid gap-8 lg:grid-cols-12 lg:gap-12`}>
        <div className="lg:col-span-7">
          <Gallery key={selected.id} images={images} title={product.title} />
        </div>
        <div className="lg:col-span-5">
          <div className="lg:sticky lg:top-24">
            <h1 className="text-3xl font-semibold tracking-tight text-balance sm:text-4xl">{product.title}</h1>
            <p className="mt-3 text-2xl" data-testid="price">
              <Price minCents={selected.priceCents} currency={selected.currency} />
            </p>
            <p className="mt-3 flex items-center gap-2 text-sm font-medium" data-testid="availability" data-available={units}>
              {units <= 0 ? (
                <>
                  <span className="size-2 rounded-full bg-red-600" aria-hidden="true" />
                  <span className="text-red-800">Sold out</span>
                </>
              ) : units <= LOW_STOCK ? (
                <>
                  <span className="size-2 rounded-full bg-amber-500" aria-hidden="true" />
                  <span className="text-amber-900">Only {units} left</span>
                </>
              ) : (
                <>
                  <span className="size-2 rounded-full bg-emerald-600" aria-hidden="true" />
                  <span className="text-emerald-900">In stock</span>
                </>
              )}
            </p>

            {choices.map((option) => (
              <div key={option.name} className="mt-6" role="group" aria-labelledby={`option-${catalog.optionParam(option.name)}`}>
                <p id={`option-${catalog.optionParam(option.name)}`} className="text-sm font-medium">
                  {option.name}: <span className="font-normal text-stone-600">{selected.options[option.name]}</span>
                </p>
                <ul className="mt-2 flex flex-wrap gap-2">
                  {option.choices.map((choice) => (
                    <li key={choice.value}>
                      <Link
                        href={`/products/${product.slug}?variant=${choice.variantId}`}
                        scroll={false}
                        replace
                        // The selected choice is this very page. After an add to cart, Next
                        // prefetched it segment by segment and got 404 for each (the cached
                        // entry had no per-segment data), all logged in the console; there is
                        // nothing to prefetch on the page already shown.
                        prefetch={choice.isSelected ? false : undefined}
                        aria-current={choice.isSelected ? 'true' : undefined}
                        data-testid={`option-${catalog.optionParam(option.name)}`}
                        data-sold-out={choice.isAvailable ? undefined : 'true'}
                        className={`inline-flex min-w-12 items-center justify-center gap-1.5 rounded-full border px-4 py-2 text-sm transition ${
                          choice.isSelected ? 'border-stone-900 bg-stone-900 text-white' : choice.isAvailable ? 'border-stone-300 hover:border-stone-900' : 'border-dashed border-stone-300 text-stone-600 hover:border-stone-900'
                        }`}
                      >
                        {/* Sold out stays a link: picking it shows the variant and says so plainly. */}
                        <span className={choice.isAvailable ? undefined : `line-through ${choice.isSelected ? 'decoration-white/70' : 'decoration-stone-500'}`}>{choice.value}</span>
                        {choice.isAvailable ? null : (
                          <>
                            <span aria-hidden="true" className={`text-[11px] font-medium uppercase tracking-wide ${choice.isSelected ? 'text-white/80' : 'text-red-800'}`} data-testid="choice-sold-out">
                              Sold out
                            </span>
                            <span className="sr-only"> (sold out)</span>
                          </>
                        )}
                      </Link>
                    </li>
                  ))}
                </ul>
              </div>
            ))}

            <div className="mt-8">
              <AddToCartForm
                key={selected.id}
                variantId={selected.id}
                productSlug={product.slug}
                isSoldOut={units <= 0}
                flash={flash}
                title={catalog.itemLabel(product.title, selected.title)}
                priceLabel={formatMoney(selected.priceCents, selected.currency)}
              />
            </div>

            {cheapestShipping ? (
              <p className="mt-6 flex items-center gap-3 rounded-2xl bg-stone-50 px-4 py-3 text-sm text-stone-700">
                <TruckIcon className="size-5 shrink-0 text-stone-500" />
                <span>
                  Ships from {formatMoney(cheapestShipping.amountCents, s.currency)} — {cheapestShipping.name.toLowerCase()}, {cheapestShipping.minDays}–{cheapestShipping.maxDays} business days.
                </span>
              </p>
            ) : null}

            <section aria-labelledby="details-heading" className="mt-8 border-t border-stone-200 pt-6">
              <h2 id="details-heading" className="text-sm font-semibold">
                Details
              </h2>
              <div className="mt-3 space-y-3 text-[15px] leading-relaxed text-stone-700">
                {product.description
                  .split(/\n\s*\n/)
                  .filter(Boolean)
                  .map((para, i) => (
                    <p key={i}>{para}</p>
                  ))}
              </div>
              <dl className="mt-4 grid grid-cols-[auto_1fr] gap-x-4 gap-y-1 text-sm text-stone-600">
                <dt>SKU</dt>
                <dd className="font-mono text-xs leading-5" data-testid="sku">
                  {selected.sku}
                </dd>
                {product.collections.length > 0 ? (
                  <>
                    <dt>In</dt>
                    <dd>
                      {product.collections.map((c, i) => (
                        <span key={c.slug}>
                          {i > 0 ? ', ' : null}
                          <Link href={`/collections/${c.slug}`} className="underline decoration-stone-300 underline-offset-4 hover:decoration-stone-900">
                            {c.title}
                          </Link>
                        </span>
                      ))}
                    </dd>
                  </>
                ) : null}
              </dl>
            </section>
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
