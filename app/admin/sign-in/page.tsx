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
      <section className="mt-8 space-y-2 text-sm text-stone-700" aria-labelledby="first-admin-heading" data-testid="first-admin">
        <h2 id="first-admin-heading" className="font-semibold text-stone-900">First time here?</h2>
        <p>
          An admin is made on the server, not on this page. In the shop&apos;s folder run <code className="break-all">npm run admin:create -- you@example.com</code>; it asks for a
          password. On a store deployed with Kamal: <code className="break-all">kamal admin-create</code>.
        </p>
        <p>Running the demo (<code>npm run demo</code>)? Its owner&apos;s email and password are printed once in the server&apos;s log when it first starts.</p>
      </section>
    </main>
  )
}
