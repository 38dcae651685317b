import 'server-only'
import { revalidateTag } from 'next/cache'
import { log } from './log'

// Names of what cached entries depend on, and the two announcements that expire them. The
// catalog tags its reads with these; inventory announces every stock or hold change after
// its transaction commits, so no caller has to remember to.

export const tags = {
  /** everything read from the catalog: products, collections, navigation, sitemap */
  catalog: 'catalog',
  /** every entry that shows availability (sold-out badges, in-stock filters) */
  stock: 'catalog:stock',
  product: (slug: string) => `catalog:product:${slug}`,
  collection: (slug: string) => `catalog:collection:${slug}`,
} as const

function revalidate(tag: string) {
  try {
    revalidateTag(tag, { expire: 0 })
  } catch (err) {
    // Outside a request (a job, a script, a test) there is no cache to revalidate; the
    // entries' own revalidate time still bounds how stale they can get.
    log.debug('cache: revalidateTag skipped outside a request', { tag, err: String(err) })
  }
}

/**
 * What can be sold changed (a sale, a hold, a release, a restock). Entries that show
 * availability expire at once, static product pages included. Never throws.
 */
export function stockChanged(variantIds: readonly number[]): void {
  revalidate(tags.stock)
  log.debug('cache: stock changed', { variantIds: variantIds.slice(0, 50) })
}

/** A product, variant, image or collection changed. Never throws. */
export function catalogChanged(): void {
  revalidate(tags.catalog)
  revalidate(tags.stock)
}
