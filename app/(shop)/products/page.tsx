import type { Metadata } from 'next'
import { ActiveFilters, FilterForm, SortForm } from '@/app/_components/listing/filters'
import { Pagination } from '@/app/_components/pagination'
import { cardFacts } from '@/app/_components/card-facts'
import { ProductGrid } from '@/app/_components/product-card'
import { ChevronDownIcon } from '@/app/_components/ui/icons'
import { container } from '@/app/_components/ui/styles'
import * as catalog from '@/lib/catalog'

// Every product, sorted, filtered and paginated by the query string. The filter choices
// come from the data cache; the page of products is one live query, since the number of
// filter combinations is unbounded and each one is cheap.

type Props = { searchParams: Promise<Record<string, string | string[] | undefined>> }

export async function generateMetadata({ searchParams }: Props): Promise<Metadata> {
  // The query string first: it makes the page request-time before anything is read.
  const params = await searchParams
  const facets = await catalog.cached.facets()
  const query = catalog.parseListingParams(params, facets)
  const collection = facets.collections.find((c) => c.slug === query.collection)
  const isFiltered = Boolean(query.collection || query.inStock || Object.keys(query.options ?? {}).length > 0)
  return {
    title: collection ? `${collection.title} — all products` : 'Shop all',
    description: 'Everything in the shop: outerwear, knitwear, tops, accessories and things for home and camp.',
    alternates: { canonical: query.page > 1 && !isFiltered ? `/products?page=${query.page}` : '/products' },
    robots: isFiltered || query.sort !== 'featured' ? { index: false, follow: true } : undefined,
  }
}

export default async function ProductsPage({ searchParams }: Props) {
  const params = await searchParams
  const facets = await catalog.cached.facets()
  const query = catalog.parseListingParams(params, facets)
  const listing = await catalog.listProducts({ ...query, perPage: catalog.PER_PAGE })
  const collection = facets.collections.find((c) => c.slug === query.collection)
  const first = (listing.page - 1) * listing.perPage + 1
  const activeCount = (query.collection ? 1 : 0) + (query.inStock ? 1 : 0) + Object.values(query.options ?? {}).reduce((n, values) => n + values.length, 0)
  return (
    <main id="main" className={`${container} flex-1 pt-8`}>
      <div className="flex flex-col gap-4 border-b border-stone-200 pb-6 sm:flex-row sm:items-end sm:justify-between">
        <div>
          <h1 className="text-3xl font-semibold tracking-tight sm:text-4xl">{collection ? collection.title : 'Shop all'}</h1>
          <p className="mt-2 text-sm text-stone-600" data-testid="result-count" aria-live="polite">
            {listing.total === 0
              ? 'No products match these filters.'
              : listing.pageCount > 1
                ? `Showing ${first}–${first + listing.items.length - 1} of ${listing.total} products`
                : `${listing.total} ${listing.total === 1 ? 'product' : 'products'}`}
          </p>
        </div>
        <SortForm facets={facets} query={query} />
      </div>

      <div className="mt-6 lg:grid lg:grid-cols-[15rem_1fr] lg:gap-10">
        <details className="group mb-6 rounded-2xl border border-stone-200 lg:hidden">
          <summary className="flex cursor-pointer list-none items-center justify-between px-4 py-3 text-sm font-semibold [&::-webkit-details-marker]:hidden">
            <span>
              Filters
              {activeCount > 0 ? <span className="ml-2 rounded-full bg-stone-900 px-2 py-0.5 text-xs text-white">{activeCount}</span> : null}
            </span>
            <ChevronDownIcon className="size-4 transition group-open:rotate-180" />
          </summary>
          <div className="border-t border-stone-200 p-4">
            <FilterForm facets={facets} query={query} idPrefix="m" />
          </div>
        </details>
        <aside className="hidden lg:block" aria-label="Filters">
          <FilterForm facets={facets} query={query} idPrefix="d" />
        </aside>
        <div>
          <div className="mb-6">
            <ActiveFilters facets={facets} query={query} />
          </div>
          {listing.items.length > 0 ? (
            <ProductGrid products={listing.items.map(cardFacts)} headingLevel="h2" priorityCount={4} />
          ) : (
            <div className="rounded-2xl bg-stone-50 px-6 py-16 text-center">
              <h2 className="text-lg font-semibold">Nothing matches</h2>
              <p className="mt-2 text-sm text-stone-600">Try fewer filters, or see everything.</p>
            </div>
          )}
          <Pagination page={listing.page} pageCount={listing.pageCount} hrefFor={(page) => catalog.listingHref('/products', query, facets, { page })} />
        </div>
      </div>
    </main>
  )
}
