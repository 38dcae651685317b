import type { Metadata } from 'next'
import { Flash, PageTitle, buttonDark, buttonSmall, card, input, label, type SearchParams } from '../../_components/ui'
import * as catalogCsv from '@/lib/catalog-csv'
import * as staff from '@/lib/staff'

export const metadata: Metadata = { title: 'Import products' }

export default async function ImportPage({ searchParams }: { searchParams: Promise<SearchParams> }) {
  await staff.requirePermission('products')
  const params = await searchParams
  return (
    <>
      {/* a download from a route handler, not a page: a plain link (lint takes "export" for a product id) */}
      {/* eslint-disable-next-line @next/next/no-html-link-for-pages */}
      <PageTitle actions={<a href="/admin/products/export" className={buttonSmall} data-testid="products-export">Export CSV</a>}>Import products</PageTitle>
      <Flash params={params} />
      <section className={`${card} max-w-2xl`} aria-labelledby="upload-heading">
        <h2 id="upload-heading" className="mb-1 text-lg font-semibold">Upload a CSV</h2>
        <p className="mb-4 text-sm text-stone-700">
          The file the export writes, edited in any spreadsheet: one row per variant, the SKU is its key and the product&apos;s address groups its rows. Columns: {catalogCsv.COLUMNS.join(', ')}. You see what would change before anything does. Pictures are added on each product&apos;s page.
        </p>
        {/* a plain form to a route handler: the file may be larger than a server action takes */}
        <form action="/admin/import/upload" method="post" encType="multipart/form-data" className="space-y-3" data-testid="import-form">
          <div>
            <label htmlFor="file" className={label}>CSV file ({catalogCsv.MAX_UPLOAD_BYTES / 1024 / 1024} MB at most)</label>
            <input id="file" name="file" type="file" accept=".csv,text/csv" required className={input} />
          </div>
          <button type="submit" className={buttonDark}>Preview the import</button>
        </form>
      </section>
    </>
  )
}
