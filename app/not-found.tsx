import { CartProvider } from './_components/cart/cart-provider'
import { NotFoundBody } from './_components/not-found-body'
import { FetchedSiteFrame } from './_components/site-shell'

// The shop's 404 in the shop's frame. It sits under the root layout only (outside the (shop)
// group), so it brings the frame itself: the fetched one, all client components, because this
// page rides along in every page's payload and is prerendered by `next build` as well.
export default function NotFound() {
  return (
    <CartProvider>
      <FetchedSiteFrame>
        <NotFoundBody />
      </FetchedSiteFrame>
    </CartProvider>
  )
}
