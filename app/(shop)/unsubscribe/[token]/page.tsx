import type { Metadata } from 'next'
import { unsubscribe } from './actions'
import { buttonPrimary } from '@/app/_components/ui/styles'
import * as optOuts from '@/lib/mail-opt-outs'

export const metadata: Metadata = { title: 'Unsubscribe', robots: { index: false, follow: false }, referrer: 'no-referrer' }

const WHAT: Record<optOuts.Kind, string> = { stock_alert: 'back-in-stock alerts', checkout_reminder: 'reminders about checkouts you did not finish' }

// The link in a stock alert or a checkout reminder. No sign-in: the link is the proof.
// Opening it changes nothing (mail scanners open links); the button unsubscribes.
export default async function UnsubscribePage({ params, searchParams }: { params: Promise<{ token: string }>; searchParams: Promise<Record<string, string | string[] | undefined>> }) {
  const [{ token }, query] = await Promise.all([params, searchParams])
  const found = await optOuts.find(token)
  return (
    <main id="main" className="mx-auto w-full max-w-md flex-1 px-4 py-12">
      <h1 className="text-3xl font-semibold tracking-tight">Unsubscribe</h1>
      {!found ? (
        <p role="alert" className="mt-6 rounded-xl border border-red-200 bg-red-50 px-4 py-3 text-sm text-red-900">
          This unsubscribe link is not valid.
        </p>
      ) : query.done === '1' ? (
        <p role="status" className="mt-6 rounded-xl border border-emerald-200 bg-emerald-50 px-4 py-3 text-sm text-emerald-950" data-testid="unsubscribed">
          Done: {found.email} will get no more {WHAT[found.kind]}.
        </p>
      ) : (
        <form action={unsubscribe} className="mt-6 space-y-4">
          <p>
            Stop sending {WHAT[found.kind]} to <strong>{found.email}</strong>?
          </p>
          <input type="hidden" name="token" value={token} />
          <button type="submit" className={`${buttonPrimary} w-full`} data-testid="confirm-unsubscribe">
            Unsubscribe
          </button>
        </form>
      )}
    </main>
  )
}
