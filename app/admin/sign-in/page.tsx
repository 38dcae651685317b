import type { Metadata } from 'next'
import { redirect } from 'next/navigation'
import { ActionForm, Field } from '../_components/action-form'
import { Flash, buttonDark, type SearchParams } from '../_components/ui'
import { signInAction } from './actions'
import * as adminAuth from '@/lib/admin-auth'

export const metadata: Metadata = { title: 'Admin sign-in', robots: { index: false, follow: false } }

export default async function SignInPage({ searchParams }: { searchParams: Promise<SearchParams> }) {
  const params = await searchParams
  if (await adminAuth.currentAdmin()) redirect('/admin')
  return (
    <main id="main" className="mx-auto w-full max-w-sm flex-1 px-4 py-12">
      <h1 className="mb-6 text-2xl font-semibold tracking-tight">Sign in to the admin</h1>
      <Flash params={params} />
      <ActionForm action={signInAction} className="space-y-4" testId="sign-in-form">
        <Field name="email" label="Email" type="email" autoComplete="username" required maxLength={254} />
        <Field name="password" label="Password" type="password" autoComplete="current-password" required maxLength={500} />
        <button type="submit" className={`${buttonDark} w-full`}>
          Sign in
        </button>
      </ActionForm>
    </main>
  )
}
