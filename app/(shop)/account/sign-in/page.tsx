import type { Metadata } from 'next'
import { redirect } from 'next/navigation'
import { requestSignInLink } from './actions'
import { FlashMessage } from '@/app/_components/flash-message'
import * as flashes from '@/lib/request/flash'
import { buttonPrimary } from '@/app/_components/ui/styles'
import * as accounts from '@/lib/accounts'

export const metadata: Metadata = { title: 'Sign in', robots: { index: false, follow: false } }

type Params = Record<string, string | string[] | undefined>

export default async function AccountSignInPage({ searchParams }: { searchParams: Promise<Params> }) {
  const params = await searchParams
  if (await accounts.current()) redirect('/account')
  const isSent = params.sent === '1'
  const flash = flashes.read(params)
  const typed = typeof params.email === 'string' ? params.email.slice(0, 254) : ''
  return (
    <main id="main" className="mx-auto w-full max-w-md flex-1 px-4 py-12">
      <h1 className="text-3xl font-semibold tracking-tight">Sign in</h1>
      <p className="mt-2 text-stone-600">No password: we email you a link that signs you in. You will see every order placed with your address.</p>
      <div className="mt-6 space-y-4">
        {isSent ? (
          <div role="status" className="rounded-xl border border-emerald-200 bg-emerald-50 px-4 py-3 text-sm text-emerald-950" data-testid="sign-in-sent">
            <p className="font-medium">Check your email.</p>
            <p className="mt-1">If the address is right, a sign-in link is on its way. It works once, for 15 minutes.</p>
          </div>
        ) : null}
        {flash ? (
          <div role={flash.kind === 'error' ? 'alert' : 'status'}>
            <FlashMessage flash={flash} />
          </div>
        ) : null}
        <form action={requestSignInLink} className="space-y-4" data-testid="account-sign-in-form">
          <div>
            <label htmlFor="email" className="mb-1 block text-sm font-medium">
              Email
            </label>
            <input id="email" name="email" type="email" autoComplete="email" required maxLength={254} defaultValue={typed} className="field-input" />
          </div>
          <button type="submit" className={`${buttonPrimary} w-full`}>
            Email me a sign-in link
          </button>
        </form>
        <p className="text-sm text-stone-600">
          Checking out never needs an account. <a href="/privacy" className="text-link">What we keep about you</a>
        </p>
      </div>
    </main>
  )
}
