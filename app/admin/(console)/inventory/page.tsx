import type { Metadata } from 'next'
import Link from 'next/link'
import { Pagination } from '@/app/_components/pagination'
import { Flash, PageTitle, TableScroll, buttonDark, buttonSmall, input, label, table, td, th, pick, type SearchParams } from '../../_components/ui'
import { adjustStockAction } from '../products/actions'
import * as adminAuth from '@/lib/admin-auth'
import * as products from '@/lib/products'

export const metadata: Metadata = { title: 'Inventory' }

export default async function InventoryPage({ searchParams }: { searchParams: Promise<SearchParams> }) {
  await adminAuth.requireAdmin()
  const params = await searchParams
  const q = (pick(params, 'q') ?? '').trim().slice(0, 200)
  const lowOnly = pick(params, 'low') === '1'
  const page = Math.max(1, Math.min(100_000, Number(pick(params, 'page')) || 1))
  const result = products.stockList({ q, page, lowOnly })
  const self = `/admin/inventory?${new URLSearchParams({ q, ...(lowOnly ? { low: '1' } : {}), page: String(page) })}`
  return (
    <>
      <PageTitle>Inventory</PageTitle>
      <Flash params={params} />
      <form method="get" className="mb-4 flex flex-wrap items-end gap-3" aria-label="Find variants">
        <div>
          <label htmlFor="q" className={label}>SKU or product</label>
          <input id="q" name="q" type="search" defaultValue={q} className={input} />
        </div>
        <div className="flex items-center gap-2 pb-2">
          <input id="low" name="low" value="1" type="checkbox" defaultChecked={lowOnly} className="size-4" />
          <label htmlFor="low" className="text-sm">Low stock only ({products.LOW_STOCK} or fewer)</label>
        </div>
        <button type="submit" className={buttonDark}>Find</button>
      </form>
      <TableScroll label="Stock per variant">
        <table className={table}>
          <thead>
            <tr>
              <th className={th} scope="col">Variant</th>
              <th className={`${th} text-right`} scope="col">On shelf</th>
              <th className={`${th} text-right`} scope="col">Held</th>
              <th className={th} scope="col">Adjust</th>
            </tr>
          </thead>
          <tbody>
            {result.rows.map((v) => (
              <tr key={v.id} data-testid="inventory-row" data-sku={v.sku}>
                <td className={td}>
                  <Link href={`/admin/inventory/${v.id}`} className="font-semibold underline underline-offset-4">{v.sku}</Link>
                  <span className="block text-xs text-stone-600">{v.productTitle} · {v.title}{v.productStatus !== 'active' ? ` (${v.productStatus})` : ''}</span>
                </td>
                <td className={`${td} text-right tabular-nums`}>{v.stock}</td>
                <td className={`${td} text-right tabular-nums`}>{v.held}</td>
                <td className={td}>
                  <form action={adjustStockAction} className="flex flex-wrap items-end gap-2">
                    <input type="hidden" name="variantId" value={v.id} />
                    <input type="hidden" name="back" value={self} />
                    <div>
                      <label htmlFor={`delta-${v.id}`} className="text-xs font-medium">Change</label>
                      <input id={`delta-${v.id}`} name="delta" inputMode="numeric" placeholder="+5" className={`${input} w-20`} />
                    </div>
                    <div>
                      <label htmlFor={`note-${v.id}`} className="text-xs font-medium">Why</label>
                      <input id={`note-${v.id}`} name="note" maxLength={200} placeholder="received" className={`${input} w-32`} />
                    </div>
                    <button type="submit" className={buttonSmall}>Apply</button>
                  </form>
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      </TableScroll>
      <Pagination page={result.page} pageCount={result.pageCount} hrefFor={(p) => `/admin/inventory?${new URLSearchParams({ q, ...(lowOnly ? { low: '1' } : {}), page: String(p) })}`} />
    </>
  )
}
