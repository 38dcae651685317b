import 'server-only'
import { and, eq, gt, inArray, lte, sql, type SQL } from 'drizzle-orm'
import { afterCommit, getDb, type Tx } from '@/db'
import { stockHolds, variants } from '@/db/schema'
import * as cache from './cache'
import { OutOfStock } from './errors'

// Stock is `variants.stock` (units on the shelf); a hold reserves units for a checkout that
// has not been paid yet. Available = stock - active, unexpired holds, never below zero; that
// rule is written once, below, and every query that shows or checks availability uses it.
// Every change is a single SQL statement inside the caller's immediate transaction, never
// read-then-write JS, and announces itself (cache.stockChanged) when the transaction commits.

export const HOLD_MINUTES = 30

/**
 * The one definition of "available", as SQL text over a `variants` row aliased `alias`.
 * `now` is a parameter name (`@now`) for prepared statements or a literal; `exceptCart`
 * leaves one cart's own holds out (a cart never competes with itself).
 */
export function availableSqlText({ alias = 'v', now = '@now', exceptCart }: { alias?: string; now?: string; exceptCart?: string } = {}): string {
  const ownHolds = exceptCart ? ` AND (h.cart_id IS NULL OR h.cart_id != ${exceptCart})` : ''
  return `max(${alias}.stock - coalesce((SELECT sum(h.quantity) FROM stock_holds h
    WHERE h.variant_id = ${alias}.id AND h.status = 'active' AND h.expires_at > ${now}${ownHolds}), 0), 0)`
}

/** The same rule for drizzle queries at time `now`. */
export function availableSql(now: number, alias = 'v'): SQL<number> {
  return sql<number>`${sql.raw(availableSqlText({ alias, now: String(Math.trunc(now)) }))}`
}

/** Units of one variant that can still be sold, as a scalar subquery. */
function availableOfSql(variantId: number, now: number): SQL<number> {
  return sql<number>`(SELECT ${availableSql(now)} FROM variants v WHERE v.id = ${variantId})`
}

/** Tells the caches, once the transaction commits, that these variants' availability moved. */
function announce(variantIds: readonly number[]): void {
  afterCommit('inventory.stockChanged', () => cache.stockChanged(variantIds))
}

/** Units that can still be sold, per variant id (missing ids are absent from the map). */
export function available(variantIds: number[], now = Date.now()): Map<number, number> {
  if (variantIds.length === 0) return new Map()
  const rows = getDb()
    .select({ id: variants.id, available: availableSql(now, 'variants') })
    .from(variants)
    .where(inArray(variants.id, variantIds))
    .all()
  return new Map(rows.map((r) => [r.id, r.available]))
}

export function availableOne(variantId: number, now = Date.now()): number {
  return available([variantId], now).get(variantId) ?? 0
}

/**
 * Places one hold per line or throws OutOfStock for the first line that is short. Must run
 * in an immediate transaction, so the check and the insert cannot interleave with another
 * checkout's.
 */
export function placeHolds(
  tx: Tx,
  input: { cartId: string; lines: { variantId: number; quantity: number; label?: string }[]; expiresAt: number; now?: number },
): number[] {
  const now = input.now ?? Date.now()
  const ids: number[] = []
  for (const line of input.lines) {
    const inserted = tx.run(sql`
      INSERT INTO ${stockHolds} (variant_id, cart_id, quantity, status, expires_at, created_at)
      SELECT ${line.variantId}, ${input.cartId}, ${line.quantity}, 'active', ${input.expiresAt}, ${now}
      WHERE ${availableOfSql(line.variantId, now)} >= ${line.quantity}`)
    if (inserted.changes === 0) {
      const row = tx.get<{ available: number | null }>(sql`SELECT ${availableOfSql(line.variantId, now)} AS available`)
      throw new OutOfStock(line.variantId, row?.available ?? 0, line.quantity, line.label)
    }
    ids.push(Number(inserted.lastInsertRowid))
  }
  announce(input.lines.map((l) => l.variantId))
  return ids
}

/** Tags the holds with their session; returns how many were still active (fewer: the checkout was superseded meanwhile). */
export function attachSession(tx: Tx, holdIds: number[], sessionId: string): number {
  if (holdIds.length === 0) return 0
  tx.update(stockHolds).set({ stripeCheckoutSessionId: sessionId }).where(inArray(stockHolds.id, holdIds)).run()
  return tx.select({ id: stockHolds.id }).from(stockHolds).where(and(inArray(stockHolds.id, holdIds), eq(stockHolds.status, 'active'))).all().length
}

/** True when a checkout started here holds (or held) stock for this Checkout Session. */
export function hasSession(sessionId: string): boolean {
  return getDb().select({ id: stockHolds.id }).from(stockHolds).where(eq(stockHolds.stripeCheckoutSessionId, sessionId)).limit(1).get() !== undefined
}

/** Releases the active holds matching `where`; the one place a hold goes back to the shelf. */
function release(tx: Tx, where: SQL | undefined): { variantId: number; sessionId: string | null }[] {
  const rows = tx
    .update(stockHolds)
    .set({ status: 'released' })
    .where(and(eq(stockHolds.status, 'active'), where))
    .returning({ variantId: stockHolds.variantId, sessionId: stockHolds.stripeCheckoutSessionId })
    .all()
  if (rows.length) announce(rows.map((r) => r.variantId))
  return rows
}

export function releaseHolds(tx: Tx, holdIds: number[]): number {
  if (holdIds.length === 0) return 0
  return release(tx, inArray(stockHolds.id, holdIds)).length
}

export function releaseForSession(tx: Tx, sessionId: string): number {
  return release(tx, eq(stockHolds.stripeCheckoutSessionId, sessionId)).length
}

/**
 * The Checkout Sessions this cart's active, unexpired holds reserve units for. Until Stripe
 * says such a session can no longer be paid (expired, or expire succeeded), its holds stay.
 */
export function openSessionsOfCart(db: Pick<Tx, 'selectDistinct'>, cartId: string, now = Date.now()): string[] {
  const rows = db
    .selectDistinct({ sessionId: stockHolds.stripeCheckoutSessionId })
    .from(stockHolds)
    .where(and(eq(stockHolds.cartId, cartId), eq(stockHolds.status, 'active'), gt(stockHolds.expiresAt, now), sql`${stockHolds.stripeCheckoutSessionId} IS NOT NULL`))
    .all()
  return rows.map((r) => r.sessionId!).filter(Boolean)
}

/**
 * Releases the cart's holds that no open session is paid against: holds never tagged with a
 * session, and holds past their expiry (their session expired before them). Holds of a
 * session Stripe may still take payment for are left alone; see openSessionsOfCart.
 */
export function releaseUnboundForCart(tx: Tx, cartId: string, now = Date.now()): number {
  return release(tx, and(eq(stockHolds.cartId, cartId), sql`(${stockHolds.stripeCheckoutSessionId} IS NULL OR ${stockHolds.expiresAt} <= ${now})`)).length
}

/** Expired holds stop counting at once (see availableSqlText); this tidies their status. */
export function releaseExpired(tx: Tx, now = Date.now()): number {
  return release(tx, lte(stockHolds.expiresAt, now)).length
}

/**
 * Turns what a paid session bought into stock decrements. A line covered by this session's
 * hold converts the hold; a line without one (a Payment Link, or a hold that was released)
 * decrements directly. Stock never goes below zero: a short line decrements what is there
 * and reports the shortfall, so the caller records the paid order and flags it oversold.
 */
export function commitSale(tx: Tx, sessionId: string, lines: { variantId: number; quantity: number }[]): { shortVariantIds: number[] } {
  const shortVariantIds: number[] = []
  const holds = tx
    .select({ id: stockHolds.id, variantId: stockHolds.variantId, quantity: stockHolds.quantity, status: stockHolds.status })
    .from(stockHolds)
    .where(eq(stockHolds.stripeCheckoutSessionId, sessionId))
    .all()
  for (const line of lines) {
    const hold = holds.find((h) => h.variantId === line.variantId && h.status !== 'converted')
    if (hold) tx.update(stockHolds).set({ status: 'converted' }).where(eq(stockHolds.id, hold.id)).run()
    const taken = tx
      .update(variants)
      .set({ stock: sql`${variants.stock} - ${line.quantity}`, updatedAt: Date.now() })
      .where(and(eq(variants.id, line.variantId), sql`${variants.stock} >= ${line.quantity}`))
      .run().changes
    if (taken === 0) {
      tx.update(variants).set({ stock: 0, updatedAt: Date.now() }).where(eq(variants.id, line.variantId)).run()
      shortVariantIds.push(line.variantId)
    }
  }
  // Any hold of this session not matched by a line (the session bought less) is released.
  releaseForSession(tx, sessionId)
  announce(lines.map((l) => l.variantId))
  return { shortVariantIds }
}

/** Owner-driven stock changes (admin). Absolute set, or a delta that cannot go below zero. */
export function setStock(tx: Tx, variantId: number, stock: number): boolean {
  const isChanged = tx.update(variants).set({ stock, updatedAt: Date.now() }).where(eq(variants.id, variantId)).run().changes === 1
  if (isChanged) announce([variantId])
  return isChanged
}

export function restock(tx: Tx, variantId: number, quantity: number): boolean {
  const isChanged =
    tx
      .update(variants)
      .set({ stock: sql`${variants.stock} + ${quantity}`, updatedAt: Date.now() })
      .where(and(eq(variants.id, variantId), gt(sql`${quantity}`, 0)))
      .run().changes === 1
  if (isChanged) announce([variantId])
  return isChanged
}
