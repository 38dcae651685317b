import 'server-only'
import fs from 'node:fs'
import path from 'node:path'
import { unstable_cache } from 'next/cache'
import { STORE_FILE } from '@/db'
import * as catalogReads from '@/db/catalog-reads'
import { preparedAll, preparedGet, read } from '@/db/tx'
import { tags } from './cache'
import { getEnv, isBuildPhase } from './env'
import * as inventory from './inventory'
import { optionParam } from './variant-picker'

// The catalog: what shoppers may see. Only active products are public.
//
// The shop's reads (the API's list, the listing and its facets, collections, sitemap, product
// page, the order pages' pictures; search is lib/search.ts) run on db/tx.ts's runner as
// prepared steps, their SQL for both engines in db/catalog-reads.ts, and return promises
// (docs/decisions/047-generator-transactions.md). Pages use the `cached` versions at
// the bottom, which keep results in Next's data cache under the tags of
// lib/cache.ts until a stock or catalog change expires them
// (docs/decisions/002-catalog-caching.md).

type ApiVariant = { id: number; sku: string; title: string; priceCents: number; currency: string; available: number }
export type ApiProduct = { id: number; slug: string; title: string; variants: ApiVariant[] }

/** The public catalog for GET /api/products: every active product, available = stock - active holds. */
export function listForApi(now = Date.now()): Promise<ApiProduct[]> {
  return read(function* () {
    const products: ApiProduct[] = []
    for (const row of yield* preparedAll(catalogReads.apiProducts, { now })) {
      let product = products.at(-1)
      if (product?.id !== row.productId) products.push((product = { id: row.productId, slug: row.slug, title: row.title, variants: [] }))
      if (row.variant) product.variants.push(row.variant)
    }
    return products
  })
}

// ---------------------------------------------------------------------------------------
// Shapes. Everything here is plain JSON (no Map, no Date): it goes through the data cache
// and across the server/client boundary as it is.

/** A product as a card shows it: the row both engines' card statements return (db/catalog-reads.ts). */
export type ProductCard = catalogReads.CardRow

export type ProductImage = { id: number; path: string; alt: string; width: number; height: number }
export type ProductVariant = { id: number; sku: string; title: string; priceCents: number; currency: string; options: Record<string, string>; imageId: number | null }
type ProductOption = { name: string; values: string[] }

export type ProductDetail = {
  id: number
  slug: string
  title: string
  description: string
  createdAt: number
  updatedAt: number
  images: ProductImage[]
  variants: ProductVariant[]
  options: ProductOption[]
  collections: { slug: string; title: string }[]
}

export type CollectionSummary = {
  id: number
  slug: string
  title: string
  description: string
  isFeatured: boolean
  productCount: number
  imagePath: string | null
  imageAlt: string
  updatedAt: number
}

export const SORTS = catalogReads.LISTING_SORTS
export type Sort = (typeof SORTS)[number]
export const SORT_LABELS: Record<Sort, string> = {
  featured: 'Featured',
  newest: 'Newest',
  'price-asc': 'Price: low to high',
  'price-desc': 'Price: high to low',
  name: 'Name: A to Z',
}

export type ListingQuery = {
  collection?: string | null
  /** option name -> accepted values, e.g. { Size: ['M', 'L'], Colour: ['Navy'] } */
  options?: Record<string, string[]>
  inStock?: boolean
  sort?: Sort
  page?: number
  perPage?: number
}

export type Listing = { items: ProductCard[]; total: number; page: number; perPage: number; pageCount: number }

export type Facets = {
  collections: { slug: string; title: string }[]
  /** `param` is the query-string key for the option: "size" for Size */
  options: { name: string; param: string; values: string[] }[]
}

export const PER_PAGE = 12
const MAX_PER_PAGE = 48
// Far past any shop's last page, and small enough that its offset stays an exact integer.
const MAX_PAGE = 1_000_000

// ---------------------------------------------------------------------------------------
// Queries.

/**
 * One page of active products. Option filters are matched on a single variant (Size M in
 * Navy means one variant that is both), several values of one option mean either, and
 * in-stock keeps products with a matching variant that can be sold now. Prices and the
 * picture follow the matching variants, so filtering by Olive shows the olive pictures.
 */
export function listProducts(query: ListingQuery = {}, now = Date.now()): Promise<Listing> {
  const perPage = clampInt(query.perPage ?? PER_PAGE, 1, MAX_PER_PAGE)
  const options = Object.entries(query.options ?? {})
    .filter(([, values]) => values.length > 0)
    .map(([name, values]) => ({ name, values }))
  const statement = catalogReads.listing({ sort: query.sort ?? 'featured', isInCollection: Boolean(query.collection), isInStock: Boolean(query.inStock), optionCount: options.length })
  const pageOf = (page: number, limit = perPage) => preparedAll(statement, { now, collection: query.collection || null, options, limit, offset: (page - 1) * perPage })
  return read(function* () {
    // Each row carries the listing's total, so a page is one statement; only a page past the
    // end asks again, for the total and then the last page.
    let page = clampInt(query.page ?? 1, 1, MAX_PAGE)
    let rows = yield* pageOf(page)
    let total = rows[0]?.total ?? 0
    if (rows.length === 0 && page > 1) {
      total = (yield* pageOf(1, 1))[0]?.total ?? 0
      page = Math.max(1, Math.ceil(total / perPage))
      if (total > 0) rows = yield* pageOf(page)
    }
    return { items: rows.map((r) => r.card), total, page, perPage, pageCount: Math.max(1, Math.ceil(total / perPage)) }
  })
}

/** What the listing can be filtered by: collections and every option value on sale. */
export function facets(): Promise<Facets> {
  return read(function* () {
    const collections = yield* preparedAll(catalogReads.facetCollections, undefined)
    const byName = new Map<string, string[]>()
    for (const pair of yield* preparedAll(catalogReads.optionValues, undefined)) byName.set(pair.name, [...(byName.get(pair.name) ?? []), pair.value])
    const options = orderOptionNames([...byName.keys()]).map((name) => ({
      name,
      param: optionParam(name),
      values: sortOptionValues(name, byName.get(name)!),
    }))
    return { collections, options }
  })
}

/** An active product with its pictures, variants, options and collections, or null. */
export function getProduct(slug: string): Promise<ProductDetail | null> {
  if (!isSlug(slug)) return Promise.resolve(null)
  return read(function* () {
    const product = yield* preparedGet(catalogReads.productBySlug, { slug })
    if (!product) return null
    const images = yield* preparedAll(catalogReads.productImages, { productId: product.id, title: product.title })
    const variantRows = yield* preparedAll(catalogReads.productVariants, { productId: product.id })
    const collections = yield* preparedAll(catalogReads.productCollections, { productId: product.id })
    const productVariants = variantRows.map((v) => ({ ...v, options: parseOptions(v.options) }))
    return { ...product, images, variants: productVariants, options: optionsOf(productVariants), collections }
  })
}

/** How an item is named to shoppers, in the cart, at checkout and in orders: "Product — Variant". */
export function itemLabel(productTitle: string, variantTitle: string | null | undefined): string {
  return variantTitle && variantTitle !== 'Default' && variantTitle !== productTitle ? `${productTitle} — ${variantTitle}` : productTitle
}

/** Units that can be sold right now, per variant id (plain object: it crosses to the client). */
export async function availability(variantIds: number[], now = Date.now()): Promise<Record<number, number>> {
  return Object.fromEntries(await read((db, t) => inventory.availableIn(db, t, variantIds, now)))
}

/**
 * Units that can be sold now for every variant of a product: the one live read on a product
 * page, so it is a prepared statement (building a drizzle query costs more than SQLite's own
 * work here).
 */
export function productAvailability(productId: number, now = Date.now()): Promise<Record<number, number>> {
  return read(function* () {
    return Object.fromEntries((yield* preparedAll(catalogReads.productAvailability, { productId, now })).map((r) => [r.id, r.available]))
  })
}

/** Every collection in the shop's order, with its count of active products and a picture. */
export function listCollections(): Promise<CollectionSummary[]> {
  return read(() => preparedAll(catalogReads.collections, undefined))
}

export async function getCollection(slug: string): Promise<CollectionSummary | null> {
  if (!isSlug(slug)) return null
  return (await listCollections()).find((c) => c.slug === slug) ?? null
}

export type HomeView = { featuredCollections: CollectionSummary[]; featured: ProductCard[]; newest: ProductCard[] }

export async function home(now = Date.now()): Promise<HomeView> {
  const collections = (await listCollections()).filter((c) => c.productCount > 0)
  const chosen = collections.filter((c) => c.isFeatured)
  // Each collection's tile shows a different picture: its first product not already shown.
  const used = new Set<string>()
  const featuredCollections: CollectionSummary[] = []
  for (const c of chosen.length > 0 ? chosen : collections.slice(0, 3)) {
    const pick = (await listProducts({ collection: c.slug, perPage: 12 }, now)).items.find((p) => p.imagePath && !used.has(p.imagePath))
    if (pick?.imagePath) used.add(pick.imagePath)
    featuredCollections.push(pick?.imagePath ? { ...c, imagePath: pick.imagePath, imageAlt: pick.imageAlt } : c)
  }
  const all = (await listProducts({ sort: 'featured', perPage: MAX_PER_PAGE }, now)).items
  // Whole rows of four on a desktop grid.
  const favourites = all.filter((p) => p.isFeatured).slice(0, 8)
  const featured = favourites.slice(0, Math.max(4, favourites.length - (favourites.length % 4)))
  const shown = new Set(featured.map((p) => p.id))
  const newest = (await listProducts({ sort: 'newest', perPage: 16 }, now)).items
    .filter((p) => !shown.has(p.id))
    .slice(0, 8)
  return { featuredCollections, featured, newest }
}

export type SitemapEntries = { products: { slug: string; updatedAt: number }[]; collections: { slug: string; updatedAt: number }[] }

export function sitemapEntries(): Promise<SitemapEntries> {
  return read(function* () {
    return { products: yield* preparedAll(catalogReads.sitemapProducts, undefined), collections: yield* preparedAll(catalogReads.sitemapCollections, undefined) }
  })
}

// ---------------------------------------------------------------------------------------
// Pure helpers: variants, options and the listing's query string.

/** Colour first (shoppers choose it first), Size last, anything else in between. */
function orderOptionNames(names: string[]): string[] {
  const rank = (n: string) => (/^colou?r$/i.test(n) ? 0 : /^size$/i.test(n) ? 2 : 1)
  return [...names].sort((a, b) => rank(a) - rank(b) || a.localeCompare(b) || byCodeUnit(a, b))
}

// The last tie-break of the sorts above, by UTF-16 code unit: two texts that localeCompare
// finds equal (say, é written as one code point or as e and an accent) still get one order,
// whatever order the database read them in.
function byCodeUnit(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0
}

const SIZE_ORDER = ['XXS', 'XS', 'S', 'S/M', 'M', 'M/L', 'L', 'L/XL', 'XL', 'XXL', 'XXXL', 'ONE SIZE']

function sortOptionValues(name: string, values: string[]): string[] {
  if (/^size$/i.test(name)) {
    const rank = (v: string) => {
      const i = SIZE_ORDER.indexOf(v.toUpperCase())
      return i === -1 ? SIZE_ORDER.length : i
    }
    return [...values].sort((a, b) => rank(a) - rank(b) || a.localeCompare(b, undefined, { numeric: true }) || byCodeUnit(a, b))
  }
  return [...values].sort((a, b) => a.localeCompare(b) || byCodeUnit(a, b))
}

/** The options a product is sold in, values in the order its variants list them. */
function optionsOf(productVariants: Pick<ProductVariant, 'options'>[]): ProductOption[] {
  const values = new Map<string, string[]>()
  for (const v of productVariants) {
    for (const [name, value] of Object.entries(v.options)) {
      const list = values.get(name) ?? []
      if (!list.includes(value)) list.push(value)
      values.set(name, list)
    }
  }
  return orderOptionNames([...values.keys()]).map((name) => ({
    name,
    values: /^size$/i.test(name) ? sortOptionValues(name, values.get(name)!) : values.get(name)!,
  }))
}

type SearchParamsInput = Record<string, string | string[] | undefined>

const RESERVED_PARAMS = new Set(['q', 'sort', 'page', 'collection', 'instock'])

/**
 * Turns a listing's query string into a ListingQuery, keeping only what the catalog knows
 * (a collection that exists, option values on sale, a known sort, a sane page number), so
 * nothing a visitor types reaches SQL unchecked and odd input gives the plain listing.
 */
export function parseListingParams(params: SearchParamsInput, known: Facets): ListingQuery & { sort: Sort; page: number } {
  const one = (key: string) => {
    const v = params[key]
    return (Array.isArray(v) ? v[0] : v)?.slice(0, 100)
  }
  const many = (key: string) => {
    const v = params[key]
    return (Array.isArray(v) ? v : v === undefined ? [] : [v]).slice(0, 20).flatMap((s) => s.slice(0, 200).split(','))
  }
  const rawSort = one('sort')
  const sort: Sort = (SORTS as readonly string[]).includes(rawSort ?? '') ? (rawSort as Sort) : 'featured'
  const pageNumber = Number(one('page'))
  const page = Number.isSafeInteger(pageNumber) && pageNumber >= 1 ? Math.min(pageNumber, 10_000) : 1
  const collectionSlug = one('collection')
  const collection = known.collections.some((c) => c.slug === collectionSlug) ? collectionSlug! : null
  const options: Record<string, string[]> = {}
  for (const option of known.options) {
    if (RESERVED_PARAMS.has(option.param)) continue
    const values = [...new Set(many(option.param))].filter((v) => option.values.includes(v))
    if (values.length > 0) options[option.name] = values
  }
  const instock = one('instock')
  return { collection, options, inStock: instock === '1' || instock === 'true' || instock === 'on', sort, page }
}

/** The query string for a listing, e.g. to link to page 2 with the same filters. */
export function listingHref(base: string, query: ListingQuery, known: Facets, changes: Partial<ListingQuery> = {}): string {
  const q = { ...query, ...changes }
  const params = new URLSearchParams()
  if (q.collection) params.set('collection', q.collection)
  for (const option of known.options) {
    for (const value of q.options?.[option.name] ?? []) params.append(option.param, value)
  }
  if (q.inStock) params.set('instock', '1')
  if (q.sort && q.sort !== 'featured') params.set('sort', q.sort)
  if (q.page && q.page > 1) params.set('page', String(q.page))
  const s = params.toString()
  return s ? `${base}?${s}` : base
}

const SLUG = /^[a-z0-9][a-z0-9-]{0,199}$/

export function isSlug(value: string): boolean {
  return SLUG.test(value)
}

/** Variant options as stored (JSON text), tolerating anything malformed as no options. */
export function parseOptions(raw: string | null): Record<string, string> {
  if (!raw) return {}
  try {
    const parsed: unknown = JSON.parse(raw)
    if (!parsed || typeof parsed !== 'object' || Array.isArray(parsed)) return {}
    return Object.fromEntries(Object.entries(parsed).filter((e): e is [string, string] => typeof e[1] === 'string'))
  } catch {
    return {}
  }
}

function clampInt(n: number, min: number, max: number): number {
  return Number.isFinite(n) ? Math.min(Math.max(Math.trunc(n), min), max) : min
}

// ---------------------------------------------------------------------------------------
// Caching. Tags name what an entry depends on; the functions below are what pages call.


// Seconds a cached entry that shows availability may live without a revalidation: holds
// expire by the clock, not by an event, so nothing would otherwise refresh them.
const STOCK_REVALIDATE_SECONDS = 60
const CATALOG_REVALIDATE_SECONDS = 3600

/**
 * Part of every cache key: the database the entry was read from. The data cache lives in
 * the build folder, and a new STORAGE_DIR (a test run, a restored backup on a new volume)
 * must not be served entries read from another database.
 */
function databaseKey(): string {
  const g = globalThis as unknown as { tillCatalogKey?: string }
  if (!g.tillCatalogKey) {
    const file = path.join(/*turbopackIgnore: true*/ getEnv().storageDir, STORE_FILE)
    let identity = file
    try {
      const stat = fs.statSync(file)
      identity = `${file}:${stat.ino}:${Math.trunc(stat.birthtimeMs || stat.ctimeMs)}`
    } catch {
      // no file yet: the path alone
    }
    g.tillCatalogKey = identity
  }
  return g.tillCatalogKey
}

function cachedRead<T>(name: string, args: (string | number)[], entryTags: string[], revalidate: number, load: () => T | Promise<T>): Promise<T> {
  // Never at build time: `next build` runs without a database (and must stay that way).
  if (isBuildPhase()) throw new Error(`catalog.${name}: the catalog cannot be read during next build`)
  return unstable_cache(async () => load(), ['catalog', name, databaseKey(), ...args.map(String)], { tags: entryTags, revalidate })()
}

export const cached = {
  product: (slug: string) => cachedRead(`product`, [slug], [tags.catalog, tags.product(slug)], CATALOG_REVALIDATE_SECONDS, () => getProduct(slug)),
  collection: (slug: string) =>
    cachedRead('collection', [slug], [tags.catalog, tags.stock, tags.collection(slug)], STOCK_REVALIDATE_SECONDS, async () => {
      const collection = await getCollection(slug)
      return collection ? { collection, listing: await listProducts({ collection: slug, perPage: MAX_PER_PAGE }) } : null
    }),
  productAvailability: (productId: number) =>
    cachedRead('availability', [productId], [tags.catalog, tags.stock], STOCK_REVALIDATE_SECONDS, () => productAvailability(productId)),
  collections: () => cachedRead('collections', [], [tags.catalog], CATALOG_REVALIDATE_SECONDS, () => listCollections()),
  home: () => cachedRead('home', [], [tags.catalog, tags.stock], STOCK_REVALIDATE_SECONDS, () => home()),
  facets: () => cachedRead('facets', [], [tags.catalog], CATALOG_REVALIDATE_SECONDS, () => facets()),
  sitemap: () => cachedRead('sitemap', [], [tags.catalog], CATALOG_REVALIDATE_SECONDS, () => sitemapEntries()),
}

/** Collections for the header and footer; none while `next build` renders the static 404. */
export async function navigation(): Promise<{ slug: string; title: string }[]> {
  if (isBuildPhase()) return []
  return (await cached.collections()).filter((c) => c.productCount > 0).map((c) => ({ slug: c.slug, title: c.title }))
}

// ---------------------------------------------------------------------------------------
// Pictures for orders: receipts show what was bought, even after the catalog moved on.

export type VariantPicture = catalogReads.VariantPictureRow

/** Each variant's own picture, else its product's first one; variants that no longer exist are left out. */
export function variantPictures(variantIds: readonly number[]): Promise<Map<number, VariantPicture>> {
  const ids = [...new Set(variantIds.filter((id) => Number.isSafeInteger(id)))]
  if (ids.length === 0) return Promise.resolve(new Map())
  return read(function* () {
    return new Map((yield* preparedAll(catalogReads.variantPictures, { ids })).map((r) => [r.variantId, r]))
  })
}
