import type { MetadataRoute } from 'next'
import { connection } from 'next/server'
import { absoluteUrl, site } from '@/lib/seo'

// Private and transactional paths stay out of search engines. Request-time, like the
// sitemap, because the canonical origin (APP_URL) is configuration, not build input.
export default async function robots(): Promise<MetadataRoute.Robots> {
  await connection()
  return {
    rules: { userAgent: '*', allow: '/', disallow: ['/admin', '/cart', '/checkout', '/orders', '/api'] },
    sitemap: absoluteUrl('/sitemap.xml', site().url),
  }
}
