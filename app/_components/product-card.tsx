'use client'

// Client components with no state, on purpose: cards repeat by the dozen, and a server
// component's markup travels twice (HTML, then again in the RSC payload) where a client
// component's payload is only its data.

import { Link } from '@/app/_components/shop-link'
import type { TextPart } from '@/lib/search'
import { Highlighted } from './highlighted'
import { UploadImage } from './ui/upload-image'

/** What a card shows, made by `cardFacts` (card-facts.ts) on the server: the price comes written. */
export type CardFacts = { id: number; slug: string; title: string; price: string; imagePath: string | null; imageAlt: string; isSoldOut: boolean }

type Props = {
  product: CardFacts
  headingLevel?: 'h2' | 'h3'
  titleParts?: TextPart[]
  snippetParts?: TextPart[]
  isPriority?: boolean
}

export function ProductCard({ product, headingLevel: Heading = 'h3', titleParts, snippetParts, isPriority }: Props) {
  return (
    <li className="card group" data-testid="product-card">
      <div className="card-frame">
        <UploadImage
          path={product.imagePath}
          alt={product.imageAlt}
          isPriority={isPriority}
          sizes="(min-width: 1024px) 25vw, (min-width: 640px) 33vw, 50vw"
          className={product.isSoldOut ? 'card-img opacity-60' : 'card-img'}
        />
        {product.isSoldOut ? (
          <span className="absolute left-3 top-3 rounded-full bg-white px-2.5 py-1 text-xs font-semibold text-stone-900 shadow-sm" data-testid="sold-out-badge">
            Sold out
          </span>
        ) : null}
      </div>
      <div className="card-body">
        <Heading className="card-title">
          {/* The whole card is the link: the ::after covers it, so one tab stop per product. */}
          <Link href={`/products/${product.slug}`} className="card-link">
            {titleParts ? <Highlighted parts={titleParts} /> : product.title}
          </Link>
        </Heading>
        <p className="text-sm text-stone-600">
          <span className="tabular-nums">{product.price}</span>
        </p>
        {snippetParts && snippetParts.length > 0 ? (
          <p className="line-clamp-2 text-xs leading-relaxed text-stone-500">
            <Highlighted parts={snippetParts} />
          </p>
        ) : null}
      </div>
    </li>
  )
}

export function ProductGrid({ products, headingLevel = 'h3', label, priorityCount = 0 }: { products: CardFacts[]; headingLevel?: 'h2' | 'h3'; label?: string; priorityCount?: number }) {
  return (
    <ul className="product-grid" aria-label={label} data-testid="product-grid">
      {products.map((p, i) => (
        <ProductCard key={p.id} product={p} headingLevel={headingLevel} isPriority={i < priorityCount} />
      ))}
    </ul>
  )
}
