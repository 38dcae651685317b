import type { Metadata } from 'next'
import { Flash, PageTitle, TableScroll, buttonSmall, table, td, th, when, type SearchParams } from '../../_components/ui'
import { retryJobAction } from '../ops-actions'
import * as adminAuth from '@/lib/admin-auth'
import * as jobs from '@/lib/jobs'

export const metadata: Metadata = { title: 'Jobs' }

export default async function JobsPage({ searchParams }: { searchParams: Promise<SearchParams> }) {
  await adminAuth.requireAdmin()
  const params = await searchParams
  const counts = jobs.counts()
  const failed = jobs.failed()
  return (
    <>
      <PageTitle>Jobs</PageTitle>
      <Flash params={params} />
      <p className="mb-4 text-sm" data-testid="job-counts">
        {counts.queued} waiting · {counts.running} running · {counts.failed} failed · {counts.done} done
      </p>
      <h2 className="mb-2 text-lg font-semibold">Failed jobs</h2>
      {failed.length === 0 ? <p className="text-sm text-stone-700">No failed jobs.</p> : (
        <TableScroll label="Failed jobs">
          <table className={table}>
            <thead>
              <tr>
                <th className={th} scope="col">Job</th>
                <th className={th} scope="col">Failed</th>
                <th className={th} scope="col">Last error</th>
                <th className={th} scope="col"><span className="sr-only">Retry</span></th>
              </tr>
            </thead>
            <tbody>
              {failed.map((j) => (
                <tr key={j.id} data-testid="job-row">
                  <td className={td}>#{j.id} {j.kind}<span className="block text-xs text-stone-600">{j.attempts} attempts</span></td>
                  <td className={td}>{when(j.finishedAt)}</td>
                  <td className={`${td} max-w-xs break-words text-xs`}>{j.lastError ?? '—'}</td>
                  <td className={td}>
                    <form action={retryJobAction}>
                      <input type="hidden" name="jobId" value={j.id} />
                      <button type="submit" className={buttonSmall}>Retry</button>
                    </form>
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        </TableScroll>
      )}
    </>
  )
}
