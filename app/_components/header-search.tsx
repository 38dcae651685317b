'use client'

import { usePathname } from 'next/navigation'
import { SearchIcon } from './ui/icons'

/**
 * The header's search box. The header lives in the shop's layout, which survives client
 * navigations, so an uncontrolled input kept the last query on every later page; keying it
 * by the path gives each page a fresh, empty box.
 *
 * A plain GET form: the results page loads in full, from the response cache. next/form would
 * make it a client navigation, but its code (1.7 KB gzip) rode on every page of the shop for
 * one submit, and kept first-load JS over its budget (docs/performance.md).
 */
export function HeaderSearch() {
  const pathname = usePathname()
  return (
    <form action="/search" role="search" className="relative hidden sm:block">
      <label htmlFor="header-search" className="sr-only">
        Search products
      </label>
      <input
        key={pathname}
        id="header-search"
        type="search"
        name="q"
        placeholder="Search"
        maxLength={200}
        autoComplete="off"
        className="header-search"
      />
      <SearchIcon className="header-search-icon" />
    </form>
  )
}
