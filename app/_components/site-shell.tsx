'use client'

import { useEffect, useState } from 'react'
import { SiteFooter } from './site-footer'
import { SiteHeader } from './site-header'
import type { SiteShell } from '@/lib/seo'

/**
 * The header and footer for the 404 (app/not-found.tsx) and any shop page prerendered at build
 * time. The shop's pages render them on the server; these are prerendered when there is no
 * shell (no database, no configuration) or ride along in every page's payload, so they start
 * from a neutral shell and fetch the real one here: the same header, search, collections and
 * test-mode banner as the rest of the shop.
 */
export function FetchedSiteFrame({ children }: { children: React.ReactNode }) {
  const [fetched, setFetched] = useState<SiteShell | null>(null)
  useEffect(() => {
    const controller = new AbortController()
    fetch('/api/shell', { signal: controller.signal })
      .then((res) => (res.ok ? (res.json() as Promise<SiteShell | null>) : null))
      .then((body) => body && setFetched(body))
      .catch(() => {}) // offline: the neutral shell still links to the shop
    return () => controller.abort()
  }, [])
  const current = fetched ?? NEUTRAL
  return (
    <>
      <SiteHeader storeName={current.storeName} collections={current.collections} isTestMode={current.isTestMode} />
      <div className="flex flex-1 flex-col">{children}</div>
      <SiteFooter storeName={current.storeName} description={current.description} priceNote={current.priceNote} collections={current.collections} />
    </>
  )
}

const NEUTRAL: SiteShell = { storeName: 'Till', description: '', isTestMode: false, priceNote: '', collections: [] }
