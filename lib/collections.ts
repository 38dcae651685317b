import 'server-only'
import { asc, eq, sql } from 'drizzle-orm'
import { z } from 'zod'
import { getDb, write } from '@/db'
import { collections, productCollections, products } from '@/db/schema'
import * as audit from './audit'
import * as cache from './cache'
import { InvalidInput, NotFound } from './errors'

// Collections for the owner: create, edit, and which products belong to which. The
// storefront's cached pages expire when a change commits.

export const CollectionFields = z.object({
  title: z.string().trim().min(1, 'Enter a title.').max(100, 'The collection title is too long (100 characters at most).'),
  slug: z
    .string()
    .trim()
    .toLowerCase()
    .regex(/^[a-z0-9]+(?:-[a-z0-9]+)*$/, 'The address may have lowercase letters, digits and dashes only (e.g. summer-sale).')
    .max(60, 'The address is too long (60 characters at most).'),
  description: z.string().trim().max(2000, 'The description is too long (2000 characters at most).'),
  isFeatured: z.boolean(),
})
export type CollectionFields = z.infer<typeof CollectionFields>

function changed() {
  cache.markCatalogChanged()
}

export function list() {
  return getDb()
    .select({
      id: collections.id,
      slug: collections.slug,
      title: collections.title,
      description: collections.description,
      isFeatured: collections.isFeatured,
      productCount: sql<number>`(SELECT count(*) FROM product_collections pc WHERE pc.collection_id = ${collections.id})`,
    })
    .from(collections)
    .orderBy(asc(collections.position), asc(collections.title))
    .all()
}

export function create(actor: audit.Actor, fields: CollectionFields): number {
  return write((tx) => {
    if (tx.select({ id: collections.id }).from(collections).where(eq(collections.slug, fields.slug)).get()) throw new InvalidInput(`The address ${fields.slug} is already used by another collection.`, 'slug')
    const row = tx.insert(collections).values(fields).returning({ id: collections.id }).get()
    audit.record(tx, actor, 'collection.create', `collection:${row.id}`, null, fields)
    changed()
    return row.id
  })
}

export function update(actor: audit.Actor, id: number, fields: CollectionFields): void {
  write((tx) => {
    const before = tx.select().from(collections).where(eq(collections.id, id)).get()
    if (!before) throw new NotFound('That collection')
    const clash = tx.select({ id: collections.id }).from(collections).where(eq(collections.slug, fields.slug)).get()
    if (clash && clash.id !== id) throw new InvalidInput(`The address ${fields.slug} is already used by another collection.`, 'slug')
    tx.update(collections).set({ ...fields, updatedAt: Date.now() }).where(eq(collections.id, id)).run()
    audit.record(tx, actor, 'collection.update', `collection:${id}`, { title: before.title, slug: before.slug, description: before.description, isFeatured: before.isFeatured }, fields)
    changed()
  })
}

export function ofProduct(productId: number): number[] {
  return getDb().select({ id: productCollections.collectionId }).from(productCollections).where(eq(productCollections.productId, productId)).all().map((r) => r.id)
}

/** Puts a product in exactly these collections. */
export function setForProduct(actor: audit.Actor, productId: number, collectionIds: number[]): void {
  write((tx) => {
    if (!tx.select({ id: products.id }).from(products).where(eq(products.id, productId)).get()) throw new NotFound('That product')
    const known = new Set(tx.select({ id: collections.id }).from(collections).all().map((c) => c.id))
    const wanted = [...new Set(collectionIds)].filter((id) => known.has(id))
    const before = tx.select({ id: productCollections.collectionId }).from(productCollections).where(eq(productCollections.productId, productId)).all().map((r) => r.id)
    tx.delete(productCollections).where(eq(productCollections.productId, productId)).run()
    for (const collectionId of wanted) tx.insert(productCollections).values({ productId, collectionId }).run()
    audit.record(tx, actor, 'product.collections', `product:${productId}`, before, wanted)
    changed()
  })
}
