import type { Metadata } from 'next'
import Link from 'next/link'
import { Pagination } from '@/app/_components/pagination'
import { DataTable } from '../../_components/data-table'
import { SelectField, TextField } from '../../_components/fields'
import { Flash, PageTitle, StatusBadge, badge, buttonDark, buttonSmall, td, when, type SearchParams } from '../../_components/ui'
import * as adminAuth from '@/lib/admin-auth'
import { formatMoney } from '@/lib/money'
import * as orderList from '@/lib/orders/list'
import * as orders from '@/lib/orders'

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
  const result = await orderList.list(filters)
  return (
    <>
      <PageTitle actions={<a href={`/admin/orders/export${query(filters, 1)}`} className={buttonSmall} data-testid="orders-export">Export CSV</a>}>Orders</PageTitle>
      <Flash params={params} />
      <form method="get" className="mb-6 grid grid-cols-2 gap-3 sm:grid-cols-3 lg:grid-cols-6" aria-label="Filter orders">
        <div className="col-span-2">
          <TextField id="q" label="Email or order number" type="search" defaultValue={filters.q ?? ''} />
        </div>
        <SelectField id="status" label="Status" defaultValue={filters.status ?? ''}>
          <option value="">Any</option>
          {orders.ORDER_STATUSES.map((s) => (
            <option key={s} value={s}>{s.replace(/_/g, ' ')}</option>
          ))}
        </SelectField>
        <SelectField id="flag" label="Flag" defaultValue={filters.flag ?? ''}>
          <option value="">None</option>
          <option value="oversold">Oversold</option>
          <option value="disputed">Disputed</option>
        </SelectField>
        <TextField id="from" label="From" type="date" defaultValue={filters.from ?? ''} />
        <TextField id="to" label="To" type="date" defaultValue={filters.to ?? ''} />
        <div className="col-span-2 sm:col-span-3 lg:col-span-6">
          <button type="submit" className={buttonDark}>Filter</button>
        </div>
      </form>
      <p className="mb-2 text-sm text-stone-600">{result.total} {result.total === 1 ? 'order' : 'orders'}</p>
      <DataTable label="Orders" columns={['Order', 'Customer', { label: 'Total', numeric: true }, 'Status', 'Placed', { label: 'Discount', numeric: true }, { label: 'Tax', numeric: true }]}>
        {result.rows.map((o) => (
          <tr key={o.id} data-testid="order-row" className={o.isOversold || o.isDisputed ? 'bg-red-50' : undefined}>
            <td className={td}>
              <Link href={`/admin/orders/${o.id}`} className="font-semibold underline underline-offset-4">
                #{String(o.id).padStart(5, '0')}
              </Link>
            </td>
            <td className={`${td} [overflow-wrap:anywhere]`} data-label="Customer">{o.email ?? '—'}</td>
            <td className={`${td} text-right tabular-nums`} data-label="Total">{formatMoney(o.totalCents, o.currency)}</td>
            <td className={td} data-label="Status">
              <StatusBadge status={o.status} />{' '}
              {o.isOversold ? <span className={`${badge} bg-red-700 text-white`}>oversold</span> : null}{' '}
              {o.isDisputed ? <span className={`${badge} bg-red-700 text-white`}>disputed</span> : null}
            </td>
            <td className={td} data-label="Placed">{when(o.createdAt)}</td>
            <td className={`${td} text-right tabular-nums`} data-label="Discount" title={o.discountCodes.join(', ') || undefined}>{o.discountCents ? formatMoney(-o.discountCents, o.currency) : '—'}</td>
            <td className={`${td} text-right tabular-nums`} data-label="Tax">{o.taxCents ? formatMoney(o.taxCents, o.currency) : '—'}</td>
          </tr>
        ))}
      </DataTable>
      <Pagination page={result.page} pageCount={result.pageCount} hrefFor={(p) => `/admin/orders${query(filters, p)}`} />
    </>
  )
}
