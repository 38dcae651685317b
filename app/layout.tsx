import type { Metadata, Viewport } from 'next'
import { CartProvider } from './_components/cart/cart-provider'
import { SiteFooter } from './_components/site-footer'
import { SiteHeader } from './_components/site-header'
import { FetchedSiteFrame } from './_components/site-shell'
import { site, siteShell } from '@/lib/seo'
import './globals.css'

// The root layout reads no cookies and no request headers: the per-visitor cart count is
// fetched by the browser (CartProvider), so catalog pages below can be cached.

export function generateMetadata(): Metadata {
  const s = site()
  return {
    metadataBase: new URL(s.url),
    title: { default: `${s.name} — outdoor and everyday goods`, template: `%s · ${s.name}` },
    description: s.description,
    applicationName: s.name,
    openGraph: { siteName: s.name, type: 'website', locale: 'en_US' },
    twitter: { card: 'summary_large_image' },
    formatDetection: { telephone: false },
  }
}

export const viewport: Viewport = { themeColor: '#ffffff', width: 'device-width', initialScale: 1 }

export default async function RootLayout({ children }: { children: React.ReactNode }) {
  const shell = await siteShell()
  return (
    <html lang="en">
      <body className="flex min-h-screen flex-col bg-white font-sans text-stone-900 antialiased">
        <a
          href="#main"
          className="sr-only z-50 rounded-full bg-stone-900 px-4 py-2 text-sm font-semibold text-white focus:not-sr-only focus:fixed focus:left-4 focus:top-4"
        >
          Skip to content
        </a>
        <CartProvider>
          {shell ? (
            <>
              <SiteHeader storeName={shell.storeName} collections={shell.collections} isTestMode={shell.isTestMode} />
              <div className="flex flex-1 flex-col">{children}</div>
              <SiteFooter storeName={shell.storeName} description={shell.description} priceNote={shell.priceNote} collections={shell.collections} />
            </>
          ) : (
            // only the static 404, prerendered by `next build`
            <FetchedSiteFrame>{children}</FetchedSiteFrame>
          )}
        </CartProvider>
      </body>
    </html>
  )
}
