import * as cart from '@/lib/cart'
import * as checkout from '@/lib/checkout'

export const runtime = 'nodejs'
export const dynamic = 'force-dynamic'

// Stripe's cancel_url: release this cart's holds, then back to the cart. Idempotent.
export async function GET() {
  const cartId = await cart.getCartId()
  if (cartId) await checkout.cancel(cartId)
  const notice = 'Checkout canceled. Your cart is as you left it.'
  return new Response(null, { status: 303, headers: { Location: `/cart?${new URLSearchParams({ notice })}` } })
}
