'use client'

// A client component with no state, on purpose: the RSC payload then carries the few items,
// not a second copy of the list's markup.

import { Link } from '@/app/_components/shop-link'

export function Breadcrumbs({ items }: { items: { href?: string; label: string }[] }) {
  return (
    <nav aria-label="Breadcrumb" className="text-sm text-stone-500">
      <ol className="flex flex-wrap items-center gap-1.5">
        {items.map((item, i) => (
          <li key={i} className="crumb">
            {i > 0 ? <span aria-hidden="true">/</span> : null}
            {item.href ? (
              <Link href={item.href} className="quiet-link">
                {item.label}
              </Link>
            ) : (
              <span aria-current="page" className="text-stone-700">
                {item.label}
              </span>
            )}
          </li>
        ))}
      </ol>
    </nav>
  )
}
