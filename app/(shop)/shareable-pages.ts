import type { ShareablePage } from '@/server/contract'

// The shop's pages that render the same for every visitor, so the response cache in front of
// Next (server/response-cache.ts) may keep and resend them: each names its page file's route
// beside it, and tests/unit/shareable-pages.test.ts checks every route is a page here. A page
// that starts reading a cookie, a header or the session must leave this list in the same
// change. Only the document is kept, never a client navigation's payload.
export const SHAREABLE_PAGES: readonly ShareablePage[] = [
  { route: '/', kind: 'listing' },
  { route: '/products', kind: 'listing' },
  { route: '/search', kind: 'listing' },
  { route: '/collections/[slug]', kind: 'listing' },
  { route: '/products/[slug]', kind: 'product' },
  // The cart is per visitor, except for a visitor with no cookie at all: everyone new sees
  // the same empty cart (the one a newsletter or a crawl brings).
  { route: '/cart', kind: 'new-visitor' },
]
