'use client'

import { CartProvider } from './cart/cart-provider'
import { NotFoundBody } from './not-found-body'
import { FetchedSiteFrame } from './site-shell'

/** The 404 in the shop's frame, which it fetches itself (app/not-found.tsx says why). */
export function NotFoundFramed() {
  return (
    <CartProvider>
      <FetchedSiteFrame>
        <NotFoundBody />
      </FetchedSiteFrame>
    </CartProvider>
  )
}
