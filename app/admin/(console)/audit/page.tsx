import type { Metadata } from 'next'
import { Pagination } from '@/app/_components/pagination'
import { DataTable } from '../../_components/data-table'
import { PageTitle, td, when, pageParam, type SearchParams } from '../../_components/ui'
import * as audit from '@/lib/audit'
import * as staff from '@/lib/staff'

export const metadata: Metadata = { title: 'Audit log' }

const show = (value: unknown) => (value === null || value === undefined ? '' : JSON.stringify(value).slice(0, 400))

export default async function AuditPage({ searchParams }: { searchParams: Promise<SearchParams> }) {
  await staff.requirePermission('staff')
  const params = await searchParams
  const page = pageParam(params)
  const result = audit.list(page)
  return (
    <>
      <PageTitle>Audit log</PageTitle>
      <DataTable label="Audit log" columns={['When', 'Who', 'What', 'Before → after']}>
        {result.rows.map((r) => (
          <tr key={r.id} data-testid="audit-row" data-action={r.action}>
            <td className={td}>{when(r.createdAt)}</td>
            <td className={`${td} break-all`}>{r.adminEmail}</td>
            <td className={td}><span className="font-medium">{r.action}</span><span className="block text-xs text-stone-600">{r.subject}</span></td>
            <td className={`${td} max-w-md break-words font-mono text-xs`}>
              {show(r.before)}
              {r.after !== null ? <> → {show(r.after)}</> : null}
            </td>
          </tr>
        ))}
      </DataTable>
      <Pagination page={result.page} pageCount={result.pageCount} hrefFor={(p) => `/admin/audit?page=${p}`} />
    </>
  )
}
