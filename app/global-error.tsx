'use client'

import './globals.css'

// Replaces the root layout when the layout itself fails, so it brings its own document.
export default function GlobalError({ retry }: { error: unknown; retry: () => void }) {
  return (
    <html lang="en">
      <body className="flex min-h-screen items-center justify-center bg-white px-4 font-sans text-stone-900 antialiased">
        <title>Something went wrong</title>
        <main id="main" className="max-w-md text-center">
          <h1 className="text-3xl font-semibold tracking-tight">Something went wrong</h1>
          <p className="mt-3 text-stone-600">Sorry — the shop could not load. Nothing was charged. Please try again in a moment.</p>
          <div className="mt-8 flex justify-center gap-3">
            <button type="button" onClick={() => retry()} className="rounded-full bg-stone-900 px-6 py-3 text-sm font-semibold text-white hover:bg-stone-700">
              Try again
            </button>
            {/* eslint-disable-next-line @next/next/no-html-link-for-pages -- a full reload is the point here */}
            <a href="/" className="rounded-full border border-stone-300 px-6 py-3 text-sm font-medium">
              Home
            </a>
          </div>
        </main>
      </body>
    </html>
  )
}
