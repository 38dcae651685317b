import { availableSqlText, unheldSqlText } from './stock-rules'
import type { Statement } from './tx'

// The shop's catalog reads whose SQL differs by engine (docs/decisions/047-generator-
// transactions.md): each a prepared statement (db/tx.ts's preparedAll/preparedGet) with
// SQLite's and PostgreSQL's text side by side and one row shape. They are the hot read path
// of the anonymous pages (decision 001): prepared once per connection, a call only binds.
// Column aliases are double-quoted, which both engines read as the name as written
// (PostgreSQL would fold an unquoted "createdAt" to lower case).

/**
 * Units of variant `v` that can be sold at `now` (a placeholder): stock less its live holds,
 * never below 0. The rule is db/stock-rules.ts's: SQLite's text as it is, PostgreSQL's with
 * greatest() for SQLite's two-argument max().
 */
export const available = {
  sqlite: (now: string) => availableSqlText({ alias: 'v', now }),
  postgres: (now: string) => `greatest(${unheldSqlText({ alias: 'v', now })}, 0)`,
}

/** A product's first picture and its text (the title when the picture has none): the same SQL on both. */
const FIRST_IMAGE = `(SELECT i.path FROM product_images i WHERE i.product_id = p.id ORDER BY i.position, i.id LIMIT 1)`
const FIRST_IMAGE_ALT = `coalesce(nullif((SELECT i.alt FROM product_images i WHERE i.product_id = p.id ORDER BY i.position, i.id LIMIT 1), ''), p.title)`

/** A product card (lib/catalog.ts's ProductCard), as the card columns below read it. */
export type CardRow = {
  id: number
  slug: string
  title: string
  minPriceCents: number
  maxPriceCents: number
  currency: string
  imagePath: string | null
  imageAlt: string
  isSoldOut: boolean
  isFeatured: boolean
  createdAt: number
}

/**
 * The card's columns over `p` (products) and `g` (its variants grouped: min_price, max_price,
 * currency, available), the same text on both engines; the listing filtered by an option
 * passes the matching variant's picture.
 */
function cardColumns(image = FIRST_IMAGE, imageAlt = FIRST_IMAGE_ALT): string {
  return `p.id, p.slug, p.title, p.created_at AS "createdAt", p.is_featured AS "isFeatured",
  g.min_price AS "minPriceCents", g.max_price AS "maxPriceCents", g.currency,
  ${image} AS "imagePath", ${imageAlt} AS "imageAlt", (g.available = 0) AS "isSoldOut"`
}

export const CARD_COLUMNS = cardColumns()

/** A card from CARD_COLUMNS' row: PostgreSQL's bigint as text and booleans, SQLite's numbers and 0/1. */
export function cardOf(raw: Record<string, unknown>): CardRow {
  return {
    id: Number(raw.id),
    slug: raw.slug as string,
    title: raw.title as string,
    minPriceCents: Number(raw.minPriceCents),
    maxPriceCents: Number(raw.maxPriceCents),
    currency: raw.currency as string,
    imagePath: (raw.imagePath as string | null) ?? null,
    imageAlt: raw.imageAlt as string,
    isSoldOut: Number(raw.isSoldOut) === 1,
    isFeatured: Number(raw.isFeatured) === 1,
    createdAt: Number(raw.createdAt),
  }
}

/** One of GET /api/products' rows: an active product and one of its variants (null when it has none). */
export type ApiRow = {
  productId: number
  slug: string
  title: string
  variant: { id: number; sku: string; title: string; priceCents: number; currency: string; available: number } | null
}

const apiRow = (raw: Record<string, unknown>): ApiRow => ({
  productId: Number(raw.productId),
  slug: raw.slug as string,
  title: raw.title as string,
  variant:
    raw.variantId === null
      ? null
      : { id: Number(raw.variantId), sku: raw.sku as string, title: raw.variantTitle as string, priceCents: Number(raw.priceCents), currency: raw.currency as string, available: Number(raw.available) },
})

const apiText = (availableNow: string) => `
  SELECT p.id AS "productId", p.slug, p.title, v.id AS "variantId", v.sku, v.title AS "variantTitle",
    v.price_cents AS "priceCents", v.currency, CASE WHEN v.id IS NULL THEN NULL ELSE ${availableNow} END AS available
  FROM products p LEFT JOIN variants v ON v.product_id = p.id
  WHERE p.status = 'active'
  ORDER BY p.id, v.position, v.id`

/** Every active product with its variants in order and what each can sell at `now`: GET /api/products. */
export const apiProducts: Statement<{ now: number }, ApiRow> = {
  name: 'catalog.apiProducts',
  sqlite: { text: apiText(available.sqlite('@now')), values: ({ now }) => ({ now: Math.trunc(now) }), row: apiRow },
  postgres: { text: apiText(available.postgres('$1')), values: ({ now }) => [Math.trunc(now)], row: apiRow },
}

/** A collection as the shop lists it. */
export type CollectionRow = {
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

const collectionRow = (raw: Record<string, unknown>): CollectionRow => ({
  id: Number(raw.id),
  slug: raw.slug as string,
  title: raw.title as string,
  description: raw.description as string,
  isFeatured: Number(raw.isFeatured) === 1,
  productCount: Number(raw.productCount),
  imagePath: (raw.imagePath as string | null) ?? null,
  imageAlt: raw.imageAlt as string,
  updatedAt: Number(raw.updatedAt),
})

// Ties in the picture's order (two products at one position, or pictures at one position)
// are broken by id, so both engines show the same picture.
const COLLECTIONS_TEXT = `
  SELECT c.id, c.slug, c.title, c.description, c.is_featured AS "isFeatured", c.updated_at AS "updatedAt",
    (SELECT count(*) FROM product_collections pc JOIN products p ON p.id = pc.product_id AND p.status = 'active' WHERE pc.collection_id = c.id) AS "productCount",
    (SELECT i.path FROM product_collections pc JOIN products p ON p.id = pc.product_id AND p.status = 'active'
       JOIN product_images i ON i.product_id = p.id WHERE pc.collection_id = c.id ORDER BY pc.position, p.id, i.position, i.id LIMIT 1) AS "imagePath",
    c.title AS "imageAlt"
  FROM collections c ORDER BY c.position, c.id`

const noValues = (): unknown[] => []

/** Every collection in the shop's order, with its count of active products and a picture. */
export const collections: Statement<void, CollectionRow> = {
  name: 'catalog.collections',
  sqlite: { text: COLLECTIONS_TEXT, values: noValues, row: collectionRow },
  postgres: { text: COLLECTIONS_TEXT, values: noValues, row: collectionRow },
}

/** What a search page asks either engine (db/search.ts): the words, every one or any, how many, at what time. */
export type SearchParams = { terms: string[]; join: 'AND' | 'OR'; limit: number; now: number }

/** A match on the page: its card (null when it has no variants to sell), its marked title and snippet. */
export type SearchRow = { id: number; total: number; card: CardRow | null; titleMarked: string; snippetMarked: string }

/** A row of either engine's page: its card when it has one. */
export function searchRow(raw: Record<string, unknown>, titleMarked: string, snippetMarked: string): SearchRow {
  return { id: Number(raw.matchId), total: Number(raw.total), card: Number(raw.hasCard) === 1 ? cardOf(raw) : null, titleMarked, snippetMarked }
}


/** What each variant of a product can sell at `now`: the one live read of a product page. */
export const productAvailability: Statement<{ productId: number; now: number }, { id: number; available: number }> = {
  name: 'catalog.productAvailability',
  sqlite: {
    text: `SELECT v.id, ${available.sqlite('@now')} AS available FROM variants v WHERE v.product_id = @productId`,
    values: ({ productId, now }) => ({ productId, now: Math.trunc(now) }),
    row: (raw) => ({ id: Number(raw.id), available: Number(raw.available) }),
  },
  postgres: {
    text: `SELECT v.id, ${available.postgres('$2')} AS available FROM variants v WHERE v.product_id = $1`,
    values: ({ productId, now }) => [productId, Math.trunc(now)],
    row: (raw) => ({ id: Number(raw.id), available: Number(raw.available) }),
  },
}

/** The same text on both engines, PostgreSQL's placeholders numbered, SQLite's as `?` in the same order. */
function both<P, R>(name: string, postgresText: string, values: (params: P) => unknown[], row: (raw: Record<string, unknown>) => R): Statement<P, R> {
  return { name, sqlite: { text: postgresText.replace(/\$\d+/g, '?'), values, row }, postgres: { text: postgresText, values, row } }
}

export type ProductRow = { id: number; slug: string; title: string; description: string; createdAt: number; updatedAt: number }

/** An active product by its slug. */
export const productBySlug = both<{ slug: string }, ProductRow>(
  'catalog.productBySlug',
  `SELECT id, slug, title, description, created_at AS "createdAt", updated_at AS "updatedAt" FROM products WHERE slug = $1 AND status = 'active'`,
  ({ slug }) => [slug],
  (raw) => ({ id: Number(raw.id), slug: raw.slug as string, title: raw.title as string, description: raw.description as string, createdAt: Number(raw.createdAt), updatedAt: Number(raw.updatedAt) }),
)

export type ImageRow = { id: number; path: string; alt: string; width: number; height: number }

/** A product's pictures in order, each with its text or the product's title. */
export const productImages = both<{ productId: number; title: string }, ImageRow>(
  'catalog.productImages',
  `SELECT id, path, coalesce(nullif(alt, ''), $1) AS alt, width, height FROM product_images WHERE product_id = $2 ORDER BY position, id`,
  ({ productId, title }) => [title, productId],
  (raw) => ({ id: Number(raw.id), path: raw.path as string, alt: raw.alt as string, width: Number(raw.width), height: Number(raw.height) }),
)

/** A variant as the product page reads it; `options` as JSON text (SQLite's text, PostgreSQL's json written back). */
export type VariantRow = { id: number; sku: string; title: string; priceCents: number; currency: string; options: string; imageId: number | null }

/** A product's variants in order. */
export const productVariants = both<{ productId: number }, VariantRow>(
  'catalog.productVariants',
  `SELECT id, sku, title, price_cents AS "priceCents", currency, options, image_id AS "imageId" FROM variants WHERE product_id = $1 ORDER BY position, id`,
  ({ productId }) => [productId],
  (raw) => ({
    id: Number(raw.id),
    sku: raw.sku as string,
    title: raw.title as string,
    priceCents: Number(raw.priceCents),
    currency: raw.currency as string,
    options: typeof raw.options === 'string' ? raw.options : JSON.stringify(raw.options ?? {}),
    imageId: raw.imageId === null ? null : Number(raw.imageId),
  }),
)

/** The collections a product is in, in the shop's order. */
export const productCollections = both<{ productId: number }, { slug: string; title: string }>(
  'catalog.productCollections',
  `SELECT c.slug, c.title FROM product_collections pc JOIN collections c ON c.id = pc.collection_id WHERE pc.product_id = $1 ORDER BY c.position, c.id`,
  ({ productId }) => [productId],
  (raw) => ({ slug: raw.slug as string, title: raw.title as string }),
)

const slugAndUpdated = (raw: Record<string, unknown>) => ({ slug: raw.slug as string, updatedAt: Number(raw.updatedAt) })

/** The sitemap's active products, by id. */
export const sitemapProducts = both<void, { slug: string; updatedAt: number }>(
  'catalog.sitemapProducts',
  `SELECT slug, updated_at AS "updatedAt" FROM products WHERE status = 'active' ORDER BY id`,
  () => [],
  slugAndUpdated,
)

/** The sitemap's collections that show at least one active product, in the shop's order. */
export const sitemapCollections = both<void, { slug: string; updatedAt: number }>(
  'catalog.sitemapCollections',
  `SELECT c.slug, c.updated_at AS "updatedAt" FROM collections c
   WHERE EXISTS (SELECT 1 FROM product_collections pc JOIN products p ON p.id = pc.product_id AND p.status = 'active' WHERE pc.collection_id = c.id)
   ORDER BY c.position, c.id`,
  () => [],
  slugAndUpdated,
)

// ---------------------------------------------------------------------------------------
// The listing (/products, a collection's products, the home page's rows, a product page's
// related products), its facets and the order pages' pictures.

export const LISTING_SORTS = ['featured', 'newest', 'price-asc', 'price-desc', 'name'] as const
type ListingSort = (typeof LISTING_SORTS)[number]

/** What picks a listing's statement: each shape is one text per engine, prepared once. */
export type ListingShape = { sort: ListingSort; isInCollection: boolean; isInStock: boolean; optionCount: number }

/**
 * A listing's parameters. `options` are matched on one variant, each name against any of its
 * values; `optionCount` of the shape says how many there are.
 */
export type ListingParams = { now: number; collection: string | null; options: { name: string; values: string[] }[]; limit: number; offset: number }

/** A card of the page, with how many products the whole listing has. */
export type ListingRow = { total: number; card: CardRow }

type Engine = 'sqlite' | 'postgres'

/**
 * Names a statement's parameters in the order its text uses them: SQLite's `@name`, bound from
 * an object, or PostgreSQL's `$1`, bound from an array.
 */
function placeholders(engine: Engine) {
  const names: string[] = []
  return {
    at(name: string): string {
      let i = names.indexOf(name)
      if (i === -1) i = names.push(name) - 1
      return engine === 'sqlite' ? `@${name}` : `$${i + 1}`
    },
    values(flat: Record<string, unknown>): Record<string, unknown> | unknown[] {
      return engine === 'sqlite' ? Object.fromEntries(names.map((n) => [n, flat[n]])) : names.map((n) => flat[n])
    },
  }
}

/**
 * A variant's option `name` (a parameter) is one of `values` (a parameter): SQLite's
 * json_extract and a JSON array, PostgreSQL's `->>` and a text array. Only a string value
 * matches on either (SQLite's json_extract gives a JSON number as a number, which no text
 * equals).
 */
const optionMatches = {
  sqlite: (name: string, values: string) => `json_extract(v.options, ${name}) IN (SELECT value FROM json_each(${values}))`,
  postgres: (name: string, values: string) => `(json_typeof(v.options -> ${name}::text) = 'string' AND (v.options ->> ${name}::text) = ANY(${values}::text[]))`,
}

/**
 * A title's order under SQLite's NOCASE, which folds A-Z alone and compares the bytes: on
 * PostgreSQL the same ASCII fold (translate(), never lower(), which folds É to é under a UTF-8
 * locale) compared byte by byte (COLLATE "C"), whatever the database's locale. So beyond ASCII
 * both engines order titles by code point, accented capitals before accented small letters
 * and every accented letter after z: not a dictionary's order, but SQLite's, and one order on
 * both engines, so they page alike.
 */
const titleOrder = {
  sqlite: 'p.title COLLATE NOCASE',
  postgres: `translate(p.title, 'ABCDEFGHIJKLMNOPQRSTUVWXYZ', 'abcdefghijklmnopqrstuvwxyz') COLLATE "C"`,
}

// Every order ends with the id, so products that tie page alike on both engines.
function listingOrder(engine: Engine, { sort, isInCollection }: ListingShape): string {
  const title = titleOrder[engine]
  return {
    featured: isInCollection ? 'pc.position ASC, p.created_at DESC' : 'p.is_featured DESC, p.created_at DESC',
    newest: 'p.created_at DESC',
    'price-asc': `g.min_price ASC, ${title} ASC`,
    'price-desc': `g.min_price DESC, ${title} ASC`,
    name: `${title} ASC`,
  }[sort]
}

function listingSide(engine: Engine, shape: ListingShape) {
  const p = placeholders(engine)
  const filters = Array.from({ length: shape.optionCount }, (_, i) => optionMatches[engine](p.at(`option${i}`), p.at(`values${i}`)))
  const hasFilter = filters.length > 0
  const collectionJoin = shape.isInCollection ? `JOIN product_collections pc ON pc.product_id = p.id AND pc.collection_id = (SELECT id FROM collections WHERE slug = ${p.at('collection')})` : ''
  // With an option filter, the picture is the first matching variant's (its colour).
  const image = hasFilter ? `coalesce((SELECT i.path FROM eligible e JOIN product_images i ON i.id = e.image_id WHERE e.product_id = p.id ORDER BY e.position, e.id LIMIT 1), ${FIRST_IMAGE})` : FIRST_IMAGE
  const imageAlt = hasFilter
    ? `coalesce((SELECT nullif(i.alt, '') FROM eligible e JOIN product_images i ON i.id = e.image_id WHERE e.product_id = p.id ORDER BY e.position, e.id LIMIT 1), ${FIRST_IMAGE_ALT})`
    : FIRST_IMAGE_ALT
  const text = `
    WITH matched AS (
      SELECT v.product_id, v.id, v.price_cents, v.currency, v.image_id, v.position, ${available[engine](p.at('now'))} AS available
      FROM variants v JOIN products p ON p.id = v.product_id AND p.status = 'active'
      ${hasFilter ? `WHERE ${filters.join(' AND ')}` : ''}
    ), eligible AS (
      SELECT * FROM matched ${shape.isInStock ? 'WHERE available > 0' : ''}
    ), grouped AS (
      SELECT product_id, min(price_cents) AS min_price, max(price_cents) AS max_price, min(currency) AS currency, sum(available) AS available
      FROM eligible GROUP BY product_id
    )
    SELECT ${cardColumns(image, imageAlt)}, count(*) OVER () AS total
    FROM grouped g JOIN products p ON p.id = g.product_id ${collectionJoin}
    ORDER BY ${listingOrder(engine, shape)}, p.id ASC
    LIMIT ${p.at('limit')} OFFSET ${p.at('offset')}`
  return {
    text,
    values: (params: ListingParams) => {
      const flat: Record<string, unknown> = { now: Math.trunc(params.now), collection: params.collection, limit: params.limit, offset: params.offset }
      params.options.forEach((option, i) => {
        // SQLite's path quotes the name, and cannot quote a quote: the name is the same, less " and \, on both engines
        const name = option.name.replace(/["\\]/g, '')
        flat[`option${i}`] = engine === 'sqlite' ? `$."${name}"` : name
        flat[`values${i}`] = engine === 'sqlite' ? JSON.stringify(option.values) : option.values
      })
      return p.values(flat)
    },
    row: (raw: Record<string, unknown>): ListingRow => ({ total: Number(raw.total), card: cardOf(raw) }),
  }
}

const listingStatements = new Map<string, Statement<ListingParams, ListingRow>>()

/** The statement of a listing's shape: one page of active products' cards, each row with the listing's total. */
export function listing(shape: ListingShape): Statement<ListingParams, ListingRow> {
  const name = `catalog.listing.${shape.sort}.${shape.isInCollection ? 'c' : '-'}${shape.isInStock ? 's' : '-'}${shape.optionCount}`
  let statement = listingStatements.get(name)
  if (!statement) listingStatements.set(name, (statement = { name, sqlite: listingSide('sqlite', shape), postgres: listingSide('postgres', shape) }))
  return statement
}

/** The collections that show at least one active product, in the shop's order: the listing's filter. */
export const facetCollections = both<void, { slug: string; title: string }>(
  'catalog.facetCollections',
  `SELECT c.slug, c.title FROM collections c
   WHERE EXISTS (SELECT 1 FROM product_collections pc JOIN products p ON p.id = pc.product_id AND p.status = 'active' WHERE pc.collection_id = c.id)
   ORDER BY c.position, c.id`,
  () => [],
  (raw) => ({ slug: raw.slug as string, title: raw.title as string }),
)

const optionPair = (raw: Record<string, unknown>) => ({ name: raw.name as string, value: raw.value as string })

/**
 * Every option name and text value of an active product's variants, once, in no order: the
 * domain sorts them for shoppers, with ties broken by code point, so the engines' row orders
 * do not show.
 */
export const optionValues: Statement<void, { name: string; value: string }> = {
  name: 'catalog.optionValues',
  sqlite: {
    text: `SELECT DISTINCT j.key AS name, j.value AS value
      FROM variants v JOIN products p ON p.id = v.product_id AND p.status = 'active', json_each(v.options) j
      WHERE j.type = 'text'`,
    values: noValues,
    row: optionPair,
  },
  postgres: {
    text: `SELECT DISTINCT j.key AS name, j.value #>> '{}' AS value
      FROM variants v JOIN products p ON p.id = v.product_id AND p.status = 'active' CROSS JOIN LATERAL json_each(v.options) j
      WHERE json_typeof(j.value) = 'string'`,
    values: noValues,
    row: optionPair,
  },
}

export type VariantPictureRow = { variantId: number; productSlug: string; path: string | null }

const variantPicturesText = (ids: string) => `
  SELECT v.id AS "variantId", p.slug AS "productSlug",
    coalesce(
      (SELECT i.path FROM product_images i WHERE i.id = v.image_id AND i.product_id = v.product_id),
      (SELECT i.path FROM product_images i WHERE i.product_id = v.product_id ORDER BY i.position, i.id LIMIT 1)
    ) AS path
  FROM variants v JOIN products p ON p.id = v.product_id
  WHERE ${ids}`

const variantPictureRow = (raw: Record<string, unknown>): VariantPictureRow => ({ variantId: Number(raw.variantId), productSlug: raw.productSlug as string, path: (raw.path as string | null) ?? null })

/** Each variant's own picture, else its product's first: the ids as one JSON array (SQLite) or array (PostgreSQL). */
export const variantPictures: Statement<{ ids: number[] }, VariantPictureRow> = {
  name: 'catalog.variantPictures',
  sqlite: { text: variantPicturesText('v.id IN (SELECT value FROM json_each(@ids))'), values: ({ ids }) => ({ ids: JSON.stringify(ids) }), row: variantPictureRow },
  postgres: { text: variantPicturesText('v.id = ANY($1::bigint[])'), values: ({ ids }) => [ids], row: variantPictureRow },
}
