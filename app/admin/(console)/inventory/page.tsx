import type { Metadata } from 'next'
import Link from 'next/link'
import { Pagination } from '@/app/_components/pagination'
import { DataTable } from '../../_components/data-table'
import { TextField } from '../../_components/fields'
import { Flash, PageTitle, buttonDark, td, pick, pageParam, type SearchParams } from '../../_components/ui'
import { StockCells } from '../products/stock-cells'
import * as adminAuth from '@/lib/admin-auth'
import * as products from '@/lib/products'
import * as stockAlerts from '@/lib/stock-alerts'

export const metadata: Metadata = { title: 'Inventory' }

export default async function InventoryPage({ searchParams }: { searchParams: Promise<SearchParams> }) {
  await adminAuth.requireAdmin()
  const params = await searchParams
  const q = (pick(params, 'q') ?? '').trim().slice(0, 200)
  const lowOnly = pick(params, 'low') === '1'
  const page = pageParam(params)
  const result = await products.stockList({ q, page, lowOnly })
  const waiting = await stockAlerts.waitingByVariant()
  const self = `/admin/inventory?${new URLSearchParams({ q, ...(lowOnly ? { low: '1' } : {}), page: String(page) })}`
  return (
    <>
      <PageTitle>Inventory</PageTitle>
      <Flash params={params} />
      <form method="get" className="mb-4 flex flex-wrap items-end gap-3" aria-label="Find variants">
        <TextField id="q" label="SKU or product" type="search" defaultValue={q} />
        <div className="flex items-center gap-2 pb-2">
          <input id="low" name="low" value="1" type="checkbox" defaultChecked={lowOnly} className="size-4" />
          <label htmlFor="low" className="text-sm">Low stock only ({products.LOW_STOCK} or fewer)</label>
        </div>
        <button type="submit" className={buttonDark}>Find</button>
      </form>
      <DataTable label="Stock per variant" columns={['Variant', { label: 'On shelf', numeric: true }, { label: 'Held', numeric: true }, 'Adjust', { label: 'Waiting for “back in stock”', numeric: true }]}>
        {result.rows.map((v) => (
          <tr key={v.id} data-testid="inventory-row" data-sku={v.sku}>
            <td className={td}>
              <Link href={`/admin/inventory/${v.id}`} className="font-semibold underline underline-offset-4">{v.sku}</Link>
              <span className="block text-xs text-stone-600">{v.productTitle} · {v.title}{v.productStatus !== 'active' ? ` (${v.productStatus})` : ''}</span>
            </td>
            <StockCells variant={v} back={self} />
            <td className={`${td} text-right tabular-nums`} data-testid="stock-alerts-waiting">{waiting.get(v.id) ?? 0}</td>
          </tr>
        ))}
      </DataTable>
      <Pagination page={result.page} pageCount={result.pageCount} hrefFor={(p) => `/admin/inventory?${new URLSearchParams({ q, ...(lowOnly ? { low: '1' } : {}), page: String(p) })}`} />
    </>
  )
}
