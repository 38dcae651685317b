import { Link } from '@/app/_components/shop-link'

/** Previous / numbered / next links; plain GET links, so they work without JavaScript. */
export function Pagination({ page, pageCount, hrefFor }: { page: number; pageCount: number; hrefFor: (page: number) => string }) {
  if (pageCount <= 1) return null
  const pages = Array.from({ length: pageCount }, (_, i) => i + 1).filter((p) => p === 1 || p === pageCount || Math.abs(p - page) <= 1)
  const item = 'inline-flex min-w-10 items-center justify-center rounded-full px-3 py-2 text-sm font-medium'
  return (
    <nav aria-label="Pagination" className="mt-12 flex justify-center">
      <ul className="flex items-center gap-1">
        <li>
          {page > 1 ? (
            <Link href={hrefFor(page - 1)} className={`${item} hover:bg-stone-100`} rel="prev">
              Previous
            </Link>
          ) : (
            <span className={`${item} text-stone-500`} aria-disabled="true">
              Previous
            </span>
          )}
        </li>
        {pages.map((p, i) => (
          <li key={p} className="flex items-center">
            {i > 0 && p - pages[i - 1]! > 1 ? (
              <span className="px-1 text-stone-400" aria-hidden="true">
                …
              </span>
            ) : null}
            <Link
              href={hrefFor(p)}
              aria-current={p === page ? 'page' : undefined}
              aria-label={`Page ${p}`}
              className={`${item} ${p === page ? 'bg-stone-900 text-white' : 'hover:bg-stone-100'}`}
            >
              {p}
            </Link>
          </li>
        ))}
        <li>
          {page < pageCount ? (
            <Link href={hrefFor(page + 1)} className={`${item} hover:bg-stone-100`} rel="next">
              Next
            </Link>
          ) : (
            <span className={`${item} text-stone-500`} aria-disabled="true">
              Next
            </span>
          )}
        </li>
      </ul>
    </nav>
  )
}
