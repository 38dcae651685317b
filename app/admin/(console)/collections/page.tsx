import type { Metadata } from 'next'
import { Flash, PageTitle, buttonDark, buttonSmall, card, input, label, type SearchParams } from '../../_components/ui'
import { saveCollectionAction } from './actions'
import * as adminAuth from '@/lib/admin-auth'
import * as collections from '@/lib/collections'

export const metadata: Metadata = { title: 'Collections' }

function Fields({ prefix, values }: { prefix: string; values?: { title: string; slug: string; description: string; isFeatured: boolean } }) {
  return (
    <div className="grid gap-3 sm:grid-cols-2">
      <div>
        <label htmlFor={`${prefix}title`} className={label}>Title</label>
        <input id={`${prefix}title`} name={`${prefix}title`} required maxLength={100} defaultValue={values?.title} className={input} />
      </div>
      <div>
        <label htmlFor={`${prefix}slug`} className={label}>Address (/collections/…)</label>
        <input id={`${prefix}slug`} name={`${prefix}slug`} required maxLength={60} defaultValue={values?.slug} className={input} />
      </div>
      <div className="sm:col-span-2">
        <label htmlFor={`${prefix}description`} className={label}>Description</label>
        <textarea id={`${prefix}description`} name={`${prefix}description`} rows={2} maxLength={2000} defaultValue={values?.description} className={input} />
      </div>
      <div className="flex items-center gap-2">
        <input id={`${prefix}isFeatured`} name={`${prefix}isFeatured`} type="checkbox" defaultChecked={values?.isFeatured} className="size-4" />
        <label htmlFor={`${prefix}isFeatured`} className="text-sm">Featured on the home page</label>
      </div>
    </div>
  )
}

export default async function CollectionsPage({ searchParams }: { searchParams: Promise<SearchParams> }) {
  await adminAuth.requireAdmin()
  const params = await searchParams
  const all = collections.list()
  return (
    <>
      <PageTitle>Collections</PageTitle>
      <Flash params={params} />
      <div className="space-y-4">
        {all.map((c) => (
          <form key={c.id} action={saveCollectionAction} className={`${card} space-y-3`}>
            <input type="hidden" name="collectionId" value={c.id} />
            <p className="text-sm text-stone-700">{c.productCount} products</p>
            <Fields prefix={`c${c.id}-`} values={c} />
            <button type="submit" className={buttonSmall}>Save {c.title}</button>
          </form>
        ))}
        <form action={saveCollectionAction} className={`${card} space-y-3`}>
          <h2 className="text-lg font-semibold">New collection</h2>
          <Fields prefix="new-" />
          <button type="submit" className={buttonDark}>Create collection</button>
        </form>
      </div>
    </>
  )
}
