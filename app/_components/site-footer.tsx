import Link from 'next/link'
import { container } from './ui/styles'

type Props = { storeName: string; description: string; collections: { slug: string; title: string }[] }

export function SiteFooter({ storeName, description, collections }: Props) {
  return (
    <footer className="mt-24 border-t border-stone-200 bg-stone-50">
      <div className={`${container} grid gap-10 py-12 sm:grid-cols-2 lg:grid-cols-4`}>
        <div className="lg:col-span-2">
          <p className="text-lg font-semibold tracking-tight">{storeName}</p>
          <p className="mt-2 max-w-sm text-sm leading-relaxed text-stone-600">{description}</p>
        </div>
        <nav aria-label="Shop">
          <h2 className="text-sm font-semibold">Shop</h2>
          <ul className="mt-3 space-y-2 text-sm text-stone-600">
            <li>
              <Link href="/products" className="hover:text-stone-900 hover:underline">
                All products
              </Link>
            </li>
            {collections.map((c) => (
              <li key={c.slug}>
                <Link href={`/collections/${c.slug}`} className="hover:text-stone-900 hover:underline">
                  {c.title}
                </Link>
              </li>
            ))}
          </ul>
        </nav>
        <nav aria-label="Help">
          <h2 className="text-sm font-semibold">Help</h2>
          <ul className="mt-3 space-y-2 text-sm text-stone-600">
            <li>
              <Link href="/search" className="hover:text-stone-900 hover:underline">
                Search
              </Link>
            </li>
            <li>
              <Link href="/cart" className="hover:text-stone-900 hover:underline">
                Your cart
              </Link>
            </li>
          </ul>
        </nav>
      </div>
      <div className="border-t border-stone-200">
        <p className={`${container} py-6 text-xs text-stone-500`}>
          © {storeName}. Prices include everything but shipping, which you choose at checkout.
        </p>
      </div>
    </footer>
  )
}
