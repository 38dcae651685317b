'use client'

// A client component with no state of its own, on purpose: it is on every page, and a server
// component's markup travels twice (HTML, then again in the RSC payload); a client one's
// payload is its few props. Its code is in the browser already (FetchedSiteFrame uses it).

import { Link } from '@/app/_components/shop-link'
import { CartLink } from './cart/cart-provider'
import { HeaderSearch } from './header-search'
import { allProducts, collectionLinks } from './link-list'
import { NavLinks } from './nav-links'
import { PersonIcon, SearchIcon } from './ui/icons'
import { container } from './ui/styles'

// Collections in the header on a desk, and as a row of chips under it on a phone; the lists'
// classes style their links (globals.css), so no link carries a class of its own in every
// page's HTML.
const mainList = 'nav-list'
const chipList = 'chip-list'

type Props = { storeName: string; collections: { slug: string; title: string }[]; isTestMode: boolean }

export function SiteHeader({ storeName, collections, isTestMode }: Props) {
  const primary = collections.slice(0, 5)
  return (
    <>
      <header className="site-header">
        {isTestMode ? (
          <p className="test-banner" data-testid="test-mode-banner">
            Test mode — payments are simulated; use card <span className="whitespace-nowrap">4242 4242 4242 4242</span>
          </p>
        ) : null}
        <div className={`${container} flex h-16 items-center gap-4`}>
          <Link href="/" className="shrink-0 text-lg font-semibold tracking-tight" data-testid="store-name">
            {storeName}
          </Link>
          <nav aria-label="Main" className="hidden min-w-0 flex-1 md:block">
            <NavLinks links={[allProducts, ...collectionLinks(primary)]} className={mainList} />
          </nav>
          <div className="ml-auto flex items-center gap-1 md:ml-0">
            <HeaderSearch />
            <Link href="/search" className="icon-link sm:hidden" aria-label="Search">
              <SearchIcon />
            </Link>
            {/* the same link for everyone: the header is shared by cached catalog pages */}
            <Link href="/account" className="icon-link" aria-label="Your account" data-testid="account-link">
              <PersonIcon />
            </Link>
            <CartLink />
          </div>
        </div>
      </header>
      <nav aria-label="Collections" className="chip-bar">
        <NavLinks links={[allProducts, ...collectionLinks(collections)]} className={chipList} />
      </nav>
    </>
  )
}
