import type { MetadataRoute } from 'next'
import { connection } from 'next/server'
import * as catalog from '@/lib/catalog'
import { absoluteUrl, site } from '@/lib/seo'

// Every active product and every collection with products in it. Built at request time
// (never at build, when there is no database) from the data cache, tag `catalog`.
export default async function sitemap(): Promise<MetadataRoute.Sitemap> {
  await connection()
  const base = site().url
  const { products, collections } = await catalog.cached.sitemap()
  const latest = Math.max(0, ...products.map((p) => p.updatedAt), ...collections.map((c) => c.updatedAt))
  return [
    { url: absoluteUrl('/', base), lastModified: latest ? new Date(latest) : undefined, changeFrequency: 'daily', priority: 1 },
    { url: absoluteUrl('/products', base), lastModified: latest ? new Date(latest) : undefined, changeFrequency: 'daily', priority: 0.8 },
    ...collections.map((c) => ({ url: absoluteUrl(`/collections/${c.slug}`, base), lastModified: new Date(c.updatedAt), changeFrequency: 'weekly' as const, priority: 0.7 })),
    ...products.map((p) => ({ url: absoluteUrl(`/products/${p.slug}`, base), lastModified: new Date(p.updatedAt), changeFrequency: 'weekly' as const, priority: 0.6 })),
  ]
}
