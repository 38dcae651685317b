'use client'

// A client component with no state, for the same reason as the header: the RSC payload
// carries its props, not its markup a second time.

import { collectionLinks, LinkList } from './link-list'
import { container } from './ui/styles'

type Props = { storeName: string; description: string; priceNote: string; collections: { slug: string; title: string }[] }

export function SiteFooter({ storeName, description, priceNote, collections }: Props) {
  return (
    <footer className="mt-24 border-t border-stone-200 bg-stone-50">
      <div className={`${container} grid gap-10 py-12 sm:grid-cols-2 lg:grid-cols-4`}>
        <div className="lg:col-span-2">
          <p className="text-lg font-semibold tracking-tight">{storeName}</p>
          <p className="mt-2 max-w-sm text-sm leading-relaxed text-stone-600">{description}</p>
        </div>
        <FooterLinks title="Shop" links={[{ href: '/products', label: 'All products' }, ...collectionLinks(collections)]} />
        <FooterLinks
          title="Help"
          links={[
            { href: '/search', label: 'Search' },
            { href: '/cart', label: 'Your cart' },
            { href: '/account', label: 'Your account' },
            { href: '/privacy', label: 'Privacy' },
          ]}
        />
      </div>
      <div className="border-t border-stone-200">
        <p className={`${container} py-6 text-xs text-stone-500`}>
          {`© ${storeName}.${priceNote ? ` ${priceNote}` : ''}`}
        </p>
      </div>
    </footer>
  )
}

function FooterLinks({ title, links }: { title: string; links: { href: string; label: string }[] }) {
  return (
    <nav aria-label={title}>
      <h2 className="text-sm font-semibold">{title}</h2>
      <LinkList links={links} className="footer-list" />
    </nav>
  )
}
