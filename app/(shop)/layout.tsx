import { CartProvider } from '../_components/cart/cart-provider'
import { SiteFooter } from '../_components/site-footer'
import { SiteHeader } from '../_components/site-header'
import { FetchedSiteFrame } from '../_components/site-shell'
import { siteShell } from '@/lib/seo'

// The shop's frame: header (search, collections, cart count), footer. The admin has its own.
export default async function ShopLayout({ children }: { children: React.ReactNode }) {
  const shell = await siteShell()
  return (
    <CartProvider>
      {shell ? (
        <>
          <SiteHeader storeName={shell.storeName} collections={shell.collections} isTestMode={shell.isTestMode} />
          <div className="flex flex-1 flex-col">{children}</div>
          <SiteFooter storeName={shell.storeName} description={shell.description} priceNote={shell.priceNote} collections={shell.collections} />
        </>
      ) : (
        // a page prerendered by `next build`, when there is no shell yet
        <FetchedSiteFrame>{children}</FetchedSiteFrame>
      )}
    </CartProvider>
  )
}
