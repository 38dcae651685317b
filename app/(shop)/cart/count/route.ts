import * as cart from '@/lib/cart'

// GET /cart/count: the header's badge, fetched by the browser so that pages never read the
// cart cookie while rendering (they stay cacheable). Private and never cached.
export async function GET() {
  const count = await cart.count(await cart.getCartId())
  return Response.json({ count }, { headers: { 'Cache-Control': 'private, no-store' } })
}
