import type { Metadata } from 'next'
import Form from 'next/form'
import { collectionLinks, LinkList } from '@/app/_components/link-list'
import { cardFacts } from '@/app/_components/card-facts'
import { ProductCard, ProductGrid } from '@/app/_components/product-card'
import { SearchIcon } from '@/app/_components/ui/icons'
import { container } from '@/app/_components/ui/styles'
import * as catalog from '@/lib/catalog'
import * as search from '@/lib/search'

// /search?q=: FTS5 with prefix matching and bm25 ranking (lib/search.ts). Any text is a
// valid query: it is cut, split into words and quoted before it reaches SQLite. Without a
// query the page shows collections and favourites from the data cache.

type Props = { searchParams: Promise<Record<string, string | string[] | undefined>> }

function queryOf(params: Record<string, string | string[] | undefined>): string {
  const raw = params.q
  return ((Array.isArray(raw) ? raw[0] : raw) ?? '').slice(0, search.MAX_QUERY_CHARS)
}

export async function generateMetadata({ searchParams }: Props): Promise<Metadata> {
  const terms = search.termsOf(queryOf(await searchParams))
  return {
    title: terms.length > 0 ? `Search: ${terms.join(' ')}` : 'Search',
    alternates: { canonical: '/search' },
    robots: { index: false, follow: true },
  }
}

export default async function SearchPage({ searchParams }: Props) {
  const q = queryOf(await searchParams)
  const result = search.termsOf(q).length > 0 ? await search.search(q) : null
  return (
    <main id="main" className={`${container} flex-1 pt-8`}>
      <h1 className="text-3xl font-semibold tracking-tight sm:text-4xl">{result ? 'Search results' : 'Search'}</h1>
      <Form action="/search" role="search" className="mt-6 flex max-w-2xl gap-2">
        <label htmlFor="search-q" className="sr-only">
          Search products
        </label>
        <div className="relative flex-1">
          <SearchIcon className="pointer-events-none absolute left-4 top-1/2 size-5 -translate-y-1/2 text-stone-500" />
          <input
            id="search-q"
            type="search"
            name="q"
            defaultValue={q}
            maxLength={search.MAX_QUERY_CHARS}
            placeholder="Jackets, merino, mugs…"
            autoComplete="off"
            className="h-12 w-full rounded-full border border-stone-300 bg-white pl-12 pr-4 text-base focus:border-stone-900"
          />
        </div>
        <button type="submit" className="h-12 rounded-full bg-stone-900 px-6 text-sm font-semibold text-white hover:bg-stone-700">
          Search
        </button>
      </Form>

      {result ? (
        <section aria-labelledby="results-heading" className="mt-10">
          <h2 id="results-heading" className="text-sm text-stone-600" aria-live="polite" data-testid="search-summary">
            {result.total === 0
              ? `Nothing found for “${result.terms.join(' ')}”.`
              : `${result.total} ${result.total === 1 ? 'result' : 'results'} for “${result.terms.join(' ')}”${result.isLoose ? ' (matching any of the words)' : ''}`}
          </h2>
          {result.hits.length > 0 ? (
            <ul className="product-grid mt-6" data-testid="search-results">
              {result.hits.map((hit, i) => (
                <ProductCard key={hit.id} product={cardFacts(hit)} headingLevel="h3" titleParts={hit.titleParts} snippetParts={hit.snippetParts} isPriority={i < 4} />
              ))}
            </ul>
          ) : (
            <NoQuery heading="h3" />
          )}
        </section>
      ) : (
        <NoQuery heading="h2" />
      )}
    </main>
  )
}

async function NoQuery({ heading: Heading }: { heading: 'h2' | 'h3' }) {
  const [collections, home] = await Promise.all([catalog.cached.collections(), catalog.cached.home()])
  return (
    <div className="mt-10 space-y-12">
      <section aria-label="Browse collections">
        <Heading className="text-lg font-semibold">Browse collections</Heading>
        <LinkList
          links={collectionLinks(collections.filter((c) => c.productCount > 0))}
          className="mt-4 flex flex-wrap gap-2"
          linkClassName="inline-flex rounded-full border border-stone-300 px-4 py-2 text-sm hover:border-stone-900"
        />
      </section>
      {home.featured.length > 0 ? (
        <section aria-label="Favourites">
          <Heading className="mb-4 text-lg font-semibold">Favourites</Heading>
          <ProductGrid products={home.featured.slice(0, 4).map(cardFacts)} headingLevel="h3" />
        </section>
      ) : null}
    </div>
  )
}
