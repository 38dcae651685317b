'use client'

// The 404's content, a client component with no state on purpose: the root layout carries its
// not-found page in the RSC payload of every page it serves, in case one is needed, and a
// client component is carried there as a reference rather than as its whole markup.

import { Link } from '@/app/_components/shop-link'
import { buttonPrimary, buttonSecondary, container } from './ui/styles'

export function NotFoundBody() {
  return (
    <main id="main" className={`${container} flex flex-1 flex-col items-center justify-center py-24 text-center`}>
      <p className="text-sm font-semibold uppercase tracking-[0.2em] text-stone-500">404</p>
      <h1 className="mt-3 text-3xl font-semibold tracking-tight sm:text-4xl">We couldn’t find that page</h1>
      <p className="mt-3 max-w-md text-stone-600">It may have sold out for good, moved, or never existed. Try a search, or have a look around the shop.</p>
      <form action="/search" role="search" className="mt-8 flex w-full max-w-md gap-2">
        <label htmlFor="not-found-q" className="sr-only">
          Search products
        </label>
        <input id="not-found-q" type="search" name="q" placeholder="Search the shop" maxLength={200} className="h-12 flex-1 rounded-full border border-stone-300 px-5 text-base focus:border-stone-900" />
        <button type="submit" className={buttonSecondary}>
          Search
        </button>
      </form>
      <div className="mt-6 flex gap-3">
        <Link href="/products" className={buttonPrimary}>
          Shop all
        </Link>
        <Link href="/" className={buttonSecondary}>
          Home
        </Link>
      </div>
    </main>
  )
}
