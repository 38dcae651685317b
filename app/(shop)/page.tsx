import type { Metadata } from 'next'
import { Link } from '@/app/_components/shop-link'
import { connection } from 'next/server'
import { cardFacts } from '@/app/_components/card-facts'
import { ProductGrid } from '@/app/_components/product-card'
import { ArrowRightIcon } from '@/app/_components/ui/icons'
import { buttonPrimary, buttonSecondary, container } from '@/app/_components/ui/styles'
import { UploadImage } from '@/app/_components/ui/upload-image'
import * as catalog from '@/lib/catalog'
import { site } from '@/lib/seo'

// Rendered at request time (there is no database at build time) from the data cache, so a
// visit costs a render, not a query; see docs/decisions/002-catalog-caching.md.

export function generateMetadata(): Metadata {
  const s = site()
  return { alternates: { canonical: '/' }, openGraph: { title: s.name, description: s.description, url: '/' } }
}

export default async function HomePage() {
  await connection()
  const { featuredCollections, featured, newest } = await catalog.cached.home()
  const hero = featured[0] ?? newest[0]
  return (
    <main id="main" className="flex-1">
      <section className="border-b border-stone-100 bg-stone-50">
        <div className={`${container} grid items-center gap-10 py-12 sm:py-16 lg:grid-cols-2 lg:py-20`}>
          <div>
            <p className="text-sm font-medium uppercase tracking-[0.18em] text-brand">Autumn, outside</p>
            <h1 className="mt-3 text-4xl font-semibold leading-[1.05] tracking-tight text-balance sm:text-5xl lg:text-6xl">Good things for wet weather and slow mornings.</h1>
            <p className="mt-5 max-w-md text-base leading-relaxed text-stone-600 sm:text-lg">Shells, knits and everyday pieces from a small shop that would rather make one good jacket than three okay ones.</p>
            <div className="mt-8 flex flex-wrap gap-3">
              <Link href="/products" className={buttonPrimary}>
                Shop everything <ArrowRightIcon />
              </Link>
              {featuredCollections[0] ? (
                <Link href={`/collections/${featuredCollections[0].slug}`} className={buttonSecondary}>
                  {featuredCollections[0].title}
                </Link>
              ) : null}
            </div>
          </div>
          {hero ? (
            <Link href={`/products/${hero.slug}`} className="group relative mx-auto block w-full max-w-xl overflow-hidden rounded-3xl bg-stone-200 lg:max-w-none">
              <UploadImage path={hero.imagePath} alt={hero.imageAlt} isPriority sizes="(min-width: 1024px) 50vw, 100vw" className="aspect-square w-full object-cover transition duration-700 group-hover:scale-[1.02]" />
              <span className="absolute left-4 top-4 rounded-full bg-white/95 px-4 py-2 text-sm font-medium shadow-sm">{hero.title}</span>
            </Link>
          ) : null}
        </div>
      </section>

      {featuredCollections.length > 0 ? (
        <section aria-labelledby="collections-heading" className={`${container} pt-16`}>
          <div className="flex items-end justify-between gap-4">
            <h2 id="collections-heading" className="text-2xl font-semibold tracking-tight">
              Shop by collection
            </h2>
          </div>
          <ul className="mt-6 grid gap-4 sm:grid-cols-2 lg:grid-cols-3">
            {featuredCollections.map((c) => (
              <li key={c.slug}>
                <Link href={`/collections/${c.slug}`} className="group relative block overflow-hidden rounded-2xl bg-stone-100">
                  <UploadImage path={c.imagePath} alt="" sizes="(min-width: 1024px) 33vw, (min-width: 640px) 50vw, 100vw" className="aspect-[3/2] w-full object-cover transition duration-500 group-hover:scale-[1.03]" />
                  <span className="absolute inset-x-0 bottom-0 flex items-end justify-between gap-2 bg-gradient-to-t from-black/60 to-transparent p-5 pt-16 text-white">
                    <span>
                      <span className="block text-lg font-semibold">{c.title}</span>
                      <span className="block text-sm text-white/85">
                        {c.productCount} {c.productCount === 1 ? 'product' : 'products'}
                      </span>
                    </span>
                    <ArrowRightIcon className="mb-1 size-5" />
                  </span>
                </Link>
              </li>
            ))}
          </ul>
        </section>
      ) : null}

      {featured.length > 0 ? (
        <section aria-labelledby="featured-heading" className={`${container} pt-16`}>
          <SectionHeading id="featured-heading" title="Favourites" link={{ href: '/products', label: 'View all' }} />
          <ProductGrid products={featured.map(cardFacts)} />
        </section>
      ) : null}

      <section aria-labelledby="new-heading" className={`${container} pt-16`}>
        <SectionHeading id="new-heading" title="Just in" link={{ href: '/products?sort=newest', label: 'Shop new' }} />
        {newest.length > 0 ? <ProductGrid products={newest.map(cardFacts)} /> : <p className="text-stone-600">The shelves are being stocked. Come back soon.</p>}
      </section>
    </main>
  )
}

function SectionHeading({ id, title, link }: { id: string; title: string; link: { href: string; label: string } }) {
  return (
    <div className="mb-6 flex items-end justify-between gap-4">
      <h2 id={id} className="text-2xl font-semibold tracking-tight">
        {title}
      </h2>
      <Link href={link.href} className="shrink-0 text-sm font-medium text-stone-600 hover:text-stone-900">
        {link.label}
      </Link>
    </div>
  )
}
