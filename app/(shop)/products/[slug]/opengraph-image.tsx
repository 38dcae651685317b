import { ImageResponse } from 'next/og'
import { notFound } from 'next/navigation'
import * as catalog from '@/lib/catalog'
import { formatMoney } from '@/lib/money'
import { site } from '@/lib/seo'
import { loadUpload } from '@/lib/uploads'

// The product's picture as a 1200×630 PNG for link previews: the shop's pictures may be
// SVG, which social networks' scrapers do not render. The product data comes from the data
// cache (tag catalog:product:<slug>), so a catalog change redraws it.

export const size = { width: 1200, height: 630 }
export const contentType = 'image/png'
export const alt = 'The product’s picture, name and price'
// Rendered on first request and then served from the cache (nothing at build time):
// drawing a PNG costs ~100 ms of CPU, so it must not happen per request.
export const revalidate = 3600
export const dynamicParams = true

export function generateStaticParams(): { slug: string }[] {
  return []
}

export default async function Image({ params }: { params: Promise<{ slug: string }> }) {
  const { slug } = await params
  const product = catalog.isSlug(slug) ? await catalog.cached.product(slug) : null
  if (!product) notFound()
  const picture = product.images[0] ? await loadUpload(product.images[0].path) : null
  const prices = product.variants.map((v) => v.priceCents)
  const currency = product.variants[0]?.currency ?? 'usd'
  const price = prices.length === 0 ? '' : `${Math.max(...prices) > Math.min(...prices) ? 'From ' : ''}${formatMoney(Math.min(...prices), currency)}`
  return new ImageResponse(
    (
      <div style={{ display: 'flex', width: '100%', height: '100%', background: '#fafaf9', color: '#1c1917' }}>
        {picture ? (
          <img src={`data:${picture.contentType};base64,${picture.body.toString('base64')}`} width={630} height={630} alt="" />
        ) : (
          <div style={{ display: 'flex', width: 630, height: 630, background: '#e7e5e4' }} />
        )}
        <div style={{ display: 'flex', flexDirection: 'column', justifyContent: 'space-between', padding: '64px 56px', width: 570 }}>
          <div style={{ display: 'flex', fontSize: 26, letterSpacing: 4, textTransform: 'uppercase', color: '#57534e' }}>{site().name}</div>
          <div style={{ display: 'flex', flexDirection: 'column' }}>
            <div style={{ display: 'flex', fontSize: 60, fontWeight: 700, lineHeight: 1.05 }}>{product.title}</div>
            <div style={{ display: 'flex', fontSize: 40, marginTop: 24, color: '#44403c' }}>{price}</div>
          </div>
        </div>
      </div>
    ),
    size,
  )
}
