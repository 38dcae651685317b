import type { Server } from 'node:http'

// The contract between the front server (server/start.ts, which runs before Next loads and
// wraps every request) and the app it starts. Both sides import this module and nothing else
// of each other: lib/ never imports the front server, and the front server reaches the app
// only through what is declared here. It imports nothing, so the front server's bundle and
// every Next bundle can carry their own copy; the state they share lives on globalThis,
// under names written only here, because Next loads the app's modules more than once
// (instrumentation, each route bundle) and the front server is a separate bundle.

/** One product's change, as the response cache needs it. */
type ProductChange = {
  slug: string
  /** the product's sold-out badge may have flipped: every listing may show it */
  isSoldOutChanged: boolean
  /** a variant it offered is now gone: pages showing it are dropped, never sent stale */
  hasSoldOutVariant: boolean
}

/**
 * What changed: everything (an admin edit, a gap in the change log), or some products.
 * `storedAfter` (ms): only pages kept since then, i.e. rendered while Next's own cache may
 * still have held the old data (lib/cache.ts revalidate).
 */
export type Scope = { all?: boolean; products?: ProductChange[]; storedAfter?: number }

/** What the app and the response cache tell each other. */
export type FrontCache = {
  /** set by the front server: drops or marks stale the cached pages `scope` concerns */
  invalidate?: (scope: Scope) => void
  /** set at boot: false while the store cannot answer; reads other processes' changes */
  poll?: () => boolean
}

type Shared = { tillFrontCache?: FrontCache; tillHttpServers?: Set<Server> }
const shared = globalThis as unknown as Shared

/** The one FrontCache of this process, whichever side asks first. */
export function frontCache(): FrontCache {
  return (shared.tillFrontCache ??= {})
}

/**
 * Called by the front server before Next loads: the HTTP servers Next creates are collected
 * here (Next keeps no public reference to them), so the app's shutdown can close them.
 */
export function adoptHttpServers(): Set<Server> {
  return (shared.tillHttpServers ??= new Set())
}

/** The servers adopted by the front server; undefined when Next was started another way (dev, tests). */
export function httpServers(): ReadonlySet<Server> | undefined {
  return shared.tillHttpServers
}

/**
 * The header carrying the socket peer: written by the front server from the connection,
 * after every copy the client sent is dropped; read by lib/request/client-address.ts.
 */
export const PEER_HEADER = 'x-till-peer'

/**
 * Query keys of a flash message after a no-JavaScript form post (lib/request/flash.ts): a
 * page with one renders per visitor, so neither the response cache nor Next's static product
 * pages (next.config.ts) may serve it.
 */
export const FLASH_QUERY_KEYS = ['notice', 'error'] as const

/**
 * What kind of page the response cache may keep, declared by the pages' own route list
 * (app/(shop)/shareable-pages.ts):
 * - `listing`: a page that may show any product (home, all products, search, a collection);
 * - `product`: one product's page, whose last segment is the product's slug;
 * - `new-visitor`: a page that is the same for every visitor with no cookie at all (the
 *   empty cart); any cookie sends the request to Next.
 */
export type ShareableKind = 'listing' | 'product' | 'new-visitor'

/** A page the response cache may keep: its route in Next's notation (`/products/[slug]`). */
export type ShareablePage = { route: string; kind: ShareableKind }
