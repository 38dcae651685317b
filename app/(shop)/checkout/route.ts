import * as cart from '@/lib/cart'
import * as checkout from '@/lib/checkout'

export const runtime = 'nodejs'
export const dynamic = 'force-dynamic'

// POST /checkout: the cart's "Checkout" button, a plain form post that works without
// JavaScript. 303 to Stripe's hosted page, or back to the cart with a clear message.
export async function POST() {
  const back = (params: Record<string, string>) => new Response(null, { status: 303, headers: { Location: `/cart?${new URLSearchParams(params)}` } })
  const cartId = await cart.getCartId()
  if (!cartId) return back({ error: 'Your cart is empty.' })
  try {
    const { url } = await checkout.start(cartId)
    return new Response(null, { status: 303, headers: { Location: url } })
  } catch (err) {
    if (checkout.isExpectedFailure(err)) {
      return back({ error: err.message })
    }
    throw err
  }
}
