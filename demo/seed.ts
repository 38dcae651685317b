import fs from 'node:fs'
import path from 'node:path'
import type { Db } from '@/db'
import { products, type VariantOptions } from '@/db/schema'
import { all, get, read, run, runNow, serialize, transaction, type Steps, type Tables, type Writer } from '@/db/tx'
import { CATALOG, COLLECTIONS, DAY, type CollectionSlug, type DemoProduct } from './catalog'
import { describeImage, writeUpload } from './images'
import { allPictures, PICTURE_SIZE, picturesFolder, picturesOf, readPicture, uploadPathOf } from './pictures'

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
 * processes seeding at once the second finds the first one's rows and does nothing. On a
 * SQLite connection of its own (tests, benches); the server seeds with seedDemoCatalog.
 */
export function seedDemo(db: Db, storageDir: string): SeedResult | null {
  if (db.select({ id: products.id }).from(products).limit(1).get()) return null
  writePictures(storageDir)
  const now = Date.now()
  return db.transaction((tx) => runNow(tx, (w, t) => seeding(w, t, now)), { behavior: 'immediate' })
}

/**
 * seedDemo on the store's engine (db/tx.ts): SQLite's, or PostgreSQL's, where several app
 * servers booting at once each try. They take turns on one key (serialize) and each checks
 * for products inside its turn, so the catalog is seeded once. Every app server then writes
 * the demo pictures the catalog's rows name into its own storage folder, where they are
 * missing: they come with the build, so they are not stored in the database as uploads are
 * (decision 049), and each server serves them from its own STORAGE_DIR.
 */
export async function seedDemoCatalog(storageDir: string): Promise<SeedResult | null> {
  const now = Date.now()
  const result = await transaction(function* (tx, t) {
    yield* serialize('demo.seed')
    return yield* seeding(tx, t, now)
  })
  const paths = await read(function* (db, t) {
    return yield* all(db.select({ path: t.productImages.path }).from(t.productImages))
  })
  writePictures(storageDir, new Set(paths.map((row) => row.path)))
  return result
}

/**
 * Writes the demo's pictures as uploads (all, or those whose upload path is in `only`),
 * skipping files already there: the bytes are fixed, so a file present is the right one.
 */
function writePictures(storageDir: string, only?: ReadonlySet<string>): void {
  const uploadsDir = path.join(/*turbopackIgnore: true*/ storageDir, 'uploads')
  const picturesDir = picturesFolder()
  for (const picture of allPictures()) {
    const rel = uploadPathOf(picture)
    if (only && !only.has(rel)) continue
    if (fs.existsSync(path.join(/*turbopackIgnore: true*/ uploadsDir, rel))) continue
    writeUpload(uploadsDir, rel, readPicture(picturesDir, picture).data)
  }
}

/** The rows of the demo catalog, into an empty store; null when it has products already. */
function* seeding(tx: Writer, t: Tables, now: number): Steps<SeedResult | null> {
  if (yield* get(tx.select({ id: t.products.id }).from(t.products).limit(1))) return null
  const result: SeedResult = { products: 0, variants: 0, collections: 0, images: 0 }

  const collectionIds = new Map<CollectionSlug, number>()
  for (const [position, c] of COLLECTIONS.entries()) {
    const at = now - 90 * DAY
    const row = yield* get(tx.insert(t.collections).values({ ...c, position, createdAt: at, updatedAt: at }).returning({ id: t.collections.id }))
    collectionIds.set(c.slug, row!.id)
    result.collections++
  }
  const collectionSize = new Map<CollectionSlug, number>()

  for (const product of CATALOG) {
    const isActive = product.status !== 'draft'
    // Spread within the day too, so no two products share a created_at.
    const createdAt = now - product.daysAgo * DAY - (product.code.charCodeAt(0) % 12) * 60 * 60 * 1000 - product.code.charCodeAt(1) * 1000
    const inserted = yield* get(
      tx
        .insert(t.products)
        .values({
          slug: product.slug,
          title: product.title,
          description: product.description,
          status: product.status ?? 'active',
          isFeatured: product.isFeatured ?? false,
          createdAt,
          updatedAt: createdAt,
        })
        .returning({ id: t.products.id }),
    )
    const productId = inserted!.id
    result.products++

    // Pictures: the JPEGs drawn for the demo (demo/pictures.ts), stored as uploads.
    const imageByColour = new Map<string, number>()
    for (const picture of picturesOf(product)) {
      const image = yield* get(
        tx
          .insert(t.productImages)
          .values({ productId, path: uploadPathOf(picture), alt: describeImage(picture.spec), width: PICTURE_SIZE, height: PICTURE_SIZE, position: picture.position })
          .returning({ id: t.productImages.id }),
      )
      if (picture.spec.view === 'front') imageByColour.set(picture.swatch, image!.id)
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
        yield* run(
          tx.insert(t.variants).values({
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
          }),
        )
        result.variants++
      }
    }

    // Collections: its own, plus the two that follow from the facts.
    const memberships = new Set(product.collections)
    if (isActive && product.daysAgo <= 14) memberships.add('new-arrivals')
    if (isActive && minPrice(product) <= 5000) memberships.add('gifts-under-50')
    for (const slug of memberships) {
      const n = collectionSize.get(slug) ?? 0
      yield* run(tx.insert(t.productCollections).values({ productId, collectionId: collectionIds.get(slug)!, position: n }))
      collectionSize.set(slug, n + 1)
    }
  }
  return result
}
