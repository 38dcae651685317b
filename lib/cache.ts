import 'server-only'
import { revalidateTag } from 'next/cache'
import { getDb } from '@/db'
import { log } from './log'

// Names of what cached entries depend on, and the two announcements that expire them. The
// catalog tags its reads with these; inventory announces every stock or hold change after
// its transaction commits, so no caller has to remember to.
//
// Two caches hear the announcements: Next's (data cache and static pages, by tag) and the
// response cache in front of Next (scripts/response-cache.mjs), which keeps whole anonymous
// catalog responses and serves them while the catalog version below stays the same.

export const tags = {
  /** everything read from the catalog: products, collections, navigation, sitemap */
  catalog: 'catalog',
  /** every entry that shows availability (sold-out badges, in-stock filters) */
  stock: 'catalog:stock',
  product: (slug: string) => `catalog:product:${slug}`,
  collection: (slug: string) => `catalog:collection:${slug}`,
} as const

// The front cache runs outside Next's bundles (in scripts/start.mjs), and Next loads this
// module more than once (instrumentation, each route bundle), so the counter and the hook
// live on globalThis, never in a module variable.
type FrontCacheState = { generation: number; version?: () => string | null }
const shared = globalThis as unknown as { tillCatalogVersion?: FrontCacheState }
const state: FrontCacheState = (shared.tillCatalogVersion ??= { generation: 0 })

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
  // Every catalog response shows availability somewhere (badges, filters, the product's
  // own count), so the front cache drops them all; it refills in one render per page.
  state.generation += 1
  revalidate(tags.stock)
  log.debug('cache: stock changed', { variantIds: variantIds.slice(0, 50) })
}

/** A product, variant, image or collection changed. Never throws. */
export function catalogChanged(): void {
  state.generation += 1
  revalidate(tags.catalog)
  revalidate(tags.stock)
}

/**
 * Called once at boot: lets the front cache ask "has anything changed?" on every hit.
 * The answer joins this process's announcements with SQLite's `data_version`, which moves
 * whenever another connection commits to the store (the other release of a blue-green pair,
 * a script), so a sale taken by the other process is not hidden behind this one's cache.
 * Null (never cache) once the database is closed.
 */
export function installFrontCacheVersion(): void {
  let dataVersion: { get(): unknown } | null = null
  state.version = () => {
    try {
      dataVersion ??= getDb().$client.prepare('PRAGMA data_version').pluck()
      return `${state.generation}:${String(dataVersion.get())}`
    } catch {
      dataVersion = null
      return null
    }
  }
}
