'use server'

import { redirect } from 'next/navigation'
import * as accounts from '@/lib/accounts'
import * as cart from '@/lib/cart'
import * as checkout from '@/lib/checkout'
import { clientAddress } from '@/lib/rate-limit'

// The cart's "Checkout" button: the one way into checkout. A plain form post without
// JavaScript; 303 to the payment page, or back to the cart with a clear message.
export async function startCheckout(_formData: FormData): Promise<void> {
  const cartId = await cart.getCartId()
  if (!cartId) redirect(`/cart?error=${encodeURIComponent('Your cart is empty.')}`)
  let url: string
  try {
    url = (await checkout.start(cartId, await clientAddress(), await accounts.current())).url
  } catch (err) {
    if (checkout.isExpectedFailure(err)) {
      redirect(`/cart?error=${encodeURIComponent(err.message)}`)
    }
    throw err
  }
  redirect(url)
}
