import 'server-only'
import { and, asc, count, desc, eq, or, sql, type SQL } from 'drizzle-orm'
import { z } from 'zod'
import type { VariantOptions } from '@/db/schema'
import { contains } from '@/db/text-match'
import { all, get as getRow, read, run, serialize, transaction, type Steps, type Tables, type Writer } from '@/db/tx'
import * as audit from './audit'
import * as cache from './cache'
import { InvalidInput, NotFound } from './errors'
import * as inventory from './inventory'
import { getEnv } from './env'
import { parseMoney } from './money'
import { paged } from './paging'
import * as storedFiles from './stored-files'

// The owner's side of the catalog: products, their variants and pictures. Every write
// checks its input here (the forms only parse), records itself in the audit log in the same
// transaction and, once it commits, expires the storefront's cached catalog so the change
// shows at once.

export const TITLE_MAX = 200
export const DESCRIPTION_MAX = 10_000
export const PRODUCT_STATUSES = ['active', 'draft', 'archived'] as const

const title = z.string().trim().min(1, 'Enter a title.').max(TITLE_MAX, `The title is too long (${TITLE_MAX} characters at most).`)

export const ProductFields = z.object({
  title,
  description: z.string().trim().max(DESCRIPTION_MAX, `The description is too long (${DESCRIPTION_MAX} characters at most).`),
  status: z.enum(PRODUCT_STATUSES, { error: 'Choose active, draft or archived.' }),
  isFeatured: z.boolean(),
  // Stripe Tax's code for what the product is; empty: the shop's default (STRIPE_TAX_CODE)
  taxCode: z
    .string()
    .trim()
    .transform((v) => v || null)
    .pipe(z.string().regex(/^txcd_\d{8}$/, 'A tax code looks like txcd_99999999 (leave it empty for the shop default).').nullable())
    .optional(),
})
export type ProductFields = z.infer<typeof ProductFields>

const sku = z
  .string()
  .trim()
  .min(1, 'Enter a SKU for every variant.')
  .max(64, 'A SKU is 64 characters at most.')
  .regex(/^[A-Za-z0-9][A-Za-z0-9._-]*$/, 'A SKU has letters, digits, dots, dashes and underscores only.')

/**
 * "Colour: Cream, Size: M" (as the storefront shows options) or "Size=M, Colour=Navy" →
 * { Colour: 'Cream', Size: 'M' }; pairs separated by commas, semicolons or new lines.
 */
export function parseOptionsText(text: string): VariantOptions | null {
  const out: VariantOptions = {}
  const trimmed = text.trim()
  if (!trimmed) return out
  for (const part of trimmed.split(/[,;\n]/)) {
    if (!part.trim()) continue
    // Name=Value (the older form, whose value may hold a colon) or Name: Value
    const m = /^\s*([^=]{1,40}?)\s*=\s*([^=]{1,60}?)\s*$/.exec(part) ?? /^\s*([^:=]{1,40}?)\s*:\s*([^=]{1,60}?)\s*$/.exec(part)
    if (!m || !m[1] || !m[2]) return null
    out[m[1]] = m[2]
  }
  return Object.keys(out).length <= 5 ? out : null
}

/** The options as the form shows them, in the storefront's own words: "Colour: Cream, Size: M". */
export function optionsText(options: VariantOptions): string {
  return Object.entries(options)
    .map(([k, v]) => `${k}: ${v}`)
    .join(', ')
}

/** The options format in words, for the form's hint and the refusal. */
export const OPTIONS_FORMAT = 'Name: Value pairs separated by commas, like Colour: Cream, Size: M'

export type VariantInput = { sku: string; title: string; priceCents: number; stock: number; options: VariantOptions }

/** Reads one variant's raw form fields; the message names what is wrong. */
export function parseVariant(raw: { sku: unknown; title: unknown; price: unknown; stock?: unknown; options: unknown }, label: string): { ok: true; data: VariantInput } | { ok: false; message: string; field: keyof VariantInput | 'price' } {
  const parsedSku = sku.safeParse(raw.sku)
  if (!parsedSku.success) return { ok: false, message: `${label}: ${parsedSku.error.issues[0]!.message}`, field: 'sku' }
  const parsedTitle = z.string().trim().max(TITLE_MAX, `the variant title is too long (${TITLE_MAX} characters at most)`).safeParse(raw.title ?? '')
  if (!parsedTitle.success) return { ok: false, message: `${label}: ${parsedTitle.error.issues[0]!.message}`, field: 'title' }
  const priceText = typeof raw.price === 'string' ? raw.price : ''
  const price = parseMoney(priceText, getEnv().currency, { what: 'the price' })
  if (!price.ok) return { ok: false, message: `${label}: ${price.message}`, field: 'price' }
  const priceCents = price.cents
  let stock = 0
  if (raw.stock !== undefined) {
    const parsedStock = z.coerce.number().int().min(0).max(1_000_000).safeParse(raw.stock === '' ? '0' : raw.stock)
    if (!parsedStock.success) return { ok: false, message: `${label}: the stock must be a whole number, zero or more.`, field: 'stock' }
    stock = parsedStock.data
  }
  const options = parseOptionsText(typeof raw.options === 'string' ? raw.options : '')
  if (!options) return { ok: false, message: `${label}: write the options as ${OPTIONS_FORMAT} (at most five).`, field: 'options' }
  return { ok: true, data: { sku: parsedSku.data, title: parsedTitle.data || optionsTitle(options), priceCents, stock, options } }
}

function optionsTitle(options: VariantOptions): string {
  return Object.values(options).join(' / ') || 'Default'
}

function slugify(text: string): string {
  return (
    text
      .normalize('NFKD')
      .replace(/[\u0300-\u036f]/g, '')
      .toLowerCase()
      .replace(/[^a-z0-9]+/g, '-')
      .replace(/^-+|-+$/g, '')
      .slice(0, 60)
      .replace(/-+$/g, '') || 'product'
  )
}

// Every write that claims a SKU or a product's address (a product or variant saved, a catalog
// import) takes this turn first. Both are unique without regard to case, which a read decides
// before the insert, with no row yet to lock: on PostgreSQL two app servers would both read
// "free" and both insert (the unique index catches an exact clash only, and as a fault, not a
// message). On SQLite BEGIN IMMEDIATE already takes turns. One key for the whole catalog: the
// owner's writes are few, an import claims thousands of SKUs at once, and one turn cannot
// deadlock with another.
const NAMES_TURN = 'catalog:names'

/** The catalog's turn for SKUs and addresses (NAMES_TURN), as a step. */
export function* takingNamesTurn(): Steps<void> {
  yield* serialize(NAMES_TURN)
}

function* uniqueSlug(tx: Writer, t: Tables, base: string, exceptId?: number): Steps<string> {
  for (let n = 1; n < 1000; n++) {
    const candidate = n === 1 ? base : `${base}-${n}`
    const taken = yield* getRow(tx.select({ id: t.products.id }).from(t.products).where(eq(t.products.slug, candidate)).limit(1))
    if (!taken || taken.id === exceptId) return candidate
  }
  throw new InvalidInput('Could not find a free address for this title; change the title.', 'title')
}

function* checkingSkusFree(tx: Writer, t: Tables, skus: string[], exceptVariantId?: number): Steps<void> {
  const seen = new Set<string>()
  for (const s of skus) {
    if (seen.has(s.toLowerCase())) throw new InvalidInput(`The SKU ${s} is used twice in this form; each variant needs its own.`, 'sku')
    seen.add(s.toLowerCase())
  }
  if (skus.length === 0) return
  const clashes = yield* all(
    tx
      .select({ id: t.variants.id, sku: t.variants.sku, productTitle: t.products.title })
      .from(t.variants)
      .innerJoin(t.products, eq(t.products.id, t.variants.productId))
      .where(sql`lower(${t.variants.sku}) IN (${sql.join(skus.map((s) => sql`${s.toLowerCase()}`), sql`, `)})`),
  )
  const clash = clashes.find((row) => row.id !== exceptVariantId)
  if (clash) throw new InvalidInput(`The SKU ${clash.sku} is already used by “${clash.productTitle}”. Every SKU must be unique.`, 'sku')
}

/** Refused: the product changed (another owner, another tab) since the form was drawn. */
export class StaleProduct extends InvalidInput {
  constructor() {
    super('Someone changed this product after you opened it, so your changes were not saved. Your text is kept below: reload the page to see the product as it is now, then save again.')
    this.name = 'StaleProduct'
  }
}

/**
 * A product's version is its `updated_at`, which every change here moves strictly forward
 * (never the same millisecond twice), so a form can name the version it was drawn from.
 */
export const nextVersion = (t: Tables, now: number) => sql<number>`CASE WHEN CAST(${now} AS bigint) > ${t.products.updatedAt} THEN CAST(${now} AS bigint) ELSE ${t.products.updatedAt} + 1 END`

type ProductRow = Tables['products']['$inferSelect']

/**
 * Changes a product's row by compare and set on its version: refused (StaleProduct) when
 * `version` is given and the row has moved on; without one, the row as read just before is
 * the one changed (read again if another transaction changed it in between, which only
 * PostgreSQL's READ COMMITTED lets happen), so the audit's "before" is always the row replaced.
 */
function* changingProduct(tx: Writer, t: Tables, id: number, version: number | undefined, set: Partial<ProductFields> & { status?: ProductRow['status'] }): Steps<{ before: ProductRow; version: number }> {
  for (;;) {
    const before = yield* getRow(tx.select().from(t.products).where(eq(t.products.id, id)))
    if (!before) throw new NotFound('That product')
    if (version !== undefined && before.updatedAt !== version) throw new StaleProduct()
    const row = yield* getRow(
      tx
        .update(t.products)
        .set({ ...set, updatedAt: nextVersion(t, Date.now()) })
        .where(and(eq(t.products.id, id), eq(t.products.updatedAt, before.updatedAt)))
        .returning({ version: t.products.updatedAt }),
    )
    if (row) return { before, version: row.version }
    if (version !== undefined) throw new StaleProduct()
  }
}

function* insertingVariant(tx: Writer, t: Tables, actor: audit.Actor, productId: number, v: VariantInput, position: number, now: number): Steps<number> {
  const row = yield* getRow(
    tx
      .insert(t.variants)
      .values({ productId, sku: v.sku, title: v.title, priceCents: v.priceCents, currency: getEnv().currency, stock: v.stock, options: v.options, position, createdAt: now, updatedAt: now })
      .returning({ id: t.variants.id }),
  )
  yield* inventory.recordingInitial(tx, t, row!.id, v.stock, actor.id)
  return row!.id
}

/**
 * Creates a product with its variants. A title another product already has is allowed (two
 * sizes of poster may share one) but never silent: the new product gets its own address
 * (title-2) and `sameTitleAs` names the existing one, so the form can say so.
 */
export function create(actor: audit.Actor, fields: ProductFields, variantInputs: VariantInput[]): Promise<{ id: number; slug: string; sameTitleAs: { id: number; slug: string } | null }> {
  if (variantInputs.length === 0) return Promise.reject(new InvalidInput('Add at least one variant (a SKU and a price).', 'sku'))
  return transaction(function* (tx, t) {
    yield* takingNamesTurn()
    yield* checkingSkusFree(tx, t, variantInputs.map((v) => v.sku))
    const sameTitleAs =
      (yield* getRow(tx.select({ id: t.products.id, slug: t.products.slug }).from(t.products).where(sql`lower(${t.products.title}) = ${fields.title.toLowerCase()}`).orderBy(asc(t.products.id)).limit(1))) ?? null
    const now = Date.now()
    const slug = yield* uniqueSlug(tx, t, slugify(fields.title))
    const row = (yield* getRow(tx.insert(t.products).values({ ...fields, slug, createdAt: now, updatedAt: now }).returning({ id: t.products.id })))!
    for (const [position, v] of variantInputs.entries()) yield* insertingVariant(tx, t, actor, row.id, v, position, now)
    yield* audit.recording(tx, t, actor, 'product.create', `product:${row.id}`, null, { ...fields, slug, variants: variantInputs })
    yield* cache.markingCatalogChanged(tx, t)
    return { id: row.id, slug, sameTitleAs }
  })
}

/**
 * Saves a product's fields. With `version` (the `updatedAt` its form was drawn from), a
 * product changed since is refused with StaleProduct and nothing is saved. Answers the new version.
 */
export function update(actor: audit.Actor, id: number, fields: ProductFields, version?: number): Promise<number> {
  return transaction(function* (tx, t) {
    const { before, version: after } = yield* changingProduct(tx, t, id, version, fields)
    yield* audit.recording(tx, t, actor, 'product.update', `product:${id}`, { title: before.title, description: before.description, status: before.status, isFeatured: before.isFeatured, taxCode: before.taxCode }, fields)
    yield* cache.markingCatalogChanged(tx, t)
    return after
  })
}

export function setStatus(actor: audit.Actor, id: number, status: (typeof PRODUCT_STATUSES)[number]): Promise<void> {
  return transaction(function* (tx, t) {
    const { before } = yield* changingProduct(tx, t, id, undefined, { status })
    yield* audit.recording(tx, t, actor, `product.${status === 'archived' ? 'archive' : 'status'}`, `product:${id}`, { status: before.status }, { status })
    yield* cache.markingCatalogChanged(tx, t)
  })
}

export function addVariant(actor: audit.Actor, productId: number, v: VariantInput): Promise<number> {
  return transaction(function* (tx, t) {
    // the turn also orders the adds of one product, each counting the others for its position
    yield* takingNamesTurn()
    if (!(yield* getRow(tx.select({ id: t.products.id }).from(t.products).where(eq(t.products.id, productId))))) throw new NotFound('That product')
    yield* checkingSkusFree(tx, t, [v.sku])
    const position = (yield* getRow(tx.select({ n: count() }).from(t.variants).where(eq(t.variants.productId, productId))))!.n
    const id = yield* insertingVariant(tx, t, actor, productId, v, position, Date.now())
    yield* audit.recording(tx, t, actor, 'variant.create', `variant:${id}`, null, { productId, ...v })
    yield* cache.markingCatalogChanged(tx, t)
    return id
  })
}

/** Changes a variant's SKU, title, price and options; stock moves only through inventory. */
export function updateVariant(actor: audit.Actor, variantId: number, v: Omit<VariantInput, 'stock'>): Promise<void> {
  return transaction(function* (tx, t) {
    yield* takingNamesTurn()
    const before = yield* getRow(tx.select().from(t.variants).where(eq(t.variants.id, variantId)))
    if (!before) throw new NotFound('That variant')
    yield* checkingSkusFree(tx, t, [v.sku], variantId)
    yield* run(tx.update(t.variants).set({ sku: v.sku, title: v.title, priceCents: v.priceCents, options: v.options, updatedAt: Date.now() }).where(eq(t.variants.id, variantId)))
    yield* audit.recording(tx, t, actor, 'variant.update', `variant:${variantId}`, { sku: before.sku, title: before.title, priceCents: before.priceCents, options: before.options }, v)
    yield* cache.markingCatalogChanged(tx, t)
  })
}

// A product's pictures are numbered 0…n-1 by reading the others: writes to one product's
// pictures take turns, so two uploads at once do not both take the same place.
const picturesTurn = (productId: number) => serialize(`product.pictures:${productId}`)

/** Adds a picture to the product; `files` are its bytes (and its copies'), stored with the row that names them. */
export function addImage(actor: audit.Actor, productId: number, image: { path: string; width: number; height: number; alt: string }, files: storedFiles.StoredFile[]): Promise<number> {
  return transaction(function* (tx, t) {
    yield* picturesTurn(productId)
    if (!(yield* getRow(tx.select({ id: t.products.id }).from(t.products).where(eq(t.products.id, productId))))) throw new NotFound('That product')
    yield* storedFiles.storing(tx, t, files)
    const position = (yield* getRow(tx.select({ n: count() }).from(t.productImages).where(eq(t.productImages.productId, productId))))!.n
    const row = (yield* getRow(tx.insert(t.productImages).values({ productId, ...image, position }).returning({ id: t.productImages.id })))!
    yield* audit.recording(tx, t, actor, 'image.add', `product:${productId}`, null, { imageId: row.id, ...image })
    yield* cache.markingCatalogChanged(tx, t)
    return row.id
  })
}

function* pictureOf(tx: Writer, t: Tables, imageId: number): Steps<Tables['productImages']['$inferSelect']> {
  const found = yield* getRow(tx.select({ productId: t.productImages.productId }).from(t.productImages).where(eq(t.productImages.id, imageId)))
  if (!found) throw new NotFound('That picture')
  yield* picturesTurn(found.productId)
  // read again in the turn: another change may have removed it meanwhile
  const image = yield* getRow(tx.select().from(t.productImages).where(eq(t.productImages.id, imageId)))
  if (!image) throw new NotFound('That picture')
  return image
}

/** Moves a picture one place up or down; positions are renumbered 0…n-1. */
export function moveImage(actor: audit.Actor, imageId: number, direction: 'up' | 'down'): Promise<void> {
  return transaction(function* (tx, t) {
    const image = yield* pictureOf(tx, t, imageId)
    const list = (yield* all(tx.select({ id: t.productImages.id }).from(t.productImages).where(eq(t.productImages.productId, image.productId)).orderBy(asc(t.productImages.position), asc(t.productImages.id)))).map(
      (r) => r.id,
    )
    const before = [...list]
    const i = list.indexOf(imageId)
    const j = direction === 'up' ? i - 1 : i + 1
    if (j < 0 || j >= list.length) return
    ;[list[i], list[j]] = [list[j]!, list[i]!]
    for (const [position, id] of list.entries()) yield* run(tx.update(t.productImages).set({ position }).where(eq(t.productImages.id, id)))
    yield* audit.recording(tx, t, actor, 'image.reorder', `product:${image.productId}`, before, list)
    yield* cache.markingCatalogChanged(tx, t)
  })
}

export function removeImage(actor: audit.Actor, imageId: number): Promise<void> {
  return transaction(function* (tx, t) {
    const image = yield* pictureOf(tx, t, imageId)
    yield* run(tx.update(t.variants).set({ imageId: null }).where(eq(t.variants.imageId, imageId)))
    yield* run(tx.delete(t.productImages).where(eq(t.productImages.id, imageId)))
    yield* audit.recording(tx, t, actor, 'image.remove', `product:${image.productId}`, image, null)
    yield* cache.markingCatalogChanged(tx, t)
  })
}

// ---------------------------------------------------------------------------------------
// Reads for the admin (every status, stock and holds visible)

export const SORTS = { newest: 'Newest', updated: 'Recently changed', title: 'Title A–Z' } as const
export type AdminSort = keyof typeof SORTS
const PER_PAGE = 20

// A subquery over `variants v` must name the outer product by table: drizzle writes a column
// of a one-table select unqualified ("id"), and inside the subquery that is v.id.
const outerProductId = (t: Tables) => sql`${t.products}.${sql.identifier(t.products.id.name)}`

export function list(query: { q?: string; sort?: AdminSort; page?: number; status?: string }) {
  return read(function* (db, t) {
    const { products } = t
    const page = Math.max(1, query.page ?? 1)
    const parts: SQL[] = []
    if (query.q) {
      parts.push(or(contains(products.title, query.q), sql`EXISTS (SELECT 1 FROM variants v WHERE v.product_id = ${outerProductId(t)} AND ${contains(sql`v.sku`, query.q)})`)!)
    }
    if (query.status && (PRODUCT_STATUSES as readonly string[]).includes(query.status)) parts.push(eq(products.status, query.status as (typeof PRODUCT_STATUSES)[number]))
    const where = parts.length ? and(...parts) : undefined
    const order = query.sort === 'title' ? [asc(products.title), asc(products.id)] : query.sort === 'updated' ? [desc(products.updatedAt), desc(products.id)] : [desc(products.createdAt), desc(products.id)]
    const { n: total } = (yield* getRow(db.select({ n: count() }).from(products).where(where)))!
    const result = yield* paged(total, page, PER_PAGE, (limit, offset) =>
      all(
        db
          .select({
            id: products.id,
            slug: products.slug,
            title: products.title,
            status: products.status,
            updatedAt: products.updatedAt,
            // PostgreSQL answers count and sum as text (bigint, numeric): Number() below
            variantCount: sql<number | string>`(SELECT count(*) FROM variants v WHERE v.product_id = ${outerProductId(t)})`,
            stock: sql<number | string>`(SELECT coalesce(sum(v.stock), 0) FROM variants v WHERE v.product_id = ${outerProductId(t)})`,
            minPriceCents: sql<number | string | null>`(SELECT min(v.price_cents) FROM variants v WHERE v.product_id = ${outerProductId(t)})`,
          })
          .from(products)
          .where(where)
          .orderBy(...order)
          .limit(limit)
          .offset(offset),
      ),
    )
    return {
      ...result,
      rows: result.rows.map((r) => ({ ...r, variantCount: Number(r.variantCount), stock: Number(r.stock), minPriceCents: r.minPriceCents === null ? null : Number(r.minPriceCents) })),
    }
  })
}

export function get(id: number) {
  return read(function* (db, t) {
    const product = yield* getRow(db.select().from(t.products).where(eq(t.products.id, id)))
    if (!product) return null
    const vs = yield* all(db.select().from(t.variants).where(eq(t.variants.productId, id)).orderBy(asc(t.variants.position), asc(t.variants.id)))
    const held = yield* inventory.heldIn(db, t, vs.map((v) => v.id))
    const images = yield* all(db.select().from(t.productImages).where(eq(t.productImages.productId, id)).orderBy(asc(t.productImages.position), asc(t.productImages.id)))
    return { ...product, variants: vs.map((v) => ({ ...v, held: held.get(v.id) ?? 0 })), images }
  })
}

/**
 * Every variant with its price, stock and held units: lowest stock first for the inventory
 * page, or by product (`byProduct`) for the bulk price and stock editor.
 */
export function stockList(query: { q?: string; page?: number; lowOnly?: boolean; byProduct?: boolean }) {
  return read(function* (db, { variants, products, ...t }) {
    const page = Math.max(1, query.page ?? 1)
    const parts: SQL[] = []
    if (query.q) {
      parts.push(or(contains(variants.sku, query.q), contains(products.title, query.q))!)
    }
    if (query.lowOnly) parts.push(sql`${variants.stock} <= ${LOW_STOCK}`)
    const where = parts.length ? and(...parts) : undefined
    const { n: total } = (yield* getRow(db.select({ n: count() }).from(variants).innerJoin(products, eq(products.id, variants.productId)).where(where)))!
    const result = yield* paged(total, page, 50, (limit, offset) =>
      all(
        db
          .select({ id: variants.id, sku: variants.sku, title: variants.title, stock: variants.stock, priceCents: variants.priceCents, currency: variants.currency, productId: products.id, productTitle: products.title, productStatus: products.status })
          .from(variants)
          .innerJoin(products, eq(products.id, variants.productId))
          .where(where)
          .orderBy(...(query.byProduct ? [asc(products.title), asc(products.id), asc(variants.position), asc(variants.id)] : [asc(variants.stock), asc(products.title), asc(variants.position), asc(variants.id)]))
          .limit(limit)
          .offset(offset),
      ),
    )
    const held = yield* inventory.heldIn(db, { variants, products, ...t }, result.rows.map((r) => r.id))
    return { ...result, rows: result.rows.map((r) => ({ ...r, held: held.get(r.id) ?? 0 })) }
  })
}

export const LOW_STOCK = 3

export function variantLabel(variantId: number) {
  return read(function* (db, { variants, products }) {
    return (
      (yield* getRow(
        db
          .select({ id: variants.id, sku: variants.sku, title: variants.title, stock: variants.stock, productId: products.id, productTitle: products.title })
          .from(variants)
          .innerJoin(products, eq(products.id, variants.productId))
          .where(eq(variants.id, variantId)),
      )) ?? null
    )
  })
}
