import type { Metadata } from 'next'
import Link from 'next/link'
import { Pagination } from '@/app/_components/pagination'
import { DataTable } from '../../_components/data-table'
import { SelectField, TextField } from '../../_components/fields'
import { Flash, PageTitle, buttonDark, td, when, pick, pageParam, type SearchParams } from '../../_components/ui'
import * as adminAuth from '@/lib/admin-auth'
import { formatMoney } from '@/lib/money'
import * as products from '@/lib/products'
import { site } from '@/lib/seo'

export const metadata: Metadata = { title: 'Products' }

export default async function ProductsPage({ searchParams }: { searchParams: Promise<SearchParams> }) {
  await adminAuth.requireAdmin()
  const params = await searchParams
  const q = (pick(params, 'q') ?? '').trim().slice(0, 200)
  const sortParam = pick(params, 'sort')
  const sort: products.AdminSort = sortParam && sortParam in products.SORTS ? (sortParam as products.AdminSort) : 'newest'
  const status = pick(params, 'status') ?? ''
  const page = pageParam(params)
  const result = await products.list({ q, sort, page, status })
  const currency = site().currency
  const href = (p: number) => `/admin/products?${new URLSearchParams({ q, sort, status, page: String(p) })}`
  return (
    <>
      <PageTitle
        actions={
          <div className="flex flex-wrap items-center gap-3">
            <Link href="/admin/products/bulk" className="text-sm font-medium underline underline-offset-4">Edit prices and stock</Link>
            <Link href="/admin/products/new" className={buttonDark}>New product</Link>
          </div>
        }
      >
        Products
      </PageTitle>
      <Flash params={params} />
      <form method="get" className="mb-4 grid grid-cols-2 gap-3 sm:grid-cols-4" aria-label="Find products">
        <div className="col-span-2">
          <TextField id="q" label="Title or SKU" type="search" defaultValue={q} />
        </div>
        <SelectField id="status" label="Status" defaultValue={status}>
          <option value="">Any</option>
          {products.PRODUCT_STATUSES.map((s) => <option key={s} value={s}>{s}</option>)}
        </SelectField>
        <SelectField id="sort" label="Sort" defaultValue={sort}>
          {Object.entries(products.SORTS).map(([value, text]) => <option key={value} value={value}>{text}</option>)}
        </SelectField>
        <div className="col-span-2 sm:col-span-4"><button type="submit" className={buttonDark}>Search</button></div>
      </form>
      <p className="mb-2 text-sm text-stone-600">{result.total} {result.total === 1 ? 'product' : 'products'}</p>
      <DataTable label="Products" columns={['Product', { label: 'Stock', numeric: true }, { label: 'From', numeric: true }, 'Status', { label: 'Variants', numeric: true }, 'Changed']}>
        {result.rows.map((p) => (
          <tr key={p.id} data-testid="product-row">
            <td className={td}><Link href={`/admin/products/${p.id}`} className="font-semibold underline underline-offset-4">{p.title}</Link></td>
            <td className={`${td} text-right tabular-nums`} data-label="Stock">{p.stock}</td>
            <td className={`${td} text-right tabular-nums`} data-label="From">{p.minPriceCents !== null ? formatMoney(p.minPriceCents, currency) : '—'}</td>
            <td className={td} data-label="Status">{p.status}</td>
            <td className={`${td} text-right tabular-nums`} data-label="Variants">{p.variantCount}</td>
            <td className={td} data-label="Changed">{when(p.updatedAt)}</td>
          </tr>
        ))}
      </DataTable>
      <Pagination page={result.page} pageCount={result.pageCount} hrefFor={href} />
    </>
  )
}
