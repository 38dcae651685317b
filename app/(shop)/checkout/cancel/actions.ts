'use server'

import { redirect } from 'next/navigation'
import * as cart from '@/lib/cart'
import * as checkout from '@/lib/checkout'
import * as flash from '@/lib/request/flash'

// The cancel page's button: gives this cart's held units back and expires its open Stripe
// session. A POST (a server action, so the Origin is checked) because it changes state;
// a link from another site can only show the page. Idempotent.
export async function cancelCheckout(_formData: FormData): Promise<void> {
  const cartId = await cart.getCartId()
  if (cartId) await checkout.cancel(cartId)
  redirect(flash.href('/cart', 'notice', 'Checkout canceled. Your cart is as you left it.'))
}
