import 'server-only'
import { and, asc, count, desc, eq, inArray, or, sql, type SQL } from 'drizzle-orm'
import { z } from 'zod'
import { getDb, write, type Tx } from '@/db'
import { productImages, products, variants, type VariantOptions } from '@/db/schema'
import { contains } from '@/db/text-match'
import * as audit from './audit'
import * as cache from './cache'
import { InvalidInput, NotFound } from './errors'
import * as inventory from './inventory'
import { getEnv } from './env'
import { parseMoney } from './money'
import { paginate } from './paging'

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

function uniqueSlug(tx: Tx, base: string, exceptId?: number): string {
  for (let n = 1; n < 1000; n++) {
    const candidate = n === 1 ? base : `${base}-${n}`
    const taken = tx.select({ id: products.id }).from(products).where(eq(products.slug, candidate)).get()
    if (!taken || taken.id === exceptId) return candidate
  }
  throw new InvalidInput('Could not find a free address for this title; change the title.', 'title')
}

function assertSkusFree(tx: Tx, skus: string[], exceptVariantId?: number): void {
  const seen = new Set<string>()
  for (const s of skus) {
    if (seen.has(s.toLowerCase())) throw new InvalidInput(`The SKU ${s} is used twice in this form; each variant needs its own.`, 'sku')
    seen.add(s.toLowerCase())
  }
  if (skus.length === 0) return
  const clash = tx
    .select({ id: variants.id, sku: variants.sku, productTitle: products.title })
    .from(variants)
    .innerJoin(products, eq(products.id, variants.productId))
    .where(sql`lower(${variants.sku}) IN (${sql.join(skus.map((s) => sql`${s.toLowerCase()}`), sql`, `)})`)
    .all()
    .find((row) => row.id !== exceptVariantId)
  if (clash) throw new InvalidInput(`The SKU ${clash.sku} is already used by “${clash.productTitle}”. Every SKU must be unique.`, 'sku')
}

function changed(): void {
  cache.markCatalogChanged()
}

/**
 * Creates a product with its variants. A title another product already has is allowed (two
 * sizes of poster may share one) but never silent: the new product gets its own address
 * (title-2) and `sameTitleAs` names the existing one, so the form can say so.
 */
export function create(actor: audit.Actor, fields: ProductFields, variantInputs: VariantInput[]): { id: number; slug: string; sameTitleAs: { id: number; slug: string } | null } {
  if (variantInputs.length === 0) throw new InvalidInput('Add at least one variant (a SKU and a price).', 'sku')
  return write((tx) => {
    assertSkusFree(tx, variantInputs.map((v) => v.sku))
    const sameTitleAs = tx.select({ id: products.id, slug: products.slug }).from(products).where(sql`lower(${products.title}) = ${fields.title.toLowerCase()}`).orderBy(asc(products.id)).get() ?? null
    const now = Date.now()
    const slug = uniqueSlug(tx, slugify(fields.title))
    const row = tx.insert(products).values({ ...fields, slug, createdAt: now, updatedAt: now }).returning({ id: products.id }).get()
    variantInputs.forEach((v, position) => {
      const inserted = tx
        .insert(variants)
        .values({ productId: row.id, sku: v.sku, title: v.title, priceCents: v.priceCents, currency: getEnv().currency, stock: v.stock, options: v.options, position, createdAt: now, updatedAt: now })
        .returning({ id: variants.id })
        .get()
      inventory.recordInitial(tx, inserted.id, v.stock, actor.id)
    })
    audit.record(tx, actor, 'product.create', `product:${row.id}`, null, { ...fields, slug, variants: variantInputs })
    changed()
    return { id: row.id, slug, sameTitleAs }
  })
}

export function update(actor: audit.Actor, id: number, fields: ProductFields): void {
  write((tx) => {
    const before = tx.select().from(products).where(eq(products.id, id)).get()
    if (!before) throw new NotFound('That product')
    tx.update(products).set({ ...fields, updatedAt: Date.now() }).where(eq(products.id, id)).run()
    audit.record(tx, actor, 'product.update', `product:${id}`, { title: before.title, description: before.description, status: before.status, isFeatured: before.isFeatured, taxCode: before.taxCode }, fields)
    changed()
  })
}

export function setStatus(actor: audit.Actor, id: number, status: (typeof PRODUCT_STATUSES)[number]): void {
  write((tx) => {
    const before = tx.select({ status: products.status }).from(products).where(eq(products.id, id)).get()
    if (!before) throw new NotFound('That product')
    tx.update(products).set({ status, updatedAt: Date.now() }).where(eq(products.id, id)).run()
    audit.record(tx, actor, `product.${status === 'archived' ? 'archive' : 'status'}`, `product:${id}`, before, { status })
    changed()
  })
}

export function addVariant(actor: audit.Actor, productId: number, v: VariantInput): number {
  return write((tx) => {
    if (!tx.select({ id: products.id }).from(products).where(eq(products.id, productId)).get()) throw new NotFound('That product')
    assertSkusFree(tx, [v.sku])
    const position = tx.select({ n: count() }).from(variants).where(eq(variants.productId, productId)).get()!.n
    const row = tx
      .insert(variants)
      .values({ productId, sku: v.sku, title: v.title, priceCents: v.priceCents, currency: getEnv().currency, stock: v.stock, options: v.options, position })
      .returning({ id: variants.id })
      .get()
    inventory.recordInitial(tx, row.id, v.stock, actor.id)
    audit.record(tx, actor, 'variant.create', `variant:${row.id}`, null, { productId, ...v })
    changed()
    return row.id
  })
}

/** Changes a variant's SKU, title, price and options; stock moves only through inventory. */
export function updateVariant(actor: audit.Actor, variantId: number, v: Omit<VariantInput, 'stock'>): void {
  write((tx) => {
    const before = tx.select().from(variants).where(eq(variants.id, variantId)).get()
    if (!before) throw new NotFound('That variant')
    assertSkusFree(tx, [v.sku], variantId)
    tx.update(variants).set({ sku: v.sku, title: v.title, priceCents: v.priceCents, options: v.options, updatedAt: Date.now() }).where(eq(variants.id, variantId)).run()
    audit.record(tx, actor, 'variant.update', `variant:${variantId}`, { sku: before.sku, title: before.title, priceCents: before.priceCents, options: before.options }, v)
    changed()
  })
}

export function addImage(actor: audit.Actor, productId: number, image: { path: string; width: number; height: number; alt: string }): number {
  return write((tx) => {
    if (!tx.select({ id: products.id }).from(products).where(eq(products.id, productId)).get()) throw new NotFound('That product')
    const position = tx.select({ n: count() }).from(productImages).where(eq(productImages.productId, productId)).get()!.n
    const row = tx.insert(productImages).values({ productId, ...image, position }).returning({ id: productImages.id }).get()
    audit.record(tx, actor, 'image.add', `product:${productId}`, null, { imageId: row.id, ...image })
    changed()
    return row.id
  })
}

/** Moves a picture one place up or down; positions are renumbered 0…n-1. */
export function moveImage(actor: audit.Actor, imageId: number, direction: 'up' | 'down'): void {
  write((tx) => {
    const image = tx.select().from(productImages).where(eq(productImages.id, imageId)).get()
    if (!image) throw new NotFound('That picture')
    const list = tx.select({ id: productImages.id }).from(productImages).where(eq(productImages.productId, image.productId)).orderBy(asc(productImages.position), asc(productImages.id)).all().map((r) => r.id)
    const before = [...list]
    const i = list.indexOf(imageId)
    const j = direction === 'up' ? i - 1 : i + 1
    if (j < 0 || j >= list.length) return
    ;[list[i], list[j]] = [list[j]!, list[i]!]
    list.forEach((id, position) => tx.update(productImages).set({ position }).where(eq(productImages.id, id)).run())
    audit.record(tx, actor, 'image.reorder', `product:${image.productId}`, before, list)
    changed()
  })
}

export function removeImage(actor: audit.Actor, imageId: number): void {
  write((tx) => {
    const image = tx.select().from(productImages).where(eq(productImages.id, imageId)).get()
    if (!image) throw new NotFound('That picture')
    tx.update(variants).set({ imageId: null }).where(eq(variants.imageId, imageId)).run()
    tx.delete(productImages).where(eq(productImages.id, imageId)).run()
    audit.record(tx, actor, 'image.remove', `product:${image.productId}`, image, null)
    changed()
  })
}

// ---------------------------------------------------------------------------------------
// Reads for the admin (every status, stock and holds visible)

export const SORTS = { newest: 'Newest', updated: 'Recently changed', title: 'Title A–Z' } as const
export type AdminSort = keyof typeof SORTS
const PER_PAGE = 20

// A subquery over `variants v` must name the outer product by table: drizzle writes a column
// of a one-table select unqualified ("id"), and inside the subquery that is v.id.
const outerProductId = sql`${products}.${sql.identifier(products.id.name)}`

export function list(query: { q?: string; sort?: AdminSort; page?: number; status?: string }) {
  const db = getDb()
  const page = Math.max(1, query.page ?? 1)
  const parts: SQL[] = []
  if (query.q) {
    parts.push(or(contains(products.title, query.q), sql`EXISTS (SELECT 1 FROM variants v WHERE v.product_id = ${outerProductId} AND ${contains(sql`v.sku`, query.q)})`)!)
  }
  if (query.status && (PRODUCT_STATUSES as readonly string[]).includes(query.status)) parts.push(eq(products.status, query.status as (typeof PRODUCT_STATUSES)[number]))
  const where = parts.length ? and(...parts) : undefined
  const order = query.sort === 'title' ? [asc(products.title)] : query.sort === 'updated' ? [desc(products.updatedAt), desc(products.id)] : [desc(products.createdAt), desc(products.id)]
  const total = db.select({ n: count() }).from(products).where(where).get()!.n
  return paginate(total, page, PER_PAGE, (limit, offset) =>
    db
      .select({
        id: products.id,
        slug: products.slug,
        title: products.title,
        status: products.status,
        updatedAt: products.updatedAt,
        variantCount: sql<number>`(SELECT count(*) FROM variants v WHERE v.product_id = ${outerProductId})`,
        stock: sql<number>`(SELECT coalesce(sum(v.stock), 0) FROM variants v WHERE v.product_id = ${outerProductId})`,
        minPriceCents: sql<number | null>`(SELECT min(v.price_cents) FROM variants v WHERE v.product_id = ${outerProductId})`,
      })
      .from(products)
      .where(where)
      .orderBy(...order)
      .limit(limit)
      .offset(offset)
      .all(),
  )
}

export function get(id: number) {
  const db = getDb()
  const product = db.select().from(products).where(eq(products.id, id)).get()
  if (!product) return null
  const vs = db.select().from(variants).where(eq(variants.productId, id)).orderBy(asc(variants.position), asc(variants.id)).all()
  const held = inventory.held(vs.map((v) => v.id))
  const images = db.select().from(productImages).where(eq(productImages.productId, id)).orderBy(asc(productImages.position), asc(productImages.id)).all()
  return { ...product, variants: vs.map((v) => ({ ...v, held: held.get(v.id) ?? 0 })), images }
}

/**
 * Every variant with its price, stock and held units: lowest stock first for the inventory
 * page, or by product (`byProduct`) for the bulk price and stock editor.
 */
export function stockList(query: { q?: string; page?: number; lowOnly?: boolean; byProduct?: boolean }) {
  const db = getDb()
  const page = Math.max(1, query.page ?? 1)
  const parts: SQL[] = []
  if (query.q) {
    parts.push(or(contains(variants.sku, query.q), contains(products.title, query.q))!)
  }
  if (query.lowOnly) parts.push(sql`${variants.stock} <= ${LOW_STOCK}`)
  const where = parts.length ? and(...parts) : undefined
  const total = db.select({ n: count() }).from(variants).innerJoin(products, eq(products.id, variants.productId)).where(where).get()!.n
  const result = paginate(total, page, 50, (limit, offset) =>
    db
      .select({ id: variants.id, sku: variants.sku, title: variants.title, stock: variants.stock, priceCents: variants.priceCents, currency: variants.currency, productId: products.id, productTitle: products.title, productStatus: products.status })
      .from(variants)
      .innerJoin(products, eq(products.id, variants.productId))
      .where(where)
      .orderBy(...(query.byProduct ? [asc(products.title), asc(products.id), asc(variants.position), asc(variants.id)] : [asc(variants.stock), asc(products.title), asc(variants.position)]))
      .limit(limit)
      .offset(offset)
      .all(),
  )
  const held = inventory.held(result.rows.map((r) => r.id))
  return { ...result, rows: result.rows.map((r) => ({ ...r, held: held.get(r.id) ?? 0 })) }
}

export const LOW_STOCK = 3

export function variantLabel(variantId: number) {
  return getDb()
    .select({ id: variants.id, sku: variants.sku, title: variants.title, stock: variants.stock, productId: products.id, productTitle: products.title })
    .from(variants)
    .innerJoin(products, eq(products.id, variants.productId))
    .where(inArray(variants.id, [variantId]))
    .get() ?? null
}
