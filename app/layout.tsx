import type { Metadata, Viewport } from 'next'
import { site } from '@/lib/seo'
import './globals.css'

// The document every page shares, and nothing more: the shop's frame (header, search, cart,
// footer) is the (shop) group's layout, the admin has its own (app/admin/layout.tsx). It reads
// no cookies and no request headers, so the catalog pages below can be cached.

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

export default function RootLayout({ children }: { children: React.ReactNode }) {
  return (
    <html lang="en">
      <body className="page-body">
        <a href="#main" className="skip-link">
          Skip to content
        </a>
        {children}
      </body>
    </html>
  )
}
