import 'server-only'
import { asc, eq, inArray, sql } from 'drizzle-orm'
import { all, get, read, run, transaction, type Reader, type Steps, type Tables } from '@/db/tx'
import * as audit from './audit'
import { getEnv } from './env'
import { InvalidInput, NotFound } from './errors'
import * as inventory from './inventory'
import { decimalAmount, parseMoney } from './money'
import { DESCRIPTION_MAX, OPTIONS_FORMAT, PRODUCT_STATUSES, TITLE_MAX, optionsText, nextVersion, parseOptionsText, takingNamesTurn } from './products'
import type { VariantOptions } from '@/db/schema'

// The catalog as CSV, both ways: the export writes one row per variant; the import reads
// exactly that file back (SKU is the key of a variant, the slug of a product). An import is
// uploaded, previewed as a dry run (created, changed, unchanged, and every error by row and
// column), then applied in one immediate transaction that plans again from the database as
// it is then, so applying the same file twice changes nothing the second time. Stock moves
// through the stock ledger with the import as its reason. Pictures stay an admin upload.

export const COLUMNS = ['product_slug', 'product_title', 'description', 'status', 'featured', 'tax_code', 'collections', 'sku', 'variant_title', 'options', 'price', 'stock'] as const
type Column = (typeof COLUMNS)[number]

export const MAX_UPLOAD_BYTES = 8 * 1024 * 1024
const MAX_ROWS = 50_000

function csvCell(value: string | number): string {
  let s = String(value)
  // A cell a spreadsheet would run as a formula is neutralised (and read back without the quote).
  if (/^[=+\-@\t\r]/.test(s)) s = `'${s}`
  return /[",\n\r]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s
}

function uncell(s: string): string {
  return /^'[=+\-@\t\r]/.test(s) ? s.slice(1) : s
}

/**
 * The whole catalog as CSV lines, a batch of products at a time. Each batch is a read of its
 * own, so no statement or pooled connection stays open while the owner downloads.
 */
export async function* exportCsv(batchSize = 500): AsyncGenerator<string, void, unknown> {
  yield COLUMNS.join(',') + '\n'
  const currency = getEnv().currency
  const slugsOf = await read(function* (db, { productCollections, collections }) {
    const out = new Map<number, string[]>()
    for (const row of yield* all(
      db
        .select({ productId: productCollections.productId, slug: collections.slug })
        .from(productCollections)
        .innerJoin(collections, eq(collections.id, productCollections.collectionId))
        .orderBy(asc(collections.slug)),
    )) {
      out.set(row.productId, [...(out.get(row.productId) ?? []), row.slug])
    }
    return out
  })
  let after = 0
  for (;;) {
    const from = after
    const rows = await read(function* (db, { products, variants }) {
      return yield* all(
        db
          .select({ p: products, v: variants })
          .from(products)
          .innerJoin(variants, eq(variants.productId, products.id))
          .where(sql`${products.id} > ${from} AND ${products.id} IN (SELECT id FROM products WHERE id > ${from} ORDER BY id LIMIT ${batchSize})`)
          .orderBy(asc(products.id), asc(variants.position), asc(variants.id)),
      )
    })
    if (rows.length === 0) return
    yield rows
      .map(({ p, v }) =>
        [p.slug, p.title, p.description, p.status, p.isFeatured ? 1 : 0, p.taxCode ?? '', (slugsOf.get(p.id) ?? []).join(' '), v.sku, v.title, optionsText(v.options), decimalAmount(v.priceCents, currency), v.stock]
          .map(csvCell)
          .join(',') + '\n',
      )
      .join('')
    after = rows.at(-1)!.p.id
  }
}

/** RFC 4180: quoted cells may hold commas, quotes ("") and line breaks. Returns rows of cells. */
function parseCsv(text: string): string[][] {
  const rows: string[][] = []
  let row: string[] = []
  let cell = ''
  let quoted = false
  let i = text.charCodeAt(0) === 0xfeff ? 1 : 0
  for (; i < text.length; i++) {
    const c = text[i]!
    if (quoted) {
      if (c === '"' && text[i + 1] === '"') {
        cell += '"'
        i++
      } else if (c === '"') quoted = false
      else cell += c
    } else if (c === '"' && cell === '') quoted = true
    else if (c === ',') {
      row.push(cell)
      cell = ''
    } else if (c === '\n' || c === '\r') {
      if (c === '\r' && text[i + 1] === '\n') i++
      row.push(cell)
      rows.push(row)
      row = []
      cell = ''
    } else cell += c
  }
  if (cell !== '' || row.length > 0) {
    row.push(cell)
    rows.push(row)
  }
  return rows.filter((r) => !(r.length === 1 && r[0] === ''))
}

type RowError = { row: number; column: Column | null; message: string }
type Outcome = 'created' | 'changed' | 'unchanged'
export type Plan = {
  errors: RowError[]
  products: { created: number; changed: number; unchanged: number }
  variants: { created: number; changed: number; unchanged: number }
  /** The first rows with what happens to them, for the preview. */
  sample: { row: number; sku: string; product: string; outcome: Outcome; changes: string[] }[]
  rows: number
}

type ProductRow = { slug: string; title: string; description: string; status: (typeof PRODUCT_STATUSES)[number]; isFeatured: boolean; taxCode: string | null; collections: string[]; row: number }
type VariantRow = { sku: string; title: string; options: VariantOptions; priceCents: number; stock: number; productSlug: string; row: number }
type Parsed = { products: Map<string, ProductRow>; variants: VariantRow[]; errors: RowError[]; rows: number }

const SLUG = /^[a-z0-9]+(?:-[a-z0-9]+)*$/
const SKU = /^[A-Za-z0-9][A-Za-z0-9._-]*$/

/** Reads the file's rows into products and variants, with every error found by row and column. */
function parseFile(text: string, collectionSlugs: ReadonlySet<string>): Parsed {
  const all = parseCsv(text)
  const errors: RowError[] = []
  const out: Parsed = { products: new Map(), variants: [], errors, rows: Math.max(0, all.length - 1) }
  const header = (all[0] ?? []).map((h) => h.trim().toLowerCase())
  const missing = COLUMNS.filter((c) => !header.includes(c))
  const unknown = header.filter((h) => !(COLUMNS as readonly string[]).includes(h))
  if (all.length === 0 || missing.length > 0 || unknown.length > 0) {
    errors.push({ row: 1, column: null, message: `The first row must name the export's columns: ${COLUMNS.join(', ')}.${missing.length ? ` Missing: ${missing.join(', ')}.` : ''}${unknown.length ? ` Unknown: ${unknown.join(', ')}.` : ''}` })
    return out
  }
  if (all.length - 1 > MAX_ROWS) {
    errors.push({ row: 1, column: null, message: `The file has ${all.length - 1} rows; ${MAX_ROWS} at most per import.` })
    return out
  }
  const at = Object.fromEntries(COLUMNS.map((c) => [c, header.indexOf(c)])) as Record<Column, number>
  const currency = getEnv().currency
  const skuRow = new Map<string, number>()
  for (let r = 1; r < all.length; r++) {
    const cells = all[r]!
    const row = r + 1
    const get = (c: Column) => uncell((cells[at[c]] ?? '').trim())
    const bad = (column: Column, message: string) => errors.push({ row, column, message })
    const before = errors.length
    const slug = get('product_slug')
    if (!SLUG.test(slug) || slug.length > 60) bad('product_slug', `“${slug}” is not a product address: lower-case letters, digits and dashes.`)
    const title = get('product_title')
    if (!title || title.length > TITLE_MAX) bad('product_title', title ? `The title is too long (${TITLE_MAX} characters at most).` : 'The product needs a title.')
    const description = get('description')
    if (description.length > DESCRIPTION_MAX) bad('description', `The description is too long (${DESCRIPTION_MAX} characters at most).`)
    const status = get('status') as ProductRow['status']
    if (!PRODUCT_STATUSES.includes(status)) bad('status', `“${get('status')}” is not a status: active, draft or archived.`)
    const featured = get('featured')
    if (!['0', '1', ''].includes(featured)) bad('featured', `“${featured}” is not 0 or 1.`)
    const taxCode = get('tax_code') || null
    if (taxCode && !/^txcd_\d{8}$/.test(taxCode)) bad('tax_code', `“${taxCode}” is not a tax code like txcd_99999999.`)
    const slugs = get('collections').split(/\s+/).filter(Boolean)
    for (const s of slugs) if (!collectionSlugs.has(s)) bad('collections', `Unknown collection “${s}”: create it under Collections first.`)
    const sku = get('sku')
    if (!SKU.test(sku) || sku.length > 64) bad('sku', sku ? `“${sku}” is not a SKU: letters, digits, dots, dashes and underscores.` : 'Every row needs a SKU.')
    else if (skuRow.has(sku.toLowerCase())) bad('sku', `Duplicate SKU ${sku}: also on row ${skuRow.get(sku.toLowerCase())}.`)
    else skuRow.set(sku.toLowerCase(), row)
    const variantTitle = get('variant_title')
    if (variantTitle.length > TITLE_MAX) bad('variant_title', `The variant title is too long (${TITLE_MAX} characters at most).`)
    const options = parseOptionsText(get('options'))
    if (!options) bad('options', `Write options as ${OPTIONS_FORMAT}.`)
    const price = parseMoney(get('price'), currency, { what: `The price “${get('price').slice(0, 40)}”` })
    if (!price.ok) bad('price', price.message)
    const priceCents = price.ok ? price.cents : undefined
    const stockText = get('stock')
    const stock = /^\d{1,7}$/.test(stockText) ? Number(stockText) : NaN
    if (!Number.isSafeInteger(stock) || stock > 1_000_000) bad('stock', `Bad stock “${stockText}”: a whole number, zero or more.`)
    if (errors.length > before) continue
    const product: ProductRow = { slug, title, description, status, isFeatured: featured === '1', taxCode, collections: [...new Set(slugs)].sort(), row }
    const seen = out.products.get(slug)
    if (!seen) out.products.set(slug, product)
    else {
      for (const [column, same] of [
        ['product_title', seen.title === product.title],
        ['description', seen.description === product.description],
        ['status', seen.status === product.status],
        ['featured', seen.isFeatured === product.isFeatured],
        ['tax_code', seen.taxCode === product.taxCode],
        ['collections', seen.collections.join(' ') === product.collections.join(' ')],
      ] as const) {
        if (!same) bad(column, `Differs from row ${seen.row} for the same product ${slug}; a product's columns must match on each of its rows.`)
      }
    }
    out.variants.push({ sku, title: variantTitle || Object.values(options!).join(' / ') || 'Default', options: options!, priceCents: priceCents!, stock, productSlug: slug, row })
  }
  return out
}

type Current = {
  products: Map<string, { id: number; title: string; description: string; status: string; isFeatured: boolean; taxCode: string | null; collections: string[] }>
  variants: Map<string, { id: number; productId: number; sku: string; title: string; options: VariantOptions; priceCents: number; stock: number }>
  collectionIds: Map<string, number>
}

function* current(db: Reader, t: Tables): Steps<Current> {
  const collectionIds = new Map((yield* all(db.select({ id: t.collections.id, slug: t.collections.slug }).from(t.collections))).map((c) => [c.slug, c.id]))
  const slugById = new Map([...collectionIds].map(([slug, id]) => [id, slug]))
  const members = new Map<number, string[]>()
  for (const m of yield* all(db.select({ productId: t.productCollections.productId, collectionId: t.productCollections.collectionId }).from(t.productCollections))) {
    members.set(m.productId, [...(members.get(m.productId) ?? []), slugById.get(m.collectionId)!])
  }
  const productsBySlug = new Map(
    (yield* all(
      db
        .select({ id: t.products.id, slug: t.products.slug, title: t.products.title, description: t.products.description, status: t.products.status, isFeatured: t.products.isFeatured, taxCode: t.products.taxCode })
        .from(t.products),
    )).map((p) => [p.slug, { ...p, collections: (members.get(p.id) ?? []).sort() }]),
  )
  const variantsBySku = new Map(
    (yield* all(
      db
        .select({ id: t.variants.id, productId: t.variants.productId, sku: t.variants.sku, title: t.variants.title, options: t.variants.options, priceCents: t.variants.priceCents, stock: t.variants.stock })
        .from(t.variants),
    )).map((v) => [v.sku.toLowerCase(), v]),
  )
  return { products: productsBySlug, variants: variantsBySku, collectionIds }
}

function productChanges(next: ProductRow, now: Current['products'] extends Map<string, infer P> ? P : never): string[] {
  const out: string[] = []
  if (now.title !== next.title) out.push('title')
  if (now.description !== next.description) out.push('description')
  if (now.status !== next.status) out.push('status')
  if (now.isFeatured !== next.isFeatured) out.push('featured')
  if (now.taxCode !== next.taxCode) out.push('tax code')
  if (now.collections.join(' ') !== next.collections.join(' ')) out.push('collections')
  return out
}

function variantChanges(next: VariantRow, now: Current['variants'] extends Map<string, infer V> ? V : never): string[] {
  const out: string[] = []
  if (now.sku !== next.sku) out.push('SKU case')
  if (now.title !== next.title) out.push('variant title')
  if (optionsText(now.options) !== optionsText(next.options)) out.push('options')
  if (now.priceCents !== next.priceCents) out.push('price')
  if (now.stock !== next.stock) out.push('stock')
  return out
}

const SAMPLE = 200

// Rows per insert: 400 variants of 11 columns stay well under either engine's limit on parameters.
const BATCH = 400

/** The dry run: what applying `text` to the catalog as it is now would do, and every error. */
function planOf(parsed: Parsed, now: Current): Plan & { parsed: Parsed } {
  const errors = [...parsed.errors]
  const plan: Plan & { parsed: Parsed } = { errors, products: { created: 0, changed: 0, unchanged: 0 }, variants: { created: 0, changed: 0, unchanged: 0 }, sample: [], rows: parsed.rows, parsed }
  const productIdOf = new Map([...now.products].map(([slug, p]) => [p.id, slug]))
  for (const [slug, p] of parsed.products) {
    const existing = now.products.get(slug)
    if (!existing) plan.products.created++
    else if (productChanges(p, existing).length) plan.products.changed++
    else plan.products.unchanged++
  }
  for (const v of parsed.variants) {
    const existing = now.variants.get(v.sku.toLowerCase())
    if (existing && productIdOf.get(existing.productId) !== v.productSlug) {
      errors.push({ row: v.row, column: 'sku', message: `SKU ${v.sku} belongs to product ${productIdOf.get(existing.productId)}; a variant cannot move to another product by import.` })
      continue
    }
    const changes = existing ? variantChanges(v, existing) : []
    const outcome: Outcome = !existing ? 'created' : changes.length ? 'changed' : 'unchanged'
    plan.variants[outcome]++
    if (plan.sample.length < SAMPLE) plan.sample.push({ row: v.row, sku: v.sku, product: v.productSlug, outcome, changes })
  }
  errors.sort((a, b) => a.row - b.row)
  return plan
}

// ---------------------------------------------------------------------------------------
// Uploads: kept in the database between the preview and the apply

/** Stores an uploaded file and answers its id, for the preview page. */
export function upload(actor: audit.Actor, filename: string, text: string): Promise<number> {
  if (Buffer.byteLength(text) > MAX_UPLOAD_BYTES) return Promise.reject(new InvalidInput(`The file is too large: ${MAX_UPLOAD_BYTES / 1024 / 1024} MB at most.`))
  return transaction(function* (tx, { catalogImports }) {
    // uploads older than a day are of no more use
    yield* run(tx.delete(catalogImports).where(sql`${catalogImports.createdAt} < ${Date.now() - 24 * 3600 * 1000}`))
    return (yield* get(tx.insert(catalogImports).values({ adminUserId: actor.id, filename: filename.slice(0, 200), body: text, createdAt: Date.now() }).returning({ id: catalogImports.id })))!.id
  })
}

export function find(id: number) {
  return read(function* (db, { catalogImports }) {
    return (
      (yield* get(
        db
          .select({ id: catalogImports.id, filename: catalogImports.filename, createdAt: catalogImports.createdAt, appliedAt: catalogImports.appliedAt, result: catalogImports.result })
          .from(catalogImports)
          .where(eq(catalogImports.id, id)),
      )) ?? null
    )
  })
}

function* bodyOf(db: Reader, t: Tables, id: number): Steps<string> {
  const row = yield* get(db.select({ body: t.catalogImports.body }).from(t.catalogImports).where(eq(t.catalogImports.id, id)))
  if (!row) throw new NotFound('That import')
  return row.body
}

/** The dry run of an uploaded file against the catalog as it is now. */
export function preview(id: number): Promise<Plan> {
  return read(function* (db, t) {
    const now = yield* current(db, t)
    const { parsed: _parsed, ...plan } = planOf(parseFile(yield* bodyOf(db, t, id), new Set(now.collectionIds.keys())), now)
    return plan
  })
}

export type Applied = { products: Plan['products']; variants: Plan['variants']; stockMoves: number }

/**
 * Applies an uploaded file in one transaction, planned again inside it: refused whole when
 * any row has an error; rows already as the file says are left alone, so a second apply of
 * the same file writes nothing (not even an audit row). Applies take the catalog's turn for
 * SKUs and addresses (products.takingNamesTurn) before they read: two applies of one file at once,
 * on two app servers, run one after the other, and the second finds nothing left to do.
 */
export function apply(actor: audit.Actor, id: number): Promise<Applied> {
  return transaction(function* (tx, t) {
    yield* takingNamesTurn()
    const { products, variants, productCollections, catalogImports } = t
    const now = yield* current(tx, t)
    const plan = planOf(parseFile(yield* bodyOf(tx, t, id), new Set(now.collectionIds.keys())), now)
    if (plan.errors.length) throw new InvalidInput(`The file has ${plan.errors.length} ${plan.errors.length === 1 ? 'error' : 'errors'}; fix ${plan.errors.length === 1 ? 'it' : 'them'} and upload it again.`)
    const at = Date.now()
    const note = `import #${id}`
    const productIds = new Map<string, number>()
    // A new product is written as a draft and given its status once its variants and
    // collections are in: the search index (triggers) is then built once per product rather
    // than once per variant. New rows go in batches: one statement per row cost PostgreSQL a
    // round trip each (10,000 rows took 36 s, most of it waiting).
    const fresh = [...plan.parsed.products].filter(([slug]) => !now.products.has(slug))
    for (let i = 0; i < fresh.length; i += BATCH) {
      const rows = fresh.slice(i, i + BATCH).map(([slug, p]) => ({ slug, title: p.title, description: p.description, status: 'draft' as const, isFeatured: p.isFeatured, taxCode: p.taxCode, createdAt: at, updatedAt: at }))
      for (const r of yield* all(tx.insert(products).values(rows).returning({ id: products.id, slug: products.slug }))) productIds.set(r.slug, r.id)
    }
    const memberships: { productId: number; collectionId: number; position: number }[] = []
    const regrouped: number[] = []
    for (const [slug, p] of plan.parsed.products) {
      const existing = now.products.get(slug)
      if (existing) {
        productIds.set(slug, existing.id)
        // moves the product's version on (products.update), so a form drawn before is stale
        const fields = { title: p.title, description: p.description, status: p.status, isFeatured: p.isFeatured, taxCode: p.taxCode }
        if (productChanges(p, existing).length) yield* run(tx.update(products).set({ ...fields, updatedAt: nextVersion(t, at) }).where(eq(products.id, existing.id)))
        if (existing.collections.join(' ') === p.collections.join(' ')) continue
        regrouped.push(existing.id)
      }
      const productId = productIds.get(slug)!
      for (const [position, s] of p.collections.entries()) memberships.push({ productId, collectionId: now.collectionIds.get(s)!, position })
    }
    for (let i = 0; i < regrouped.length; i += BATCH) yield* run(tx.delete(productCollections).where(inArray(productCollections.productId, regrouped.slice(i, i + BATCH))))
    for (let i = 0; i < memberships.length; i += BATCH) yield* run(tx.insert(productCollections).values(memberships.slice(i, i + BATCH)))
    const stockMoved: number[] = []
    const position = new Map<string, number>()
    const freshVariants: (typeof variants.$inferInsert)[] = []
    for (const v of plan.parsed.variants) {
      const existing = now.variants.get(v.sku.toLowerCase())
      const productId = productIds.get(v.productSlug)!
      const next = position.get(v.productSlug) ?? 0
      position.set(v.productSlug, next + 1)
      if (!existing) {
        freshVariants.push({ productId, sku: v.sku, title: v.title, options: v.options, priceCents: v.priceCents, currency: getEnv().currency, stock: v.stock, position: next, createdAt: at, updatedAt: at })
        continue
      }
      const changes = variantChanges(v, existing)
      if (changes.some((c) => c !== 'stock')) yield* run(tx.update(variants).set({ sku: v.sku, title: v.title, options: v.options, priceCents: v.priceCents, updatedAt: at }).where(eq(variants.id, existing.id)))
      if (changes.includes('stock')) {
        yield* inventory.settingFromImport(tx, t, { variantId: existing.id, from: existing.stock, to: v.stock, note, adminUserId: actor.id })
        stockMoved.push(existing.id)
      }
    }
    // new variants in batches, their opening stock in the ledger as the import's
    for (let i = 0; i < freshVariants.length; i += BATCH) {
      const batch = freshVariants.slice(i, i + BATCH)
      const ids = new Map((yield* all(tx.insert(variants).values(batch).returning({ id: variants.id, sku: variants.sku }))).map((r) => [r.sku, r.id]))
      const opened = batch.map((v) => ({ variantId: ids.get(v.sku)!, stock: v.stock ?? 0 }))
      yield* inventory.recordingImported(tx, t, opened, note, actor.id)
      for (const o of opened) if (o.stock > 0) stockMoved.push(o.variantId)
    }
    for (const status of ['active', 'archived'] as const) {
      const ids = fresh.filter(([, p]) => p.status === status).map(([slug]) => productIds.get(slug)!)
      for (let i = 0; i < ids.length; i += BATCH) yield* run(tx.update(products).set({ status }).where(inArray(products.id, ids.slice(i, i + BATCH))))
    }
    const result: Applied = { products: plan.products, variants: plan.variants, stockMoves: stockMoved.length }
    yield* run(tx.update(catalogImports).set({ appliedAt: at, result }).where(eq(catalogImports.id, id)))
    const touched = plan.products.created + plan.products.changed + plan.variants.created + plan.variants.changed
    if (touched > 0) {
      yield* audit.recording(tx, t, actor, 'catalog.import', `import:${id}`, null, result)
      // One mark for the whole catalog rather than one per variant: an import touches many.
      yield* inventory.announcingImported(tx, t)
    }
    return result
  })
}
