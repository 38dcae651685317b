import type { Metadata } from 'next'
import { Pagination } from '@/app/_components/pagination'
import { DataTable } from '../../_components/data-table'
import { PageTitle, td, when, pageParam, type SearchParams } from '../../_components/ui'
import * as audit from '@/lib/audit'
import * as staff from '@/lib/staff'
import { changesOf } from './changes'

export const metadata: Metadata = { title: 'Audit log' }

function Changes({ before, after }: { before: unknown; after: unknown }) {
  const changes = changesOf(before, after)
  if (changes.length === 0) return <span className="text-stone-600">—</span>
  return (
    <dl className="space-y-0.5" data-testid="audit-changes">
      {changes.map((c) => (
        <div key={c.field} className="[overflow-wrap:anywhere]">
          {c.field ? <dt className="inline font-medium">{c.field}: </dt> : null}
          <dd className="inline">
            {c.before !== undefined ? <span className="text-stone-600">{c.before}</span> : null}
            {c.before !== undefined && c.after !== undefined ? <span> → </span> : null}
            {c.after !== undefined ? <span>{c.after}</span> : c.before !== undefined ? <span className="text-stone-600"> (removed)</span> : null}
          </dd>
        </div>
      ))}
    </dl>
  )
}

export default async function AuditPage({ searchParams }: { searchParams: Promise<SearchParams> }) {
  await staff.requirePermission('staff')
  const params = await searchParams
  const page = pageParam(params)
  const result = await audit.list(page)
  return (
    <>
      <PageTitle>Audit log</PageTitle>
      <DataTable label="Audit log" columns={['What', 'When', 'Who', 'Changes (before → after)']}>
        {result.rows.map((r) => (
          <tr key={r.id} data-testid="audit-row" data-action={r.action}>
            <td className={td}><span className="font-medium">{r.action}</span><span className="block text-xs text-stone-600 [overflow-wrap:anywhere]">{r.subject}</span></td>
            <td className={`${td} sm:whitespace-nowrap`} data-label="When">{when(r.createdAt)}</td>
            {/* an email stays whole on a desk; on a phone it may wrap anywhere rather than overflow */}
            <td className={`${td} [overflow-wrap:anywhere] sm:whitespace-nowrap`} data-label="Who">{r.adminEmail}</td>
            <td className={`${td} text-xs sm:min-w-64`} data-label="Changes">
              <Changes before={r.before} after={r.after} />
            </td>
          </tr>
        ))}
      </DataTable>
      <Pagination page={result.page} pageCount={result.pageCount} hrefFor={(p) => `/admin/audit?page=${p}`} />
    </>
  )
}
