'use client'

import Form from 'next/form'
import { usePathname } from 'next/navigation'
import { SearchIcon } from './ui/icons'

/**
 * The header's search box. The header lives in the root layout, which survives client
 * navigations, so an uncontrolled input kept the last query on every later page; keying it
 * by the path gives each page a fresh, empty box.
 */
export function HeaderSearch() {
  const pathname = usePathname()
  return (
    <Form action="/search" role="search" className="relative hidden sm:block">
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
    </Form>
  )
}
