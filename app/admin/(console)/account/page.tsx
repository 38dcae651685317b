import type { Metadata } from 'next'
import { Flash, PageTitle, buttonDark, card, input, label, type SearchParams } from '../../_components/ui'
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
        <form action={changePasswordAction} className="space-y-3">
          <div>
            <label htmlFor="current" className={label}>Current password</label>
            <input id="current" name="current" type="password" autoComplete="current-password" required className={input} />
          </div>
          <div>
            <label htmlFor="next" className={label}>New password (at least {adminAuth.MIN_PASSWORD} characters)</label>
            <input id="next" name="next" type="password" autoComplete="new-password" required minLength={adminAuth.MIN_PASSWORD} className={input} />
          </div>
          <div>
            <label htmlFor="confirm" className={label}>New password again</label>
            <input id="confirm" name="confirm" type="password" autoComplete="new-password" required className={input} />
          </div>
          <button type="submit" className={buttonDark}>Change password</button>
        </form>
      </section>
    </>
  )
}
