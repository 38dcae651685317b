'use client'

import dynamic from 'next/dynamic'

// The root 404, loaded only when it is shown. The root layout's not-found page is part of
// every page's tree, so Next loads its client code on every page in case one is needed; the
// shop's frame it brings (header, footer, cart: the (shop) layout's too) then came twice on
// every catalog page, once in each segment's chunk. Behind this import it is a chunk of its
// own, fetched (and preloaded by the server's render) only on a page that shows the 404.
const Framed = dynamic(() => import('./not-found-framed').then((m) => m.NotFoundFramed))

export function NotFoundPage() {
  return <Framed />
}
