import 'server-only'
import crypto from 'node:crypto'
import { and, eq, lt, sql } from 'drizzle-orm'
import { cookies } from 'next/headers'
import { z } from 'zod'
import { getDb, write, type Db, type Tx } from '@/db'
import { cartLines, carts } from '@/db/schema'
import { getEnv } from './env'
import { itemLabel, parseOptions } from './catalog'
import { CheckoutOpen, InvalidInput, NotFound, OutOfStock } from './errors'
import * as inventory from './inventory'

// The cart lives in the database (`carts`, `cart_lines`), found by a random 32-byte id that
// is also the value of an httpOnly cookie. Every change is one immediate transaction that
// bumps `carts.version` (checkout keys its idempotency on it). Quantities are bounded by what
// can be sold right now (inventory: stock minus active holds), checked in the same SQL
// statement that writes, so two tabs cannot talk the cart past the shelf.

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
  if (existing && isOpen(existing)) return existing
  const id = create(now)
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
// once per connection: building a drizzle query costs more than the SQLite work.

type Statements = {
  lines: { all(cartId: string, now: number): LineRow[] }
  cart: { get(cartId: string): { id: string; version: number; status: CartStatus } | undefined }
  count: { get(cartId: string): { n: number | null } }
}

type LineRow = Omit<CartLine, 'options' | 'lineTotalCents' | 'problem'> & { options: string; productStatus: string }

const statements = new WeakMap<Db, Statements>()

function prepared(): Statements {
  const db = getDb()
  let s = statements.get(db)
  if (!s) {
    const client = db.$client
    s = {
      lines: client.prepare(`
        SELECT cl.variant_id AS variantId, cl.quantity, v.product_id AS productId, p.slug AS productSlug, p.title AS productTitle,
          v.title AS variantTitle, v.sku, v.options, v.price_cents AS priceCents, v.currency, p.status AS productStatus,
          ${inventory.availableSqlText({ exceptCart: '@cartId' })} AS available,
          coalesce((SELECT i.path FROM product_images i WHERE i.id = v.image_id),
            (SELECT i.path FROM product_images i WHERE i.product_id = p.id ORDER BY i.position, i.id LIMIT 1)) AS imagePath,
          coalesce(nullif((SELECT i.alt FROM product_images i WHERE i.id = v.image_id), ''), p.title) AS imageAlt
        FROM cart_lines cl JOIN variants v ON v.id = cl.variant_id JOIN products p ON p.id = v.product_id
        WHERE cl.cart_id = @cartId ORDER BY cl.id`) as unknown as Statements['lines'],
      cart: client.prepare(`SELECT id, version, status FROM carts WHERE id = ?`) as unknown as Statements['cart'],
      count: client.prepare(`
        SELECT sum(cl.quantity) AS n FROM cart_lines cl JOIN carts c ON c.id = cl.cart_id AND c.status != 'converted'
        WHERE cl.cart_id = ?`) as unknown as Statements['count'],
    }
    // better-sqlite3 binds named parameters from an object
    const lines = s.lines as unknown as { all(params: { cartId: string; now: number }): LineRow[] }
    s.lines = { all: (cartId, now) => lines.all({ cartId, now }) }
    statements.set(db, s)
  }
  return s
}

function problemOf(row: LineRow): LineProblem | null {
  if (row.productStatus !== 'active') return 'unavailable'
  if (row.available <= 0) return 'sold_out'
  if (row.available < row.quantity) return 'short'
  return null
}

/** The cart with live prices and availability, or null when there is no such cart. */
export function load(cartId: string, now = Date.now()): CartView | null {
  if (!isCartId(cartId)) return null
  const s = prepared()
  const cart = s.cart.get(cartId)
  if (!cart) return null
  const lines: CartLine[] = s.lines.all(cartId, now).map((row) => {
    const { productStatus, options, ...rest } = row
    const isActive = productStatus === 'active'
    return {
      ...rest,
      available: isActive ? row.available : 0,
      label: itemLabel(row.productTitle, row.variantTitle),
      options: parseOptions(options),
      lineTotalCents: row.priceCents * row.quantity,
      problem: problemOf(row),
    }
  })
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

/** Units in the cart (0 for no cart or a checked-out one): the header's badge. */
export function count(cartId: string | null): number {
  if (!cartId || !isCartId(cartId)) return 0
  return prepared().count.get(cartId).n ?? 0
}

function isOpen(cartId: string): boolean {
  const cart = prepared().cart.get(cartId)
  return cart !== undefined && cart.status !== 'converted'
}

// ---------------------------------------------------------------------------------------
// Writes.

export function create(now = Date.now()): string {
  const id = newCartId()
  write((tx) => tx.insert(carts).values({ id, createdAt: now, updatedAt: now }).run())
  return id
}

// What a cart may take of a variant: what inventory says is available, if its product is on sale.
const availableOf = (variant: number, now: number) => sql`(
  SELECT ${inventory.availableSql(now)}
  FROM variants v JOIN products p ON p.id = v.product_id AND p.status = 'active'
  WHERE v.id = ${variant})`

function requireEditable(tx: Tx, cartId: string): void {
  const cart = tx.select({ status: carts.status }).from(carts).where(eq(carts.id, cartId)).get()
  if (!cart || cart.status === 'converted') throw new NotFound('Your cart')
  // A shopper who left Stripe's page without canceling and edits the cart has abandoned that
  // checkout, but its holds go back only once Stripe says the session can no longer be paid:
  // callers run checkout.abandon(cartId) first (it expires the session, then releases). A
  // session still open here (abandon was skipped, or a checkout started meanwhile) keeps its
  // holds and the edit is refused; holds without a session go back, so the cart is bounded
  // by the shelf, not by its own holds.
  if (inventory.openSessionsOfCart(tx, cartId).length > 0) {
    throw new CheckoutOpen('Your cart has a checkout open at our payment provider, so it was not changed. Please try again in a moment.')
  }
  inventory.releaseUnboundForCart(tx, cartId)
}

function touch(tx: Tx, cartId: string, now: number): number {
  return tx
    .update(carts)
    .set({ version: sql`${carts.version} + 1`, updatedAt: now })
    .where(eq(carts.id, cartId))
    .returning({ version: carts.version })
    .get()!.version
}

type StockFacts = { available: number; label: string; inCart: number }

function stockFacts(tx: Tx, cartId: string, variant: number, now: number): StockFacts | null {
  const row = tx.get<Omit<StockFacts, 'label'> & { productTitle: string; variantTitle: string }>(sql`
    SELECT ${availableOf(variant, now)} AS available, p.title AS productTitle, v.title AS variantTitle,
      coalesce((SELECT quantity FROM cart_lines WHERE cart_id = ${cartId} AND variant_id = v.id), 0) AS inCart
    FROM variants v JOIN products p ON p.id = v.product_id AND p.status = 'active'
    WHERE v.id = ${variant}`)
  return row ? { available: row.available, inCart: row.inCart, label: itemLabel(row.productTitle, row.variantTitle) } : null
}

export type LineChange = { cartId: string; version: number; variantId: number; quantity: number }

/**
 * Adds units of a variant, on top of any already in the cart. Refuses (OutOfStock, with
 * how many are left) when the cart would hold more than can be sold; nothing changes then.
 */
export function add(cartId: string, variant: number, units: number, now = Date.now()): LineChange {
  const max = maxUnitsPerItem()
  if (!Number.isSafeInteger(units) || units < 1) throw new InvalidInput('Quantity must be a whole number of at least 1.')
  if (units > max) throw new InvalidInput(tooMany())
  return write((tx) => {
    requireEditable(tx, cartId)
    const isFull = tx.get<{ full: number }>(sql`
      SELECT (SELECT count(*) FROM cart_lines WHERE cart_id = ${cartId}) >= ${MAX_LINES}
        AND NOT EXISTS (SELECT 1 FROM cart_lines WHERE cart_id = ${cartId} AND variant_id = ${variant}) AS full`)
    if (isFull?.full) throw new InvalidInput(`A cart can hold up to ${MAX_LINES} different items; check out these first.`)
    const { changes } = tx.run(sql`
      INSERT INTO cart_lines (cart_id, variant_id, quantity, added_at)
      SELECT ${cartId}, ${variant}, ${units}, ${now}
      WHERE ${units} <= ${availableOf(variant, now)}
      ON CONFLICT (cart_id, variant_id) DO UPDATE SET quantity = cart_lines.quantity + excluded.quantity
      WHERE cart_lines.quantity + excluded.quantity <= ${availableOf(variant, now)}
        AND cart_lines.quantity + excluded.quantity <= ${max}`)
    if (changes === 0) {
      const facts = stockFacts(tx, cartId, variant, now)
      if (!facts) throw new NotFound('That product')
      if (facts.inCart + units > max && facts.inCart + units <= facts.available) {
        throw new InvalidInput(tooMany())
      }
      throw new OutOfStock(variant, facts.available, facts.inCart + units, facts.label)
    }
    const line = tx.select({ quantity: cartLines.quantity }).from(cartLines).where(and(eq(cartLines.cartId, cartId), eq(cartLines.variantId, variant))).get()!
    return { cartId, version: touch(tx, cartId, now), variantId: variant, quantity: line.quantity }
  })
}

/** Sets a line's quantity (0 removes it). More than can be sold is refused with OutOfStock. */
export function setQuantity(cartId: string, variant: number, units: number, now = Date.now()): LineChange {
  if (!Number.isSafeInteger(units) || units < 0) throw new InvalidInput('Quantity must be a whole number.')
  if (units > maxUnitsPerItem()) throw new InvalidInput(tooMany())
  if (units === 0) return remove(cartId, variant, now)
  return write((tx) => {
    requireEditable(tx, cartId)
    const line = tx.select({ quantity: cartLines.quantity }).from(cartLines).where(and(eq(cartLines.cartId, cartId), eq(cartLines.variantId, variant))).get()
    if (!line) throw new NotFound('That item in your cart')
    const version = tx.select({ version: carts.version }).from(carts).where(eq(carts.id, cartId)).get()!.version
    if (line.quantity === units) return { cartId, version, variantId: variant, quantity: units }
    const { changes } = tx.run(sql`
      UPDATE cart_lines SET quantity = ${units}
      WHERE cart_id = ${cartId} AND variant_id = ${variant} AND ${units} <= ${availableOf(variant, now)}`)
    if (changes === 0) {
      const facts = stockFacts(tx, cartId, variant, now)
      throw new OutOfStock(variant, facts?.available ?? 0, units, facts?.label)
    }
    return { cartId, version: touch(tx, cartId, now), variantId: variant, quantity: units }
  })
}

/** Removes a line; removing one that is not there changes nothing. */
export function remove(cartId: string, variant: number, now = Date.now()): LineChange {
  return write((tx) => {
    requireEditable(tx, cartId)
    const { changes } = tx.delete(cartLines).where(and(eq(cartLines.cartId, cartId), eq(cartLines.variantId, variant))).run()
    const version = changes > 0 ? touch(tx, cartId, now) : tx.select({ version: carts.version }).from(carts).where(eq(carts.id, cartId)).get()!.version
    return { cartId, version, variantId: variant, quantity: 0 }
  })
}

export type AgainResult = { added: string[]; skipped: string[] }

/**
 * "Buy again": puts an earlier order's items back in the cart, each up to the quantity
 * ordered and no more than can be sold now. Items no longer on sale, deleted or sold out
 * are skipped and named, so the shopper knows what did not come back.
 */
export function addAgain(cartId: string, lines: { variantId: number | null; quantity: number; title: string }[], now = Date.now()): AgainResult {
  const result: AgainResult = { added: [], skipped: [] }
  for (const line of lines) {
    if (line.variantId === null) {
      result.skipped.push(line.title)
      continue
    }
    const wanted = Math.min(line.quantity, maxUnitsPerItem())
    try {
      add(cartId, line.variantId, wanted, now)
      result.added.push(line.title)
    } catch (err) {
      if (err instanceof OutOfStock && err.available > err.requested - wanted) {
        // fewer left than were ordered: take what there is
        add(cartId, line.variantId, err.available - (err.requested - wanted), now)
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
export function purgeIdle(now = Date.now()): number {
  const cutoff = now - IDLE_DAYS * 24 * 60 * 60 * 1000
  return write((tx) => tx.delete(carts).where(lt(carts.updatedAt, cutoff)).run().changes)
}

