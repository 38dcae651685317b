import type { Metadata } from 'next'
import { DataTable } from '../../_components/data-table'
import { RowAction } from '../../_components/row-action'
import { Flash, PageTitle, td, when, type SearchParams } from '../../_components/ui'
import { retryJobAction } from '../ops-actions'
import * as jobs from '@/lib/jobs'
import * as staff from '@/lib/staff'

export const metadata: Metadata = { title: 'Jobs' }

export default async function JobsPage({ searchParams }: { searchParams: Promise<SearchParams> }) {
  await staff.requirePermission('operations')
  const params = await searchParams
  const [counts, failed] = await Promise.all([jobs.counts(), jobs.failed()])
  return (
    <>
      <PageTitle>Jobs</PageTitle>
      <Flash params={params} />
      <p className="mb-4 text-sm" data-testid="job-counts">
        {counts.queued} waiting · {counts.running} running · {counts.failed} failed · {counts.done} done
      </p>
      <h2 className="mb-2 text-lg font-semibold">Failed jobs</h2>
      {failed.length === 0 ? <p className="text-sm text-stone-700">No failed jobs.</p> : (
        <DataTable label="Failed jobs" columns={['Job', 'Failed', 'Last error', { label: 'Retry', visuallyHidden: true }]}>
          {failed.map((j) => (
            <tr key={j.id} data-testid="job-row">
              <td className={td}>#{j.id} {j.kind}<span className="block text-xs text-stone-600">{j.attempts} attempts</span></td>
              <td className={td} data-label="Failed">{when(j.finishedAt)}</td>
              <td className={`${td} max-w-xs break-words text-xs`} data-label="Last error">{j.lastError ?? '—'}</td>
              <td className={td}>
                <RowAction action={retryJobAction} name="jobId" value={j.id}>Retry</RowAction>
              </td>
            </tr>
          ))}
        </DataTable>
      )}
    </>
  )
}
