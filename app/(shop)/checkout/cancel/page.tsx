import type { Metadata } from 'next'
import { Link } from '@/app/_components/shop-link'
import { cancelCheckout } from './actions'
import { buttonPrimary, buttonSecondary } from '@/app/_components/ui/styles'

export const metadata: Metadata = { title: 'Checkout not completed', robots: { index: false, follow: false } }

// Stripe's cancel_url. Showing it changes nothing: the held units go back only when the
// shopper presses the button (a GET anyone can link to must not cancel a checkout).
export default function CheckoutCancelPage() {
  return (
    <main id="main" className="mx-auto max-w-2xl px-4 py-16">
      <h1 className="text-2xl font-semibold">You left the payment page</h1>
      <p className="mt-2 text-stone-600">Nothing was charged. The items in your cart are held for you for a little while.</p>
      <div className="mt-8 flex flex-wrap gap-3">
        <form action={cancelCheckout}>
          <button type="submit" className={buttonPrimary} data-testid="cancel-checkout">
            Cancel checkout
          </button>
        </form>
        <Link href="/cart" className={buttonSecondary}>
          Back to cart
        </Link>
      </div>
    </main>
  )
}
