import type { Metadata } from 'next'
import { DataTable } from '../../_components/data-table'
import { Flash, PageTitle, buttonDark, td, when, type SearchParams } from '../../_components/ui'
import { reconcileNowAction } from '../ops-actions'
import * as reconcile from '@/lib/reconcile'
import * as staff from '@/lib/staff'

export const metadata: Metadata = { title: 'Reconciliation' }

export default async function ReconciliationPage({ searchParams }: { searchParams: Promise<SearchParams> }) {
  await staff.requirePermission('operations')
  const params = await searchParams
  const runs = await reconcile.lastRuns(50)
  return (
    <>
      <PageTitle
        actions={
          <form action={reconcileNowAction}>
            <button type="submit" className={buttonDark}>Reconcile now</button>
          </form>
        }
      >
        Reconciliation
      </PageTitle>
      <Flash params={params} />
      <DataTable label="Reconciliation runs" columns={['Started', 'Events', 'Sessions', 'Orders repaired', 'Mismatches and errors']}>
        {runs.map((r) => (
          <tr key={r.id} data-testid="reconcile-row">
            <td className={td}>{when(r.startedAt)}</td>
            <td className={`${td} tabular-nums`} data-label="Events">{r.eventsSeen}</td>
            <td className={`${td} tabular-nums`} data-label="Sessions">{r.sessionsSeen}</td>
            <td className={`${td} tabular-nums`} data-label="Repaired">{r.ordersCreated}</td>
            <td className={`${td} max-w-xs break-words text-xs`} data-label="Problems">
              {r.mismatches.length ? r.mismatches.map((m) => `${m.sessionId}: order ${m.orderCents} vs Stripe ${m.stripeCents}`).join('; ') : 'none'}
              {r.error ? <span className="block text-red-800">{r.error}</span> : null}
            </td>
          </tr>
        ))}
      </DataTable>
    </>
  )
}
