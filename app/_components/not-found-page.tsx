'use client'

import { lazy } from 'react'

// The root 404, loaded only when it is shown. The root layout's not-found page is part of
// every page's tree, so Next loads its client code on every page in case one is needed; the
// shop's frame it brings (header, footer, cart: the (shop) layout's too) then came twice on
// every catalog page, once in each segment's chunk. Behind this import it is a chunk of its
// own, fetched only on a page that shows the 404 (the server renders it whole first, so the
// page shows at once and hydrates when the chunk arrives). React's lazy rather than
// next/dynamic: the latter's loader (1.5 KB gzip) would itself ride on every page.
const Framed = lazy(() => import('./not-found-framed').then((m) => ({ default: m.NotFoundFramed })))

export function NotFoundPage() {
  return <Framed />
}
