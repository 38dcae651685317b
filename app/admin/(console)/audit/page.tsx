import type { Metadata } from 'next'
import { Pagination } from '@/app/_components/pagination'
import { PageTitle, TableScroll, table, td, th, when, pick, type SearchParams } from '../../_components/ui'
import * as adminAuth from '@/lib/admin-auth'
import * as audit from '@/lib/audit'

export const metadata: Metadata = { title: 'Audit log' }

const show = (value: unknown) => (value === null || value === undefined ? '' : JSON.stringify(value).slice(0, 400))

export default async function AuditPage({ searchParams }: { searchParams: Promise<SearchParams> }) {
  await adminAuth.requireAdmin()
  const params = await searchParams
  const page = Math.max(1, Math.min(100_000, Number(pick(params, 'page')) || 1))
  const result = audit.list(page)
  return (
    <>
      <PageTitle>Audit log</PageTitle>
      <TableScroll label="Audit log">
        <table className={table}>
          <thead>
            <tr>
              <th className={th} scope="col">When</th>
              <th className={th} scope="col">Who</th>
              <th className={th} scope="col">What</th>
              <th className={th} scope="col">Before → after</th>
            </tr>
          </thead>
          <tbody>
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
          </tbody>
        </table>
      </TableScroll>
      <Pagination page={result.page} pageCount={result.pageCount} hrefFor={(p) => `/admin/audit?page=${p}`} />
    </>
  )
}
