import type { Metadata } from 'next'
import { ActionForm } from '../../../_components/action-form'
import { Flash, PageTitle, buttonDark, card, type SearchParams } from '../../../_components/ui'
import { createProductAction } from '../actions'
import { ProductFieldset, VariantFieldset } from '../product-fields'
import * as adminAuth from '@/lib/admin-auth'

export const metadata: Metadata = { title: 'New product' }

const NEW_VARIANT_ROWS = 3

export default async function NewProductPage({ searchParams }: { searchParams: Promise<SearchParams> }) {
  await adminAuth.requireAdmin()
  const params = await searchParams
  return (
    <>
      <PageTitle>New product</PageTitle>
      <Flash params={params} />
      <ActionForm action={createProductAction} className={`${card} space-y-4`} testId="product-form" isGuardingEdits>
        <ProductFieldset />
        <p className="text-sm text-stone-700">Fill in one row per variant; leave the rows you do not need empty. Pictures are added on the next page.</p>
        {Array.from({ length: NEW_VARIANT_ROWS }, (_, i) => (
          <VariantFieldset key={i} prefix={`v${i}-`} legend={`Variant ${i + 1}`} withStock />
        ))}
        <button type="submit" className={buttonDark}>Create product</button>
      </ActionForm>
    </>
  )
}
