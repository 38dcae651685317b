import { cookies } from 'next/headers'

// Reads a cookie, so it renders on every request: the dynamic baseline for the cart.
export default async function CookiePage() {
  const cart = (await cookies()).get('cart')?.value
  return (
    <main>
      <h1>Your cart</h1>
      <p>{cart ? `Cart ${cart.slice(0, 40)}` : 'Your cart is empty.'}</p>
    </main>
  )
}
