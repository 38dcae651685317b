'use client'

import { Link } from '@/app/_components/shop-link'
import { AddToCartForm } from './add-to-cart-form'
import { StockAlertForm } from './stock-alert-form'
import type { Flash } from '@/app/_components/flash-message'
import { JsonLd } from '@/app/_components/json-ld'
import { TruckIcon } from '@/app/_components/ui/icons'
import { uploadUrl } from '@/app/_components/ui/upload-url'
import { productJsonLd } from '@/lib/json-ld'
import { optionParam, type OptionChoice } from '@/lib/variant-picker'

// The product's title, price, availability, pickers, form and details. A client component
// with no state of its own, on purpose: a server component's markup travels twice (in the
// HTML, then again in the RSC payload), and this is most of the page; as a client component
// the payload carries only the facts below. Everything is decided on the server
// (product-view.tsx); this only lays it out, the JSON-LD included (built here from the same
// facts, so the payload does not carry that script as a second, escaped copy).

export type ProductFacts = {
  slug: string
  title: string
  variantId: number
  /** the product and variant, as the cart and the sticky bar name it */
  itemTitle: string
  priceLabel: string
  units: number
  lowStock: number
  /** each choice is selected when its value is the option's `selected` one */
  options: { name: string; selected: string; choices: Omit<OptionChoice, 'isExactMatch' | 'isSelected'>[] }[]
  shipping: string | null
  paragraphs: string[]
  sku: string
  collections: { slug: string; title: string }[]
  /** what the JSON-LD needs beyond the facts above */
  structured: { origin: string; brand: string; description: string; imagePaths: string[]; price: string; currency: string }
}

export function ProductDetails({ facts, flash, typedEmail = '' }: { facts: ProductFacts; flash: Flash | null; typedEmail?: string }) {
  const { slug, title, variantId, itemTitle, priceLabel, units, lowStock, options, shipping, paragraphs, sku, collections, structured } = facts
  const base = `${structured.origin}/`
  const url = new URL(`/products/${slug}?variant=${variantId}`, base).toString()
  return (
    <>
      <JsonLd
        data={productJsonLd({
          name: itemTitle,
          description: structured.description,
          url,
          imageUrls: structured.imagePaths.map((path) => new URL(uploadUrl(path), base).toString()),
          sku,
          price: structured.price,
          currency: structured.currency,
          available: units,
          brand: structured.brand,
        })}
      />
      <h1 className="text-3xl font-semibold tracking-tight text-balance sm:text-4xl">{title}</h1>
      <p className="mt-3 text-2xl" data-testid="price">
        <span className="tabular-nums">{priceLabel}</span>
      </p>
      <p className="mt-3 flex items-center gap-2 text-sm font-medium" data-testid="availability" data-available={units}>
        {units <= 0 ? (
          <>
            <span className="size-2 rounded-full bg-red-600" aria-hidden="true" />
            <span className="text-red-800">Sold out</span>
          </>
        ) : units <= lowStock ? (
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

      {options.map((option) => (
        <div key={option.name} className="mt-6" role="group" aria-labelledby={`option-${optionParam(option.name)}`}>
          <p id={`option-${optionParam(option.name)}`} className="text-sm font-medium">
            {option.name}: <span className="font-normal text-stone-600">{option.selected}</span>
          </p>
          <ul className="mt-2 flex flex-wrap gap-2">
            {option.choices.map((c) => {
              const choice = { ...c, isSelected: c.value === option.selected }
              return (
                <li key={choice.value}>
                  <Link
                    href={`/products/${slug}?variant=${choice.variantId}`}
                    scroll={false}
                    replace
                    // The selected choice is this very page. After an add to cart, Next
                    // prefetched it segment by segment and got 404 for each (the cached
                    // entry had no per-segment data), all logged in the console; there is
                    // nothing to prefetch on the page already shown.
                    prefetch={choice.isSelected ? false : undefined}
                    aria-current={choice.isSelected ? 'true' : undefined}
                    data-testid={`option-${optionParam(option.name)}`}
                    data-sold-out={choice.isAvailable ? undefined : 'true'}
                    className={choice.isAvailable ? 'choice' : 'choice choice-out'}
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
              )
            })}
          </ul>
        </div>
      ))}

      <div className="mt-8">
        {/* Sold out: what the shopper is told about goes with the stock alert form. */}
        <AddToCartForm key={variantId} variantId={variantId} productSlug={slug} isSoldOut={units <= 0} flash={units <= 0 ? null : flash} title={itemTitle} priceLabel={priceLabel} />
        {units <= 0 ? <StockAlertForm key={`alert-${variantId}`} variantId={variantId} productSlug={slug} flash={flash} typedEmail={typedEmail} /> : null}
      </div>

      {shipping ? (
        <p className="ship-note mt-6">
          <TruckIcon className="size-5 shrink-0 text-stone-500" />
          <span>{shipping}</span>
        </p>
      ) : null}

      <section aria-labelledby="details-heading" className="mt-8 border-t border-stone-200 pt-6">
        <h2 id="details-heading" className="text-sm font-semibold">
          Details
        </h2>
        <div className="product-text mt-3">
          {paragraphs.map((para, i) => (
            <p key={i}>{para}</p>
          ))}
        </div>
        <dl className="product-facts mt-4">
          <dt>SKU</dt>
          <dd className="font-mono text-xs leading-5" data-testid="sku">
            {sku}
          </dd>
          {collections.length > 0 ? (
            <>
              <dt>In</dt>
              <dd>
                {collections.map((c, i) => (
                  <span key={c.slug}>
                    {i > 0 ? ', ' : null}
                    <Link href={`/collections/${c.slug}`} className="underlined">
                      {c.title}
                    </Link>
                  </span>
                ))}
              </dd>
            </>
          ) : null}
        </dl>
      </section>
    </>
  )
}
