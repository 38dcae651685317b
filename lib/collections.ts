import 'server-only'
import { asc, eq, sql } from 'drizzle-orm'
import { z } from 'zod'
import { all, get, read, run, serialize, transaction } from '@/db/tx'
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

// A collection's address is unique, which a read decides before the write: writes naming one
// address take turns (on PostgreSQL two app servers would both read "free"; the unique index
// would then refuse one as a fault, not a message).
const addressTurn = (slug: string) => serialize(`collection.slug:${slug}`)

export function list() {
  return read(function* (db, { collections }) {
    const rows = yield* all(
      db
        .select({
          id: collections.id,
          slug: collections.slug,
          title: collections.title,
          description: collections.description,
          isFeatured: collections.isFeatured,
          // PostgreSQL answers a count as text (bigint)
          productCount: sql<number | string>`(SELECT count(*) FROM product_collections pc WHERE pc.collection_id = ${collections.id})`,
        })
        .from(collections)
        .orderBy(asc(collections.position), asc(collections.title), asc(collections.id)),
    )
    return rows.map((r) => ({ ...r, productCount: Number(r.productCount) }))
  })
}

export function create(actor: audit.Actor, fields: CollectionFields): Promise<number> {
  return transaction(function* (tx, t) {
    yield* addressTurn(fields.slug)
    if (yield* get(tx.select({ id: t.collections.id }).from(t.collections).where(eq(t.collections.slug, fields.slug)))) throw new InvalidInput(`The address ${fields.slug} is already used by another collection.`, 'slug')
    const row = (yield* get(tx.insert(t.collections).values(fields).returning({ id: t.collections.id })))!
    yield* audit.recording(tx, t, actor, 'collection.create', `collection:${row.id}`, null, fields)
    yield* cache.markingCatalogChanged(tx, t)
    return row.id
  })
}

export function update(actor: audit.Actor, id: number, fields: CollectionFields): Promise<void> {
  return transaction(function* (tx, t) {
    yield* addressTurn(fields.slug)
    const before = yield* get(tx.select().from(t.collections).where(eq(t.collections.id, id)))
    if (!before) throw new NotFound('That collection')
    const clash = yield* get(tx.select({ id: t.collections.id }).from(t.collections).where(eq(t.collections.slug, fields.slug)))
    if (clash && clash.id !== id) throw new InvalidInput(`The address ${fields.slug} is already used by another collection.`, 'slug')
    yield* run(tx.update(t.collections).set({ ...fields, updatedAt: Date.now() }).where(eq(t.collections.id, id)))
    yield* audit.recording(tx, t, actor, 'collection.update', `collection:${id}`, { title: before.title, slug: before.slug, description: before.description, isFeatured: before.isFeatured }, fields)
    yield* cache.markingCatalogChanged(tx, t)
  })
}

export function ofProduct(productId: number): Promise<number[]> {
  return read(function* (db, { productCollections }) {
    return (yield* all(db.select({ id: productCollections.collectionId }).from(productCollections).where(eq(productCollections.productId, productId)))).map((r) => r.id)
  })
}

/** Puts a product in exactly these collections. */
export function setForProduct(actor: audit.Actor, productId: number, collectionIds: number[]): Promise<void> {
  return transaction(function* (tx, t) {
    // The set is replaced by reading it, deleting it and inserting the new one: two at once on
    // PostgreSQL would both insert, and the second would fail on the first's rows.
    yield* serialize(`product.collections:${productId}`)
    if (!(yield* get(tx.select({ id: t.products.id }).from(t.products).where(eq(t.products.id, productId))))) throw new NotFound('That product')
    const known = new Set((yield* all(tx.select({ id: t.collections.id }).from(t.collections))).map((c) => c.id))
    const wanted = [...new Set(collectionIds)].filter((id) => known.has(id))
    const before = (yield* all(tx.select({ id: t.productCollections.collectionId }).from(t.productCollections).where(eq(t.productCollections.productId, productId)))).map((r) => r.id)
    yield* run(tx.delete(t.productCollections).where(eq(t.productCollections.productId, productId)))
    if (wanted.length) yield* run(tx.insert(t.productCollections).values(wanted.map((collectionId) => ({ productId, collectionId }))))
    yield* audit.recording(tx, t, actor, 'product.collections', `product:${productId}`, before, wanted)
    yield* cache.markingCatalogChanged(tx, t)
  })
}
