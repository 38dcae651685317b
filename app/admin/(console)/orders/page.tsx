import type { Metadata } from 'next'
import Link from 'next/link'
import { Pagination } from '@/app/_components/pagination'
import { Flash, PageTitle, StatusBadge, TableScroll, badge, buttonDark, buttonSmall, input, label, td, th, table, when, type SearchParams } from '../../_components/ui'
import { ORDER_STATUS_LIST } from './statuses'
import * as adminAuth from '@/lib/admin-auth'
import { formatMoney } from '@/lib/money'
import * as orderList from '@/lib/order-list'

export const metadata: Metadata = { title: 'Orders' }

function query(f: orderList.OrderFilters, page: number): string {
  const p = new URLSearchParams()
  for (const key of ['status', 'flag', 'from', 'to', 'q'] as const) if (f[key]) p.set(key, String(f[key]))
  if (page > 1) p.set('page', String(page))
  const s = p.toString()
  return s ? `?${s}` : ''
}

export default async function OrdersPage({ searchParams }: { searchParams: Promise<SearchParams> }) {
  await adminAuth.requireAdmin()
  const params = await searchParams
  const filters = orderList.parseFilters(params)
  const result = orderList.list(filters)
  return (
    <>
      <PageTitle actions={<a href={`/admin/orders/export${query(filters, 1)}`} className={buttonSmall} data-testid="orders-export">Export CSV</a>}>Orders</PageTitle>
      <Flash params={params} />
      <form method="get" className="mb-6 grid grid-cols-2 gap-3 sm:grid-cols-3 lg:grid-cols-6" aria-label="Filter orders">
        <div className="col-span-2">
          <label htmlFor="q" className={label}>Email or order number</label>
          <input id="q" name="q" type="search" defaultValue={filters.q ?? ''} className={input} />
        </div>
        <div>
          <label htmlFor="status" className={label}>Status</label>
          <select id="status" name="status" defaultValue={filters.status ?? ''} className={input}>
            <option value="">Any</option>
            {ORDER_STATUS_LIST.map((s) => (
              <option key={s} value={s}>{s.replace(/_/g, ' ')}</option>
            ))}
          </select>
        </div>
        <div>
          <label htmlFor="flag" className={label}>Flag</label>
          <select id="flag" name="flag" defaultValue={filters.flag ?? ''} className={input}>
            <option value="">None</option>
            <option value="oversold">Oversold</option>
            <option value="disputed">Disputed</option>
          </select>
        </div>
        <div>
          <label htmlFor="from" className={label}>From</label>
          <input id="from" name="from" type="date" defaultValue={filters.from ?? ''} className={input} />
        </div>
        <div>
          <label htmlFor="to" className={label}>To</label>
          <input id="to" name="to" type="date" defaultValue={filters.to ?? ''} className={input} />
        </div>
        <div className="col-span-2 sm:col-span-3 lg:col-span-6">
          <button type="submit" className={buttonDark}>Filter</button>
        </div>
      </form>
      <p className="mb-2 text-sm text-stone-600">{result.total} {result.total === 1 ? 'order' : 'orders'}</p>
      <TableScroll label="Orders">
        <table className={table}>
          <thead>
            <tr>
              <th className={th} scope="col">Order</th>
              <th className={th} scope="col">Placed</th>
              <th className={th} scope="col">Customer</th>
              <th className={th} scope="col">Status</th>
              <th className={`${th} text-right`} scope="col">Total</th>
            </tr>
          </thead>
          <tbody>
            {result.rows.map((o) => (
              <tr key={o.id} data-testid="order-row" className={o.isOversold || o.isDisputed ? 'bg-red-50' : undefined}>
                <td className={td}>
                  <Link href={`/admin/orders/${o.id}`} className="font-semibold underline underline-offset-4">
                    #{String(o.id).padStart(5, '0')}
                  </Link>
                </td>
                <td className={td}>{when(o.createdAt)}</td>
                <td className={`${td} break-all`}>{o.email ?? '—'}</td>
                <td className={td}>
                  <StatusBadge status={o.status} />{' '}
                  {o.isOversold ? <span className={`${badge} bg-red-700 text-white`}>oversold</span> : null}{' '}
                  {o.isDisputed ? <span className={`${badge} bg-red-700 text-white`}>disputed</span> : null}
                </td>
                <td className={`${td} text-right tabular-nums`}>{formatMoney(o.totalCents, o.currency)}</td>
              </tr>
            ))}
          </tbody>
        </table>
      </TableScroll>
      <Pagination page={result.page} pageCount={result.pageCount} hrefFor={(p) => `/admin/orders${query(filters, p)}`} />
    </>
  )
}
