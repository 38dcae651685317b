import type { Metadata } from 'next'
import { Link } from '@/app/_components/shop-link'

export const metadata: Metadata = { title: 'Privacy', description: 'What the shop keeps about you, why, and how to take it with you or have it deleted.' }

// The same for every visitor: static, and safe for any cache.
export default function PrivacyPage() {
  return (
    <main id="main" className="wrap max-w-3xl flex-1 py-12">
      <h1 className="text-3xl font-semibold tracking-tight">Privacy</h1>
      <div className="product-text mt-6 space-y-4 text-stone-700">
        <h2 className="text-xl font-semibold text-stone-900">What we keep</h2>
        <ul className="list-disc space-y-2 pl-6">
          <li>
            <strong>Orders</strong>: the email, name, shipping address and items of every order, and how it was paid (card brand and last four digits only).
            Card numbers never reach us: payment happens on Stripe’s page.
          </li>
          <li>
            <strong>Your cart</strong>: the items in it, under a random cookie, deleted after 30 days without use.
          </li>
          <li>
            <strong>An account</strong>, if you sign in: your email address, when you signed in, and a session cookie (only a scrambled copy is kept on
            our side). Sign-in links work once, for 15 minutes.
          </li>
          <li>
            <strong>Back-in-stock requests and checkout reminders</strong>: the address to write to, until the email is sent or you unsubscribe.
          </li>
        </ul>
        <h2 className="text-xl font-semibold text-stone-900">Cookies</h2>
        <p>Two, both needed for the shop to work and neither for tracking: one for your cart, one for your sign-in. No analytics, no advertising.</p>
        <h2 className="text-xl font-semibold text-stone-900">Your choices</h2>
        <p>
          Signed in, <Link href="/account" className="text-link">your account</Link> lets you download everything we keep about you (as JSON) and delete your
          account. Orders stay in the shop’s books, as the law requires, but are no longer tied to an account. Every email we send for a reminder or an
          alert has an unsubscribe link that works without signing in.
        </p>
      </div>
    </main>
  )
}
