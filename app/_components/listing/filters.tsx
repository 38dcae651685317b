import Form from 'next/form'
import { Link } from '@/app/_components/shop-link'
import { AutoSubmit } from './auto-submit'
import { CloseIcon } from '../ui/icons'
import { SORT_LABELS, SORTS, listingHref, type Facets, type ListingQuery, type Sort } from '@/lib/catalog'

type Props = { facets: Facets; query: ListingQuery & { sort: Sort }; idPrefix: string }

const box = 'filter-box'

/** The listing's filters: a GET form, so every state has a URL and it works without JS. */
export function FilterForm({ facets, query, idPrefix }: Props) {
  return (
    <Form action="/products" className="space-y-6" aria-label="Filter products">
      <AutoSubmit />
      {query.sort !== 'featured' ? <input type="hidden" name="sort" value={query.sort} /> : null}
      {facets.collections.length > 0 ? (
        <fieldset>
          <legend className="text-sm font-semibold">Collection</legend>
          <div className="mt-3 space-y-2 text-sm">
            <label className="flex items-center gap-2.5">
              <input type="radio" name="collection" value="" defaultChecked={!query.collection} className={box} />
              All products
            </label>
            {facets.collections.map((c) => (
              <label key={c.slug} className="flex items-center gap-2.5">
                <input type="radio" name="collection" value={c.slug} defaultChecked={query.collection === c.slug} className={box} />
                {c.title}
              </label>
            ))}
          </div>
        </fieldset>
      ) : null}
      {facets.options.map((option) => (
        <fieldset key={option.name}>
          <legend className="text-sm font-semibold">{option.name}</legend>
          <div className="mt-3 flex flex-wrap gap-2 text-sm">
            {option.values.map((value) => {
              const id = `${idPrefix}-${option.param}-${value.replace(/\W+/g, '-')}`
              return (
                <span key={value}>
                  <input
                    type="checkbox"
                    id={id}
                    name={option.param}
                    value={value}
                    defaultChecked={query.options?.[option.name]?.includes(value) ?? false}
                    className="peer sr-only"
                  />
                  <label
                    htmlFor={id}
                    className="filter-chip"
                  >
                    {value}
                  </label>
                </span>
              )
            })}
          </div>
        </fieldset>
      ))}
      <label className="flex items-center gap-2.5 text-sm font-medium">
        <input type="checkbox" name="instock" value="1" defaultChecked={query.inStock ?? false} className={box} />
        In stock only
      </label>
      <div className="flex items-center gap-4">
        <button type="submit" className="rounded-full bg-stone-900 px-5 py-2 text-sm font-semibold text-white hover:bg-stone-700">
          Apply filters
        </button>
        <Link href="/products" className="text-sm text-stone-600 underline underline-offset-4 hover:text-stone-900">
          Clear all
        </Link>
      </div>
    </Form>
  )
}

export function SortForm({ facets, query }: Omit<Props, 'idPrefix'>) {
  return (
    <Form action="/products" className="flex items-center gap-2" aria-label="Sort products">
      <AutoSubmit />
      {query.collection ? <input type="hidden" name="collection" value={query.collection} /> : null}
      {facets.options.flatMap((o) => (query.options?.[o.name] ?? []).map((v) => <input key={`${o.param}-${v}`} type="hidden" name={o.param} value={v} />))}
      {query.inStock ? <input type="hidden" name="instock" value="1" /> : null}
      <label htmlFor="sort" className="text-sm text-stone-600">
        Sort by
      </label>
      <select id="sort" name="sort" defaultValue={query.sort} className="h-10 rounded-full border border-stone-300 bg-white pl-3 pr-8 text-sm focus:border-stone-900">
        {SORTS.map((s) => (
          <option key={s} value={s}>
            {SORT_LABELS[s]}
          </option>
        ))}
      </select>
      <noscript>
        <button type="submit" className="rounded-full border border-stone-300 px-3 py-2 text-sm">
          Sort
        </button>
      </noscript>
    </Form>
  )
}

/** The filters in force, each with a link that removes it. */
export function ActiveFilters({ facets, query }: Omit<Props, 'idPrefix'>) {
  const chips: { label: string; href: string }[] = []
  if (query.collection) {
    const title = facets.collections.find((c) => c.slug === query.collection)?.title ?? query.collection
    chips.push({ label: title, href: listingHref('/products', query, facets, { collection: null, page: 1 }) })
  }
  for (const option of facets.options) {
    for (const value of query.options?.[option.name] ?? []) {
      const rest = { ...query.options, [option.name]: (query.options?.[option.name] ?? []).filter((v) => v !== value) }
      chips.push({ label: `${option.name}: ${value}`, href: listingHref('/products', query, facets, { options: rest, page: 1 }) })
    }
  }
  if (query.inStock) chips.push({ label: 'In stock', href: listingHref('/products', query, facets, { inStock: false, page: 1 }) })
  if (chips.length === 0) return null
  return (
    <ul className="flex flex-wrap gap-2" aria-label="Active filters">
      {chips.map((chip) => (
        <li key={chip.label}>
          <Link href={chip.href} className="inline-flex items-center gap-1.5 rounded-full bg-stone-100 px-3 py-1.5 text-sm hover:bg-stone-200" aria-label={`Remove filter ${chip.label}`}>
            {chip.label}
            <CloseIcon className="size-3.5" />
          </Link>
        </li>
      ))}
    </ul>
  )
}
