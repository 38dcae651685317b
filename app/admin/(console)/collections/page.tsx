import type { Metadata } from 'next'
import { ActionForm, CheckboxField, Field, TextAreaField } from '../../_components/action-form'
import { Flash, PageTitle, buttonDark, buttonSmall, card, type SearchParams } from '../../_components/ui'
import { saveCollectionAction } from './actions'
import * as adminAuth from '@/lib/admin-auth'
import * as collections from '@/lib/collections'

export const metadata: Metadata = { title: 'Collections' }

function Fields({ prefix, values }: { prefix: string; values?: { title: string; slug: string; description: string; isFeatured: boolean } }) {
  return (
    <div className="grid gap-3 sm:grid-cols-2">
      <Field name={`${prefix}title`} label="Title" required maxLength={100} defaultValue={values?.title} />
      <Field name={`${prefix}slug`} label="Address (/collections/…)" hint="Lowercase letters, digits and dashes, like summer-sale." required maxLength={60} defaultValue={values?.slug} />
      <TextAreaField name={`${prefix}description`} label="Description" rows={2} maxLength={2000} defaultValue={values?.description} className="sm:col-span-2" />
      <CheckboxField name={`${prefix}isFeatured`} label="Featured on the home page" defaultChecked={values?.isFeatured} />
    </div>
  )
}

export default async function CollectionsPage({ searchParams }: { searchParams: Promise<SearchParams> }) {
  await adminAuth.requireAdmin()
  const params = await searchParams
  const all = await collections.list()
  return (
    <>
      <PageTitle>Collections</PageTitle>
      <Flash params={params} />
      <div className="space-y-4">
        {all.map((c) => (
          <ActionForm key={c.id} action={saveCollectionAction} className={`${card} space-y-3`} testId="collection-form">
            <input type="hidden" name="collectionId" value={c.id} />
            <p className="text-sm text-stone-700">{c.productCount} products</p>
            <Fields prefix={`c${c.id}-`} values={c} />
            <button type="submit" className={buttonSmall}>Save {c.title}</button>
          </ActionForm>
        ))}
        <ActionForm action={saveCollectionAction} className={`${card} space-y-3`} testId="new-collection-form">
          <h2 className="text-lg font-semibold">New collection</h2>
          <Fields prefix="new-" />
          <button type="submit" className={buttonDark}>Create collection</button>
        </ActionForm>
      </div>
    </>
  )
}
