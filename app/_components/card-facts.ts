import 'server-only'
import type { ProductCard } from '@/lib/catalog'
import { formatMoney } from '@/lib/money'
import type { CardFacts } from './product-card'

/**
 * What a product card shows, its price already written. Cards are client components, and a
 * browser's first `Intl.NumberFormat` for a currency loads the locale's data: 55–137 ms of
 * each page load in Chromium on a busy two-core server, more on a slow phone, inside
 * hydration's one long task (docs/performance.md, "Lighthouse: fourth pass"). Written here,
 * on the server, the browser hydrates a string. Only what a card shows travels in the payload.
 */
export function cardFacts(card: ProductCard): CardFacts {
  const price = formatMoney(card.minPriceCents, card.currency)
  return {
    id: card.id,
    slug: card.slug,
    title: card.title,
    price: card.maxPriceCents > card.minPriceCents ? `From ${price}` : price,
    imagePath: card.imagePath,
    imageAlt: card.imageAlt,
    isSoldOut: card.isSoldOut,
  }
}
