import type { Metadata } from 'next'
import { Link } from '@/app/_components/shop-link'
import { confirmSignIn } from '../actions'
import { buttonPrimary } from '@/app/_components/ui/styles'
import * as accounts from '@/lib/accounts'

export const metadata: Metadata = { title: 'Sign in', robots: { index: false, follow: false }, referrer: 'no-referrer' }

// Where the emailed link leads. Opening it changes nothing: mail scanners open links too,
// and a single-use link they used up would fail the shopper. Pressing the button signs in.
export default async function ConfirmSignInPage({ searchParams }: { searchParams: Promise<Record<string, string | string[] | undefined>> }) {
  const { token } = await searchParams
  const email = await accounts.linkEmail(token)
  return (
    <main id="main" className="mx-auto w-full max-w-md flex-1 px-4 py-12">
      <h1 className="text-3xl font-semibold tracking-tight">Sign in</h1>
      {email && typeof token === 'string' ? (
        <form action={confirmSignIn} className="mt-6 space-y-4">
          <p className="text-stone-700">
            Sign in as <strong>{email}</strong>?
          </p>
          <input type="hidden" name="token" value={token} />
          <button type="submit" className={`${buttonPrimary} w-full`} data-testid="confirm-sign-in">
            Sign in
          </button>
        </form>
      ) : (
        <div className="mt-6 space-y-4">
          <p role="alert" className="rounded-xl border border-red-200 bg-red-50 px-4 py-3 text-sm text-red-900">
            That sign-in link has expired or was already used.
          </p>
          <Link href="/account/sign-in" className={buttonPrimary}>
            Ask for a new link
          </Link>
        </div>
      )}
    </main>
  )
}
