import type { Metadata } from 'next'
import Link from 'next/link'
import { notFound } from 'next/navigation'
import { RowAction } from '../../../_components/row-action'
import { Flash, PageTitle, TableScroll, card, table, td, th, when, type SearchParams } from '../../../_components/ui'
import { applyImportAction } from '../actions'
import * as catalogCsv from '@/lib/catalog-csv'
import * as staff from '@/lib/staff'

export const metadata: Metadata = { title: 'Import preview' }

function Counts({ name, counts, testId }: { name: string; counts: { created: number; changed: number; unchanged: number }; testId: string }) {
  return (
    <p data-testid={testId} data-created={counts.created} data-changed={counts.changed} data-unchanged={counts.unchanged}>
      <span className="font-semibold">{name}:</span> {counts.created} new, {counts.changed} changed, {counts.unchanged} unchanged
    </p>
  )
}

export default async function ImportPreviewPage({ params, searchParams }: { params: Promise<{ id: string }>; searchParams: Promise<SearchParams> }) {
  await staff.requirePermission('products')
  const { id: raw } = await params
  const id = /^\d{1,10}$/.test(raw) ? Number(raw) : NaN
  const upload = Number.isSafeInteger(id) ? await catalogCsv.find(id) : null
  if (!upload) notFound()
  const flash = await searchParams
  const plan = await catalogCsv.preview(id)
  return (
    <>
      <PageTitle>Import preview</PageTitle>
      <Flash params={flash} />
      <section className={`${card} mb-6 space-y-1 text-sm`} aria-label="Summary" data-testid="import-summary" data-errors={plan.errors.length}>
        <p className="break-all">
          {upload.filename || 'Upload'}, {plan.rows} rows, uploaded {when(upload.createdAt)}
          {upload.appliedAt ? `, applied ${when(upload.appliedAt)}` : ''}.
        </p>
        <Counts name="Products" counts={plan.products} testId="import-products" />
        <Counts name="Variants" counts={plan.variants} testId="import-variants" />
      </section>
      {plan.errors.length > 0 ? (
        <section aria-labelledby="errors-heading" className="mb-6">
          <h2 id="errors-heading" className="mb-2 text-lg font-semibold text-red-900">
            {plan.errors.length} {plan.errors.length === 1 ? 'error' : 'errors'}: fix the file and upload it again
          </h2>
          <TableScroll label="Errors">
            <table className={table}>
              <thead>
                <tr><th className={th}>Row</th><th className={th}>Column</th><th className={th}>What is wrong</th></tr>
              </thead>
              <tbody>
                {plan.errors.slice(0, 500).map((e, i) => (
                  <tr key={i} data-testid="import-error" data-row={e.row} data-column={e.column ?? ''}>
                    <td className={td}>{e.row}</td>
                    <td className={td}>{e.column ?? '—'}</td>
                    <td className={td}>{e.message}</td>
                  </tr>
                ))}
              </tbody>
            </table>
          </TableScroll>
          <p className="mt-3 text-sm"><Link href="/admin/import" className="underline underline-offset-4">Upload the fixed file</Link></p>
        </section>
      ) : (
        <div className="mb-6 flex flex-wrap items-center gap-3">
          <RowAction action={applyImportAction} name="importId" value={id}>Apply the import</RowAction>
          <Link href="/admin/import" className="text-sm underline underline-offset-4">Upload another file</Link>
        </div>
      )}
      <section aria-labelledby="rows-heading">
        <h2 id="rows-heading" className="mb-2 text-lg font-semibold">Rows{plan.sample.length < plan.rows ? ` (the first ${plan.sample.length})` : ''}</h2>
        <TableScroll label="Rows">
          <table className={table}>
            <thead>
              <tr><th className={th}>Row</th><th className={th}>SKU</th><th className={th}>Product</th><th className={th}>Outcome</th></tr>
            </thead>
            <tbody>
              {plan.sample.map((r) => (
                <tr key={r.row} data-testid="import-row" data-sku={r.sku} data-outcome={r.outcome}>
                  <td className={td}>{r.row}</td>
                  <td className={td}>{r.sku}</td>
                  <td className={`${td} break-all`}>{r.product}</td>
                  <td className={td}>{r.outcome}{r.changes.length ? `: ${r.changes.join(', ')}` : ''}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </TableScroll>
      </section>
    </>
  )
}
