import { Link } from '@/app/_components/shop-link'

// A list of plain links (navigation, footers, "browse collections"): one markup, styled by
// its caller.

export type NavLink = { href: string; label: string }

export const allProducts: NavLink = { href: '/products', label: 'Shop all' }

export function collectionLinks(collections: { slug: string; title: string }[]): NavLink[] {
  return collections.map((c) => ({ href: `/collections/${c.slug}`, label: c.title }))
}

export function LinkList({ links, className, linkClassName }: { links: NavLink[]; className?: string; linkClassName?: string }) {
  return (
    <ul className={className}>
      {links.map((link) => (
        <li key={link.href}>
          <Link href={link.href} className={linkClassName}>
            {link.label}
          </Link>
        </li>
      ))}
    </ul>
  )
}
