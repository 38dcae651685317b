import 'server-only'
import crypto from 'node:crypto'
import { and, eq, lt, sql } from 'drizzle-orm'
import { cookies } from 'next/headers'
import { z } from 'zod'
import { unheldSqlText } from '@/db/stock-rules'
import { get, preparedAll, preparedGet, read, run, serialize, sqlGet, sqlRun, transaction, type Reader, type Statement, type Steps, type Tables, type Writer } from '@/db/tx'
import { getEnv } from './env'
import { itemLabel, parseOptions } from './catalog'
import { CheckoutOpen, InvalidInput, NotFound, OutOfStock } from './errors'
import * as inventory from './inventory'

// The cart lives in the database (`carts`, `cart_lines`), found by a random 32-byte id that
// is also the value of an httpOnly cookie. Every change is one transaction that bumps
// `carts.version` (checkout keys its idempotency on it; a form that names the version it was
// drawn from is refused once the cart moved on). Quantities are bounded by what can be sold
// right now (inventory: stock minus active holds), checked in the same SQL statement that
// writes, so two tabs cannot talk the cart past the shelf.
//
// The bodies run on either engine (db/tx.ts, decision 047). Changes of one cart take turns
// (serialize): on PostgreSQL, under READ COMMITTED with several app servers, a change reads
// the cart's status, version and open checkouts before it writes, and two servers would
// otherwise both pass a version check that only one may pass. On SQLite BEGIN IMMEDIATE
// already runs one writer at a time.

export const COOKIE_NAME = 'till_cart'
/** Stripe Checkout takes at most 100 line items per session. */
export const MAX_LINES = 100
const IDLE_DAYS = 30
const COOKIE_MAX_AGE_SECONDS = 60 * 24 * 60 * 60
const ID_PATTERN = /^[A-Za-z0-9_-]{32,64}$/

type CartStatus = 'open' | 'checking_out' | 'converted'
type LineProblem = 'unavailable' | 'sold_out' | 'short'

export type CartLine = {
  variantId: number
  productId: number
  productSlug: string
  productTitle: string
  variantTitle: string
  /** product and variant in one name, as it appears everywhere an item is named */
  label: string
  sku: string
  options: Record<string, string>
  quantity: number
  priceCents: number
  currency: string
  /** units that can be sold now; 0 when the product is no longer on sale */
  available: number
  imagePath: string | null
  imageAlt: string
  lineTotalCents: number
  /** what changed since the line was added: gone from the shop, sold out, or fewer left */
  problem: LineProblem | null
}

export type CartView = {
  id: string
  version: number
  status: CartStatus
  lines: CartLine[]
  subtotalCents: number
  currency: string
  itemCount: number
  hasProblems: boolean
}

// ---------------------------------------------------------------------------------------
// Input. Forms arrive as strings; anything odd becomes a clear message, never a 500.

const variantId = z
  .union([z.string(), z.number()])
  .transform((v) => String(v).trim())
  .pipe(z.string().regex(/^[1-9]\d{0,9}$/, 'That product option does not exist.'))
  .transform(Number)
  .pipe(z.number().max(Number.MAX_SAFE_INTEGER, 'That product option does not exist.'))

const quantity = (min: 0 | 1) =>
  z
    .union([z.string(), z.number()])
    .transform((v) => String(v).trim())
    .pipe(z.string().regex(/^[+-]?\d+$/, 'Quantity must be a whole number.'))
    .transform(Number)
    .pipe(
      z
        .number()
        .min(min, min === 1 ? 'Quantity must be at least 1.' : 'Quantity cannot be negative.')
        .superRefine((n, ctx) => {
          if (n > maxUnitsPerItem()) ctx.addIssue({ code: 'custom', message: tooMany() })
        }),
    )

export const AddInput = z.object({ variantId, quantity: quantity(1).default(1) })
export const SetQuantityInput = z.object({ variantId, quantity: quantity(0) })
export const RemoveInput = z.object({ variantId })

/**
 * The most units of one variant a cart may hold (CART_MAX_UNITS_PER_ITEM): a bound on what
 * one shopper can hold back from everyone else during checkout.
 */
function maxUnitsPerItem(): number {
  return getEnv().cartMaxUnitsPerItem
}

const tooMany = () => `You can have at most ${maxUnitsPerItem()} of one item.`

export type ParseResult<T> = { ok: true; data: T } | { ok: false; message: string }

/** Parses form fields with one of the schemas above; the message is the first problem. */
export function parseInput<T>(schema: z.ZodType<T>, input: FormData | Record<string, unknown>): ParseResult<T> {
  const raw: Record<string, unknown> = {}
  const entries = input instanceof FormData ? [...input.entries()] : Object.entries(input)
  for (const [key, value] of entries) {
    if (key === 'variantId' || key === 'quantity') raw[key] = typeof value === 'string' ? value.slice(0, 40) : value
  }
  const parsed = schema.safeParse(raw)
  if (parsed.success) return { ok: true, data: parsed.data }
  const issue = parsed.error.issues[0]
  const missing = issue?.code === 'invalid_union' || issue?.code === 'invalid_type'
  if (missing) return { ok: false, message: issue?.path[0] === 'quantity' ? 'Quantity must be a whole number.' : 'That product option does not exist.' }
  return { ok: false, message: issue?.message ?? 'That request did not make sense.' }
}

// ---------------------------------------------------------------------------------------
// The cookie.

export function newCartId(): string {
  return crypto.randomBytes(32).toString('base64url')
}

export function isCartId(value: unknown): value is string {
  return typeof value === 'string' && ID_PATTERN.test(value)
}

/** The visitor's cart id from the cookie (not checked against the database), or null. */
export async function getCartId(): Promise<string | null> {
  const value = (await cookies()).get(COOKIE_NAME)?.value
  return isCartId(value) ? value : null
}

/**
 * The visitor's cart, created (and the cookie set) when there is none or the old one was
 * checked out. Only for server actions and route handlers: it may set a cookie.
 */
export async function ensureCartId(now = Date.now()): Promise<string> {
  const existing = await getCartId()
  if (existing && (await isOpen(existing))) return existing
  const id = await create(now)
  const env = getEnv()
  ;(await cookies()).set(COOKIE_NAME, id, {
    httpOnly: true,
    sameSite: 'lax',
    // Secure wherever the shop is served over HTTPS (always, in a real deployment); a
    // production build run on http://127.0.0.1 for tests keeps a cookie it can send back.
    secure: env.isProduction && env.appUrl.startsWith('https://'),
    path: '/',
    maxAge: COOKIE_MAX_AGE_SECONDS,
  })
  return id
}

// ---------------------------------------------------------------------------------------
// Reads. These run on every cart view and every page's cart count, so they are prepared
// steps: parsed once per connection, then only bound (building a drizzle query costs more
// than the SQLite work). One text per engine differs only in its placeholders and in
// PostgreSQL's json options read as text; "available" is unheldSqlText, floored at zero here
// rather than with SQLite's two-argument max(), which PostgreSQL does not have.

type CartRow = { id: string; version: number; status: CartStatus }

const linesText = (cartId: string, now: string, options: string) => `
  SELECT cl.variant_id AS "variantId", cl.quantity, v.product_id AS "productId", p.slug AS "productSlug", p.title AS "productTitle",
    v.title AS "variantTitle", v.sku, ${options} AS options, v.price_cents AS "priceCents", v.currency, p.status AS "productStatus",
    ${unheldSqlText({ now, exceptCart: cartId })} AS unheld,
    coalesce((SELECT i.path FROM product_images i WHERE i.id = v.image_id),
      (SELECT i.path FROM product_images i WHERE i.product_id = p.id ORDER BY i.position, i.id LIMIT 1)) AS "imagePath",
    coalesce(nullif((SELECT i.alt FROM product_images i WHERE i.id = v.image_id), ''), p.title) AS "imageAlt"
  FROM cart_lines cl JOIN variants v ON v.id = cl.variant_id JOIN products p ON p.id = v.product_id
  WHERE cl.cart_id = ${cartId} ORDER BY cl.id`

type RawLine = Omit<CartLine, 'options' | 'available' | 'label' | 'lineTotalCents' | 'problem'> & { options: string | null; unheld: number | string; productStatus: string }

// One object per line, its fields named one by one: on this hot path spreading a row into
// another object cost more than the runner (bench/cart-view.ts).
const lineRow = (raw: Record<string, unknown>): CartLine => {
  const r = raw as RawLine
  const quantity = Number(r.quantity)
  const priceCents = Number(r.priceCents)
  const isActive = r.productStatus === 'active'
  const available = isActive ? Math.max(Number(r.unheld), 0) : 0
  return {
    variantId: Number(r.variantId),
    productId: Number(r.productId),
    productSlug: r.productSlug,
    productTitle: r.productTitle,
    variantTitle: r.variantTitle,
    label: itemLabel(r.productTitle, r.variantTitle),
    sku: r.sku,
    options: parseOptions(r.options),
    quantity,
    priceCents,
    currency: r.currency,
    available,
    imagePath: r.imagePath,
    imageAlt: r.imageAlt,
    lineTotalCents: priceCents * quantity,
    problem: !isActive ? 'unavailable' : available <= 0 ? 'sold_out' : available < quantity ? 'short' : null,
  }
}

const linesStatement: Statement<{ cartId: string; now: number }, CartLine> = {
  name: 'cart.lines',
  sqlite: { text: linesText('@cartId', '@now', 'v.options'), values: (p) => p, row: lineRow },
  postgres: { text: linesText('$1', '$2', 'v.options::text'), values: (p) => [p.cartId, p.now], row: lineRow },
}

const cartRow = (raw: Record<string, unknown>): CartRow => ({ id: String(raw.id), version: Number(raw.version), status: raw.status as CartStatus })

const cartStatement: Statement<string, CartRow> = {
  name: 'cart.row',
  sqlite: { text: 'SELECT id, version, status FROM carts WHERE id = ?', values: (id) => [id], row: cartRow },
  postgres: { text: 'SELECT id, version, status FROM carts WHERE id = $1', values: (id) => [id], row: cartRow },
}

const countText = (cartId: string) => `
  SELECT sum(cl.quantity) AS n FROM cart_lines cl JOIN carts c ON c.id = cl.cart_id AND c.status != 'converted'
  WHERE cl.cart_id = ${cartId}`
const countRow = (raw: Record<string, unknown>) => ({ n: Number(raw.n ?? 0) })

const countStatement: Statement<string, { n: number }> = {
  name: 'cart.count',
  sqlite: { text: countText('?'), values: (id) => [id], row: countRow },
  postgres: { text: countText('$1'), values: (id) => [id], row: countRow },
}

/** The cart with live prices and availability, or null: a read step for a body on either engine. */
function* loading(db: Reader, cartId: string, now = Date.now()): Steps<CartView | null> {
  if (!isCartId(cartId)) return null
  const cart = yield* preparedGet(cartStatement, cartId)
  if (!cart) return null
  const lines = yield* preparedAll(linesStatement, { cartId, now: Math.trunc(now) })
  return {
    id: cart.id,
    version: cart.version,
    status: cart.status,
    lines,
    subtotalCents: lines.reduce((sum, l) => sum + l.lineTotalCents, 0),
    currency: lines[0]?.currency ?? 'usd',
    itemCount: lines.reduce((sum, l) => sum + l.quantity, 0),
    hasProblems: lines.some((l) => l.problem !== null),
  }
}

/** The cart with live prices and availability, or null when there is no such cart. */
export function load(cartId: string, now = Date.now()): Promise<CartView | null> {
  return read((db) => loading(db, cartId, now))
}

/** Units in the cart (0 for no cart or a checked-out one): the header's badge. */
export async function count(cartId: string | null): Promise<number> {
  if (!cartId || !isCartId(cartId)) return 0
  return read(function* () {
    return (yield* preparedGet(countStatement, cartId))?.n ?? 0
  })
}

function isOpen(cartId: string): Promise<boolean> {
  return read(function* () {
    const cart = yield* preparedGet(cartStatement, cartId)
    return cart !== undefined && cart.status !== 'converted'
  })
}

// ---------------------------------------------------------------------------------------
// Writes.

export async function create(now = Date.now()): Promise<string> {
  const id = newCartId()
  await transaction(function* (tx, t) {
    yield* run(tx.insert(t.carts).values({ id, createdAt: now, updatedAt: now }))
  })
  return id
}

/** Refused: the form was drawn from a version of the cart that another change has replaced. */
export class StaleCart extends InvalidInput {
  constructor() {
    super('Your cart changed in another tab or window, so this change was not made. Here is your cart as it is now; please try again.')
    this.name = 'StaleCart'
  }
}

// What a cart may take of a variant, if its product is on sale: "available" before its floor
// at zero (unheldSqlText), compared only with a positive quantity, where the floor changes nothing.
const availableOf = (variant: number, now: number) => sql`(
  SELECT ${sql.raw(unheldSqlText({ now: String(Math.trunc(now)) }))}
  FROM variants v JOIN products p ON p.id = v.product_id AND p.status = 'active'
  WHERE v.id = ${variant})`

/**
 * The cart's turn (db/tx.ts serialize): its changes, and checkout's reservation of its holds and
 * tagging of them with a session (lib/checkout.ts), read what the others write, so they take
 * turns until each commits.
 */
export function* takingTurn(cartId: string): Steps<void> {
  yield* serialize(`cart:${cartId}`)
}

/**
 * Takes the cart's turn and checks it may change: it exists, is not checked out, has no
 * checkout Stripe could still take payment for, and (with `version`) is still the version the
 * form was drawn from. Returns the cart's current version.
 */
function* editable(tx: Writer, t: Tables, cartId: string, now: number, version?: number): Steps<number> {
  yield* takingTurn(cartId)
  const cart = yield* get(tx.select({ status: t.carts.status, version: t.carts.version }).from(t.carts).where(eq(t.carts.id, cartId)))
  if (!cart || cart.status === 'converted') throw new NotFound('Your cart')
  if (version !== undefined && cart.version !== version) throw new StaleCart()
  // A shopper who left Stripe's page without canceling and edits the cart has abandoned that
  // checkout, but its holds go back only once Stripe says the session can no longer be paid:
  // callers run checkout.abandon(cartId) first (it expires the session, then releases). A
  // session still open here (abandon was skipped, or a checkout started meanwhile) keeps its
  // holds and the edit is refused; holds without a session go back, so the cart is bounded
  // by the shelf, not by its own holds.
  if ((yield* inventory.openSessionsIn(tx, t, cartId, now)).length > 0) {
    throw new CheckoutOpen('Your cart has a checkout open at our payment provider, so it was not changed. Please try again in a moment.')
  }
  yield* inventory.releasingUnboundForCart(tx, t, cartId, now)
  return cart.version
}

function* touching(tx: Writer, t: Tables, cartId: string, now: number): Steps<number> {
  const row = yield* get(
    tx
      .update(t.carts)
      .set({ version: sql`${t.carts.version} + 1`, updatedAt: now })
      .where(eq(t.carts.id, cartId))
      .returning({ version: t.carts.version }),
  )
  return row!.version
}

type StockFacts = { available: number; label: string; inCart: number }

function* stockFacts(cartId: string, variant: number, now: number): Steps<StockFacts | null> {
  const row = yield* sqlGet<{ unheld: number | string | null; productTitle: string; variantTitle: string; inCart: number | string }>(sql`
    SELECT ${availableOf(variant, now)} AS unheld, p.title AS "productTitle", v.title AS "variantTitle",
      coalesce((SELECT quantity FROM cart_lines WHERE cart_id = ${cartId} AND variant_id = v.id), 0) AS "inCart"
    FROM variants v JOIN products p ON p.id = v.product_id AND p.status = 'active'
    WHERE v.id = ${variant}`)
  return row ? { available: Math.max(Number(row.unheld ?? 0), 0), inCart: Number(row.inCart), label: itemLabel(row.productTitle, row.variantTitle) } : null
}

function* lineQuantity(tx: Writer, t: Tables, cartId: string, variant: number): Steps<number | undefined> {
  const line = yield* get(tx.select({ quantity: t.cartLines.quantity }).from(t.cartLines).where(and(eq(t.cartLines.cartId, cartId), eq(t.cartLines.variantId, variant))))
  return line?.quantity
}

export type LineChange = { cartId: string; version: number; variantId: number; quantity: number }

/**
 * Adds units of a variant, on top of any already in the cart. Refuses (OutOfStock, with
 * how many are left) when the cart would hold more than can be sold; nothing changes then.
 * With `version`, refuses (StaleCart) a cart that changed since the form was drawn.
 */
export function add(cartId: string, variant: number, units: number, now = Date.now(), version?: number): Promise<LineChange> {
  const max = maxUnitsPerItem()
  if (!Number.isSafeInteger(units) || units < 1) return Promise.reject(new InvalidInput('Quantity must be a whole number of at least 1.'))
  if (units > max) return Promise.reject(new InvalidInput(tooMany()))
  return transaction(function* (tx, t) {
    yield* editable(tx, t, cartId, now, version)
    const isFull = yield* sqlGet<{ full: number | boolean }>(sql`
      SELECT (SELECT count(*) FROM cart_lines WHERE cart_id = ${cartId}) >= ${MAX_LINES}
        AND NOT EXISTS (SELECT 1 FROM cart_lines WHERE cart_id = ${cartId} AND variant_id = ${variant}) AS full`)
    if (isFull?.full) throw new InvalidInput(`A cart can hold up to ${MAX_LINES} different items; check out these first.`)
    // CASTs: PostgreSQL types a SELECT list's parameters as text, not as the columns they fill
    const { changes } = yield* sqlRun(sql`
      INSERT INTO cart_lines (cart_id, variant_id, quantity, added_at)
      SELECT CAST(${cartId} AS text), CAST(${variant} AS bigint), CAST(${units} AS integer), CAST(${now} AS bigint)
      WHERE ${units} <= ${availableOf(variant, now)}
      ON CONFLICT (cart_id, variant_id) DO UPDATE SET quantity = cart_lines.quantity + excluded.quantity
      WHERE cart_lines.quantity + excluded.quantity <= ${availableOf(variant, now)}
        AND cart_lines.quantity + excluded.quantity <= ${max}`)
    if (changes === 0) {
      const facts = yield* stockFacts(cartId, variant, now)
      if (!facts) throw new NotFound('That product')
      if (facts.inCart + units > max && facts.inCart + units <= facts.available) {
        throw new InvalidInput(tooMany())
      }
      throw new OutOfStock(variant, facts.available, facts.inCart + units, facts.label)
    }
    const quantity = (yield* lineQuantity(tx, t, cartId, variant))!
    return { cartId, version: yield* touching(tx, t, cartId, now), variantId: variant, quantity }
  })
}

/** Sets a line's quantity (0 removes it). More than can be sold is refused with OutOfStock; a stale `version` with StaleCart. */
export function setQuantity(cartId: string, variant: number, units: number, now = Date.now(), version?: number): Promise<LineChange> {
  if (!Number.isSafeInteger(units) || units < 0) return Promise.reject(new InvalidInput('Quantity must be a whole number.'))
  if (units > maxUnitsPerItem()) return Promise.reject(new InvalidInput(tooMany()))
  if (units === 0) return remove(cartId, variant, now, version)
  return transaction(function* (tx, t) {
    const current = yield* editable(tx, t, cartId, now, version)
    const quantity = yield* lineQuantity(tx, t, cartId, variant)
    if (quantity === undefined) throw new NotFound('That item in your cart')
    if (quantity === units) return { cartId, version: current, variantId: variant, quantity: units }
    const { changes } = yield* sqlRun(sql`
      UPDATE cart_lines SET quantity = ${units}
      WHERE cart_id = ${cartId} AND variant_id = ${variant} AND ${units} <= ${availableOf(variant, now)}`)
    if (changes === 0) {
      const facts = yield* stockFacts(cartId, variant, now)
      throw new OutOfStock(variant, facts?.available ?? 0, units, facts?.label)
    }
    return { cartId, version: yield* touching(tx, t, cartId, now), variantId: variant, quantity: units }
  })
}

/** Removes a line; removing one that is not there changes nothing. A stale `version` is refused with StaleCart. */
export function remove(cartId: string, variant: number, now = Date.now(), version?: number): Promise<LineChange> {
  return transaction(function* (tx, t) {
    const current = yield* editable(tx, t, cartId, now, version)
    const { changes } = yield* run(tx.delete(t.cartLines).where(and(eq(t.cartLines.cartId, cartId), eq(t.cartLines.variantId, variant))))
    return { cartId, version: changes > 0 ? yield* touching(tx, t, cartId, now) : current, variantId: variant, quantity: 0 }
  })
}

export type AgainResult = { added: string[]; skipped: string[] }

/**
 * "Buy again": puts an earlier order's items back in the cart, each up to the quantity
 * ordered and no more than can be sold now. Items no longer on sale, deleted or sold out
 * are skipped and named, so the shopper knows what did not come back.
 */
export async function addAgain(cartId: string, lines: { variantId: number | null; quantity: number; title: string }[], now = Date.now()): Promise<AgainResult> {
  const result: AgainResult = { added: [], skipped: [] }
  for (const line of lines) {
    if (line.variantId === null) {
      result.skipped.push(line.title)
      continue
    }
    const wanted = Math.min(line.quantity, maxUnitsPerItem())
    try {
      await add(cartId, line.variantId, wanted, now)
      result.added.push(line.title)
    } catch (err) {
      if (err instanceof OutOfStock && err.available > err.requested - wanted) {
        // fewer left than were ordered: take what there is
        await add(cartId, line.variantId, err.available - (err.requested - wanted), now)
        result.added.push(line.title)
      } else if (err instanceof OutOfStock || err instanceof NotFound || err instanceof InvalidInput) {
        result.skipped.push(line.title)
      } else throw err
    }
  }
  return result
}

/**
 * Deletes carts nobody has touched for 30 days, with their lines (the job runner calls it
 * nightly). Holds that pointed at them keep their rows with cart_id set to null.
 */
export function purgeIdle(now = Date.now()): Promise<number> {
  const cutoff = now - IDLE_DAYS * 24 * 60 * 60 * 1000
  return transaction(function* (tx, t) {
    return (yield* run(tx.delete(t.carts).where(lt(t.carts.updatedAt, cutoff)))).changes
  })
}
