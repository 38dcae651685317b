'use server'

import { redirect } from 'next/navigation'
import * as accounts from '@/lib/accounts'
import * as cart from '@/lib/cart'
import * as checkout from '@/lib/checkout'
import * as clientAddress from '@/lib/request/client-address'
import { isExpected } from '@/lib/errors'
import * as flash from '@/lib/request/flash'

// The cart's "Checkout" button: the one way into checkout. A plain form post without
// JavaScript; 303 to the payment page, or back to the cart with a clear message.
export async function startCheckout(_formData: FormData): Promise<void> {
  const cartId = await cart.getCartId()
  if (!cartId) redirect(flash.href('/cart', 'error', 'Your cart is empty.'))
  let url: string
  try {
    url = (await checkout.start(cartId, await clientAddress.current(), await accounts.current())).url
  } catch (err) {
    if (isExpected(err)) {
      redirect(flash.href('/cart', 'error', err.message))
    }
    throw err
  }
  redirect(url)
}
