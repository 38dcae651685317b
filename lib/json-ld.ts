// schema.org JSON-LD. Shared by server and client components: the product page builds
// its JSON-LD in the client component that already holds the product's facts, so the RSC
// payload does not carry the whole script a second time. It imports nothing server-only.

/**
 * JSON for a <script type="application/ld+json">: `<` becomes \u003c so no string in the
 * data can close the script element or open a comment; `>` and `&` and the two line
 * separators JavaScript parsers dislike are escaped the same way.
 * https://nextjs.org/docs/app/guides/json-ld
 */
export function serializeJsonLd(data: unknown): string {
  return JSON.stringify(data)
    .replace(/</g, '\\u003c')
    .replace(/>/g, '\\u003e')
    .replace(/&/g, '\\u0026')
    .replace(/\u2028/g, '\\u2028')
    .replace(/\u2029/g, '\\u2029')
}

export type ProductJsonLdInput = {
  name: string
  description: string
  url: string
  imageUrls: string[]
  sku: string
  /** the amount in the currency's major unit, as text: "198.00" */
  price: string
  currency: string
  available: number
  brand: string
}

/** schema.org Product with one Offer: the variant on the page, its real price and stock. */
export function productJsonLd(p: ProductJsonLdInput) {
  return {
    '@context': 'https://schema.org',
    '@type': 'Product',
    name: p.name,
    description: p.description,
    sku: p.sku,
    image: p.imageUrls,
    url: p.url,
    brand: { '@type': 'Brand', name: p.brand },
    offers: {
      '@type': 'Offer',
      url: p.url,
      sku: p.sku,
      price: p.price,
      priceCurrency: p.currency.toUpperCase(),
      availability: p.available > 0 ? 'https://schema.org/InStock' : 'https://schema.org/OutOfStock',
      itemCondition: 'https://schema.org/NewCondition',
    },
  }
}
