import path from 'node:path'
import type { Db } from '@/db'
import { collections, productCollections, productImages, products, variants, type VariantOptions } from '@/db/schema'
import { CATALOG, COLLECTIONS, DAY, type CollectionSlug, type DemoProduct } from './catalog'
import { describeImage, writeUpload } from './images'
import { PICTURE_SIZE, picturesFolder, picturesOf, readPicture } from './pictures'

// The demo catalog: a small independent shop of outdoor and everyday goods, so a fresh
// install (SEED_DEMO=1) has something real to browse, search, buy and refund. It seeds an
// empty store only, once, however many processes boot at the same moment.

// A steady, varied amount per SKU (FNV-1a), so every seed of the demo looks the same.
function steadyStock(sku: string, size: string | undefined): number {
  let h = 2166136261
  for (let i = 0; i < sku.length; i++) h = Math.imul(h ^ sku.charCodeAt(i), 16777619)
  const n = 6 + ((h >>> 0) % 31)
  return size === 'XS' || size === 'XL' ? Math.ceil(n / 2) : n
}

function skuPart(value: string): string {
  return value.toUpperCase().replace(/[^A-Z0-9]/g, '')
}

function priceFor(product: DemoProduct, size: string | undefined): number {
  return (size === undefined ? undefined : product.priceBySize?.[size]) ?? product.priceCents
}

function minPrice(product: DemoProduct): number {
  return Math.min(product.priceCents, ...Object.values(product.priceBySize ?? {}))
}

export type SeedResult = { products: number; variants: number; collections: number; images: number }

/**
 * Seeds the demo catalog into an empty store and writes its pictures under
 * storageDir/uploads/products. Returns what it added, or null when the store already has
 * products. Emptiness is checked again inside one IMMEDIATE transaction, so of two
 * processes seeding at once the second finds the first one's rows and does nothing.
 */
export function seedDemo(db: Db, storageDir: string): SeedResult | null {
  if (db.select({ id: products.id }).from(products).limit(1).get()) return null
  const uploadsDir = path.join(/*turbopackIgnore: true*/ storageDir, 'uploads')
  const picturesDir = picturesFolder()
  const now = Date.now()

  return db.transaction(
    (tx) => {
      if (tx.select({ id: products.id }).from(products).limit(1).get()) return null
      const result: SeedResult = { products: 0, variants: 0, collections: 0, images: 0 }

      const collectionIds = new Map<CollectionSlug, number>()
      COLLECTIONS.forEach((c, position) => {
        const at = now - 90 * DAY
        const row = tx.insert(collections).values({ ...c, position, createdAt: at, updatedAt: at }).returning({ id: collections.id }).get()
        collectionIds.set(c.slug, row.id)
        result.collections++
      })
      const collectionSize = new Map<CollectionSlug, number>()

      for (const product of CATALOG) {
        const isActive = product.status !== 'draft'
        // Spread within the day too, so no two products share a created_at.
        const createdAt = now - product.daysAgo * DAY - (product.code.charCodeAt(0) % 12) * 60 * 60 * 1000 - product.code.charCodeAt(1) * 1000
        const { id: productId } = tx
          .insert(products)
          .values({
            slug: product.slug,
            title: product.title,
            description: product.description,
            status: product.status ?? 'active',
            isFeatured: product.isFeatured ?? false,
            createdAt,
            updatedAt: createdAt,
          })
          .returning({ id: products.id })
          .get()
        result.products++

        // Pictures: the JPEGs drawn for the demo (demo/pictures.ts), stored as uploads.
        const imageByColour = new Map<string, number>()
        for (const picture of picturesOf(product)) {
          const { data, rel } = readPicture(picturesDir, picture)
          writeUpload(uploadsDir, rel, data)
          const image = tx
            .insert(productImages)
            .values({ productId, path: rel, alt: describeImage(picture.spec), width: PICTURE_SIZE, height: PICTURE_SIZE, position: picture.position })
            .returning({ id: productImages.id })
            .get()
          if (picture.spec.view === 'front') imageByColour.set(picture.swatch, image.id)
          result.images++
        }

        // Variants: every colour in every size, colour first as shoppers choose it.
        const sizes: (string | undefined)[] = product.sizes ? [...product.sizes] : [undefined]
        const colourList: (string | undefined)[] = product.colours?.length ? product.colours : [undefined]
        let position = 0
        for (const colour of colourList) {
          for (const size of sizes) {
            const options: VariantOptions = {}
            if (size) options.Size = size
            if (colour) options.Colour = colour
            const sku = [product.code, colour && skuPart(colour), size && skuPart(size)].filter(Boolean).join('-')
            tx.insert(variants)
              .values({
                productId,
                sku,
                title: [colour, size].filter(Boolean).join(' / ') || 'Default',
                priceCents: priceFor(product, size),
                currency: 'usd',
                stock: product.stock?.[sku] ?? steadyStock(sku, size),
                options,
                imageId: colour ? (imageByColour.get(colour) ?? null) : null,
                position: position++,
                createdAt,
                updatedAt: createdAt,
              })
              .run()
            result.variants++
          }
        }

        // Collections: its own, plus the two that follow from the facts.
        const memberships = new Set(product.collections)
        if (isActive && product.daysAgo <= 14) memberships.add('new-arrivals')
        if (isActive && minPrice(product) <= 5000) memberships.add('gifts-under-50')
        for (const slug of memberships) {
          const n = collectionSize.get(slug) ?? 0
          tx.insert(productCollections).values({ productId, collectionId: collectionIds.get(slug)!, position: n }).run()
          collectionSize.set(slug, n + 1)
        }
      }
      return result
    },
    { behavior: 'immediate' },
  )
}
