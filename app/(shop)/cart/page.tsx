import type { Metadata } from 'next'
import { CartContents } from './cart-contents'
import { startCheckout } from './checkout-action'
import { buttonPrimary, container } from '@/app/_components/ui/styles'
import * as cart from '@/lib/cart'
import * as checkout from '@/lib/checkout'
import * as flash from '@/lib/request/flash'

export const metadata: Metadata = { title: 'Your cart', robots: { index: false, follow: false } }

type Props = { searchParams: Promise<Record<string, string | string[] | undefined>> }

export default async function CartPage({ searchParams }: Props) {
  const [query, cartId] = await Promise.all([searchParams, cart.getCartId()])
  const view = cartId ? await cart.load(cartId) : null
  const current = view && view.status !== 'converted' ? view : null
  return (
    <main id="main" className={`${container} flex-1 pt-8`}>
      <h1 className="text-3xl font-semibold tracking-tight sm:text-4xl">Your cart</h1>
      <CartContents
        initial={current}
        flash={flash.read(query)}
        notes={checkout.priceNotes()}
        checkout={
          <form action={startCheckout}>
            <button type="submit" className={`${buttonPrimary} w-full py-3.5 text-base`} data-testid="checkout-button">
              Checkout
            </button>
          </form>
        }
      />
    </main>
  )
}
