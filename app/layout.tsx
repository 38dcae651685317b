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
    // X reads og:image when there is no twitter:image; Next would copy every og:image tag
    // (url, alt, type, size) as a twitter: one into every page and its payload otherwise.
    // An empty list is what stops that copy.
    twitter: { card: 'summary_large_image', images: [] },
    formatDetection: { telephone: false },
  }
}

export const viewport: Viewport = { themeColor: '#ffffff', width: 'device-width', initialScale: 1 }

export default async function RootLayout({ children }: { children: React.ReactNode }) {
  const shell = await siteShell()
  return (
    <html lang="en">
      <body className="page-body">
        <a href="#main" className="skip-link">
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
