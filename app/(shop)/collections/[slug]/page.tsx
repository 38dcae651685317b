import type { Metadata } from 'next'
import { Link } from '@/app/_components/shop-link'
import { notFound, permanentRedirect } from 'next/navigation'
import { cache } from 'react'
import { Breadcrumbs } from '@/app/_components/breadcrumbs'
import { cardFacts } from '@/app/_components/card-facts'
import { ProductGrid } from '@/app/_components/product-card'
import { ArrowRightIcon } from '@/app/_components/ui/icons'
import { container } from '@/app/_components/ui/styles'
import * as catalog from '@/lib/catalog'
import { describe } from '@/lib/seo'

// A collection page is static: rendered on its first visit (nothing is prerendered at
// build time, when there is no database), kept in Next's cache, and rendered again when
// its tags are revalidated (catalog or stock changes) or after a minute at most (holds
// expire by the clock). Sorting and filtering live on /products?collection=<slug>.

export const revalidate = 60
export const dynamicParams = true

export function generateStaticParams(): { slug: string }[] {
  return []
}

type Props = { params: Promise<{ slug: string }> }

const collectionFor = cache(async (slug: string) => (catalog.isSlug(slug) ? catalog.cached.collection(slug) : null))

export async function generateMetadata({ params }: Props): Promise<Metadata> {
  const { slug } = await params
  const data = await collectionFor(slug)
  if (!data) return { title: 'Collection not found', robots: { index: false } }
  const description = describe(data.collection.description || `${data.collection.title}: ${data.listing.total} products.`)
  return {
    title: data.collection.title,
    description,
    alternates: { canonical: `/collections/${slug}` },
    openGraph: { title: data.collection.title, description, url: `/collections/${slug}` },
  }
}

export default async function CollectionPage({ params }: Props) {
  const { slug } = await params
  if (slug === 'all') permanentRedirect('/products')
  const data = await collectionFor(slug)
  if (!data) notFound()
  const { collection, listing } = data
  return (
    <main id="main" className="flex-1">
      <div className="border-b border-stone-100 bg-stone-50">
        <div className={`${container} py-10 sm:py-14`}>
          <Breadcrumbs items={[{ href: '/', label: 'Home' }, { href: '/products', label: 'Shop all' }, { label: collection.title }]} />
          <h1 className="mt-4 text-4xl font-semibold tracking-tight sm:text-5xl">{collection.title}</h1>
          {collection.description ? <p className="mt-3 max-w-2xl text-base leading-relaxed text-stone-600 sm:text-lg">{collection.description}</p> : null}
        </div>
      </div>
      <div className={`${container} pt-8`}>
        <div className="mb-6 flex flex-wrap items-center justify-between gap-3">
          <p className="text-sm text-stone-600">
            {listing.total} {listing.total === 1 ? 'product' : 'products'}
          </p>
          <Link href={`/products?collection=${collection.slug}`} className="inline-flex items-center gap-1.5 text-sm font-medium hover:underline">
            Sort and filter <ArrowRightIcon />
          </Link>
        </div>
        {listing.items.length > 0 ? (
          <ProductGrid products={listing.items.map(cardFacts)} headingLevel="h2" priorityCount={4} />
        ) : (
          <p className="rounded-2xl bg-stone-50 px-6 py-16 text-center text-stone-600">Nothing here yet. Have a look at everything else.</p>
        )}
        {listing.total > listing.items.length ? (
          <p className="mt-10 text-center">
            <Link href={`/products?collection=${collection.slug}&page=2`} className="font-medium underline underline-offset-4">
              See more from {collection.title}
            </Link>
          </p>
        ) : null}
      </div>
    </main>
  )
}
