import type { Metadata } from 'next'
import Link from 'next/link'
import { Pagination } from '@/app/_components/pagination'
import { DataTable } from '../../_components/data-table'
import { RowAction } from '../../_components/row-action'
import { Flash, PageTitle, badge, td, when, pick, pageParam, type SearchParams } from '../../_components/ui'
import { replayEventAction } from '../ops-actions'
import * as staff from '@/lib/staff'
import * as stripeEvents from '@/lib/orders/events'

export const metadata: Metadata = { title: 'Webhook events' }

const FILTERS: stripeEvents.EventFilter[] = ['all', 'failed', 'processed']

export default async function EventsPage({ searchParams }: { searchParams: Promise<SearchParams> }) {
  await staff.requirePermission('operations')
  const params = await searchParams
  const filter = FILTERS.find((f) => f === pick(params, 'filter')) ?? 'all'
  const page = pageParam(params)
  const result = await stripeEvents.list(filter, page)
  return (
    <>
      <PageTitle>Webhook events</PageTitle>
      <Flash params={params} />
      <nav aria-label="Event filter" className="mb-4 flex gap-2 text-sm">
        {FILTERS.map((f) => (
          <Link key={f} href={`/admin/events?filter=${f}`} aria-current={f === filter ? 'page' : undefined} className={`rounded-full px-3 py-1 ${f === filter ? 'bg-stone-900 text-white' : 'border border-stone-300'}`}>
            {f}
          </Link>
        ))}
      </nav>
      <DataTable label="Webhook events" columns={['Event', 'Received', 'Status', { label: 'Replay', visuallyHidden: true }]}>
        {result.rows.map((e) => (
          <tr key={e.id} data-testid="event-row" data-event-id={e.id}>
            <td className={`${td} [overflow-wrap:anywhere]`}>
              <span className="font-medium">{e.type}</span>
              <span className="block text-xs text-stone-600">{e.id} · {e.objectId ?? ''}</span>
            </td>
            <td className={td} data-label="Received">{when(e.receivedAt)}</td>
            <td className={td} data-label="Status">
              {e.processedAt ? <span className={`${badge} bg-emerald-100 text-emerald-900`}>applied</span> : <span className={`${badge} bg-red-100 text-red-900`}>failed</span>}
              <span className="block text-xs text-stone-600">{e.attempts} attempt{e.attempts === 1 ? '' : 's'}</span>
              {e.error ? <span className="block max-w-xs break-words text-xs text-red-800" data-testid="event-error">{e.error}</span> : null}
            </td>
            <td className={td}>
              <RowAction action={replayEventAction} name="eventId" value={e.id}>Replay</RowAction>
            </td>
          </tr>
        ))}
      </DataTable>
      <Pagination page={result.page} pageCount={result.pageCount} hrefFor={(p) => `/admin/events?filter=${filter}&page=${p}`} />
    </>
  )
}
