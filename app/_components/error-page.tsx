'use client'

import { buttonPrimary, buttonSecondary, container } from './ui/styles'

// Unexpected failures (bugs) land here, inside the frame of the part of the site that failed
// (app/(shop)/error.tsx, app/admin/error.tsx); the server has logged them with this digest. A
// layout that fails itself is global-error.tsx's.
//
// An error boundary's code is loaded on every page of its segment, in case it is needed, in
// a chunk of its own; so this one brings nothing else. next/link here put a second copy of the
// router's link code on every shop page (the header's chunk has the first): 4 KB gzip. "Home"
// is a plain link: after an unexpected failure a full load is the surer way back anyway.
export function ErrorPage({ error, retry }: { error: unknown; retry: () => void }) {
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
        {/* eslint-disable-next-line @next/next/no-html-link-for-pages -- a full load, and no link code in this boundary's chunk */}
        <a href="/" className={buttonSecondary}>
          Home
        </a>
      </div>
    </main>
  )
}
