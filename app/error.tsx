'use client'

import Link from 'next/link'
import { buttonPrimary, buttonSecondary, container } from './_components/ui/styles'

// Unexpected failures (bugs) land here; the server has logged them with this digest.
export default function ErrorPage({ error, retry }: { error: unknown; retry: () => void }) {
  const digest = error instanceof Error && 'digest' in error ? String((error as Error & { digest?: string }).digest ?? '') : ''
  return (
    <main id="main" className={`${container} flex flex-1 flex-col items-center justify-center py-24 text-center`}>
      <h1 className="text-3xl font-semibold tracking-tight">Something went wrong</h1>
      <p className="mt-3 max-w-md text-stone-600">Sorry — that did not work. Nothing was charged. Please try again in a moment.</p>
      {digest ? <p className="mt-2 font-mono text-xs text-stone-500">Reference: {digest}</p> : null}
      <div className="mt-8 flex gap-3">
        <button type="button" onClick={() => retry()} className={buttonPrimary}>
          Try again
        </button>
        <Link href="/" className={buttonSecondary}>
          Home
        </Link>
      </div>
    </main>
  )
}
