'use client'

import { Link } from '@/app/_components/shop-link'
import { usePathname } from 'next/navigation'
import type { NavLink } from './link-list'

/**
 * Navigation links that mark the page being shown with aria-current="page" (and style it
 * through that attribute). A client component because the links sit in the root layout,
 * which is shared by every page and cannot know the path on the server without becoming
 * request-time.
 */
export function NavLinks({ links, className, linkClassName }: { links: NavLink[]; className?: string; linkClassName?: string }) {
  const pathname = usePathname()
  return (
    <ul className={className}>
      {links.map((link) => (
        <li key={link.href}>
          <Link href={link.href} className={linkClassName} aria-current={pathname === link.href ? 'page' : undefined}>
            {link.label}
          </Link>
        </li>
      ))}
    </ul>
  )
}
