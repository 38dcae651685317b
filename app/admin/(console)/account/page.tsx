import type { Metadata } from 'next'
import { ActionForm, Field } from '../../_components/action-form'
import { Flash, PageTitle, buttonDark, card, type SearchParams } from '../../_components/ui'
import { changePasswordAction } from './actions'
import * as adminAuth from '@/lib/admin-auth'

export const metadata: Metadata = { title: 'Account' }

export default async function AccountPage({ searchParams }: { searchParams: Promise<SearchParams> }) {
  const admin = await adminAuth.requireAdmin()
  const params = await searchParams
  return (
    <>
      <PageTitle>Account</PageTitle>
      <Flash params={params} />
      <section className={`${card} max-w-md`} aria-labelledby="password-heading">
        <h2 id="password-heading" className="mb-1 text-lg font-semibold">Change password</h2>
        <p className="mb-4 break-all text-sm text-stone-700">Signed in as {admin.email}. Changing the password signs out every other session.</p>
        <ActionForm action={changePasswordAction} className="space-y-3" testId="password-form">
          <Field name="current" label="Current password" type="password" autoComplete="current-password" required />
          <Field name="next" label={`New password (at least ${adminAuth.MIN_PASSWORD} characters)`} type="password" autoComplete="new-password" required minLength={adminAuth.MIN_PASSWORD} />
          <Field name="confirm" label="New password again" type="password" autoComplete="new-password" required />
          <button type="submit" className={buttonDark}>Change password</button>
        </ActionForm>
      </section>
    </>
  )
}
