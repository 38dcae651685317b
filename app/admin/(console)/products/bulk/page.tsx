import type { Metadata } from 'next'
import Link from 'next/link'
import { Pagination } from '@/app/_components/pagination'
import { ActionForm, Field, HiddenField } from '../../../_components/action-form'
import { DataTable } from '../../../_components/data-table'
import { TextField } from '../../../_components/fields'
import { Flash, PageTitle, buttonDark, td, pick, pageParam, type SearchParams } from '../../../_components/ui'
import { bulkEditAction } from './actions'
import { fieldOf } from '@/lib/bulk-edit'
import { decimalAmount, moneyHint } from '@/lib/money'
import * as products from '@/lib/products'
import { site } from '@/lib/seo'
import * as staff from '@/lib/staff'

export const metadata: Metadata = { title: 'Edit prices and stock' }

// Many variants' prices and stock in one form. Each row carries what the page showed, so the
// stock typed is applied as a change from it and a sale made meanwhile is kept.
export default async function BulkEditPage({ searchParams }: { searchParams: Promise<SearchParams> }) {
  await staff.requirePermission('stock')
  await staff.requirePermission('products')
  const params = await searchParams
  const q = (pick(params, 'q') ?? '').trim().slice(0, 200)
  const page = pageParam(params)
  const result = await products.stockList({ q, page, byProduct: true })
  const href = (p: number) => `/admin/products/bulk?${new URLSearchParams({ q, page: String(p) })}`
  return (
    <>
      <PageTitle actions={<Link href="/admin/products" className="text-sm font-medium underline underline-offset-4">All products</Link>}>Edit prices and stock</PageTitle>
      <Flash params={params} />
      <form method="get" className="mb-4 flex flex-wrap items-end gap-3" aria-label="Find variants">
        <TextField id="q" label="Product or SKU" type="search" defaultValue={q} />
        <button type="submit" className={buttonDark}>Find</button>
      </form>
      <p className="mb-2 text-sm text-stone-600">
        {result.total} {result.total === 1 ? 'variant' : 'variants'}. {moneyHint(site().currency)} Stock is the count on the shelf; a sale made while this page is open is kept.
      </p>
      <ActionForm action={bulkEditAction} testId="bulk-form" aria-label="Prices and stock" isGuardingEdits>
        <DataTable label="Prices and stock" columns={['Product', 'Variant', 'SKU', 'Price', 'Stock']}>
          {result.rows.map((v) => (
            <tr key={v.id} data-testid="bulk-row" data-sku={v.sku}>
              <td className={td}>
                <Link href={`/admin/products/${v.productId}`} className="font-semibold underline underline-offset-4">{v.productTitle}</Link>
                <input type="hidden" name="variant" value={v.id} />
                <HiddenField name={`seenPrice-${v.id}`} defaultValue={String(v.priceCents)} />
                <HiddenField name={`seenStock-${v.id}`} defaultValue={String(v.stock)} />
              </td>
              <td className={td} data-label="Variant">{v.title}</td>
              <td className={`${td} [overflow-wrap:anywhere]`} data-label="SKU">{v.sku}</td>
              <td className={td} data-label="Price">
                <Field name={fieldOf('price', v.id)} label={`Price of ${v.sku}`} labelClassName="sr-only" inputMode="decimal" defaultValue={decimalAmount(v.priceCents, v.currency)} className="min-w-24" />
              </td>
              <td className={td} data-label="Stock">
                <Field name={fieldOf('stock', v.id)} label={`Stock of ${v.sku}`} labelClassName="sr-only" inputMode="numeric" defaultValue={String(v.stock)} className="min-w-20" />
              </td>
            </tr>
          ))}
        </DataTable>
        {result.rows.length ? <button type="submit" className={`${buttonDark} mt-4`}>Save prices and stock</button> : null}
      </ActionForm>
      <Pagination page={result.page} pageCount={result.pageCount} hrefFor={href} />
    </>
  )
}
