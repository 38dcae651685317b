import { and, eq, gt, inArray, lte, sql } from 'drizzle-orm'
import { getDb, type Tx } from '@/db'
import { stockHolds, variants } from '@/db/schema'
import { OutOfStock } from './errors'

// Stock is `variants.stock` (units on the shelf); a hold reserves units for a checkout that
// has not been paid yet. Available = stock - active, unexpired holds. Every rule is a single
// SQL statement inside the caller's immediate transaction, never read-then-write JS.

export const HOLD_MINUTES = 30

const activeHeld = (variantId: unknown, now: number) => sql`(
  SELECT coalesce(sum(${stockHolds.quantity}), 0) FROM ${stockHolds}
  WHERE ${stockHolds.variantId} = ${variantId} AND ${stockHolds.status} = 'active' AND ${stockHolds.expiresAt} > ${now})`

/** Units that can still be sold, per variant id (missing ids are absent from the map). */
export function available(variantIds: number[], now = Date.now()): Map<number, number> {
  if (variantIds.length === 0) return new Map()
  const rows = getDb()
    .select({ id: variants.id, available: sql<number>`max(${variants.stock} - ${activeHeld(variants.id, now)}, 0)` })
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
      WHERE (SELECT ${variants.stock} FROM ${variants} WHERE ${variants.id} = ${line.variantId}) - ${activeHeld(line.variantId, now)} >= ${line.quantity}`)
    if (inserted.changes === 0) {
      const row = tx
        .select({ available: sql<number>`max(${variants.stock} - ${activeHeld(variants.id, now)}, 0)` })
        .from(variants)
        .where(eq(variants.id, line.variantId))
        .get()
      throw new OutOfStock(line.variantId, row?.available ?? 0, line.quantity, line.label)
    }
    ids.push(Number(inserted.lastInsertRowid))
  }
  return ids
}

export function attachSession(tx: Tx, holdIds: number[], sessionId: string): void {
  if (holdIds.length === 0) return
  tx.update(stockHolds).set({ stripeCheckoutSessionId: sessionId }).where(inArray(stockHolds.id, holdIds)).run()
}

/** True when a checkout started here holds (or held) stock for this Checkout Session. */
export function hasSession(sessionId: string): boolean {
  return getDb().select({ id: stockHolds.id }).from(stockHolds).where(eq(stockHolds.stripeCheckoutSessionId, sessionId)).limit(1).get() !== undefined
}

export function releaseHolds(tx: Tx, holdIds: number[]): number {
  if (holdIds.length === 0) return 0
  return tx
    .update(stockHolds)
    .set({ status: 'released' })
    .where(and(inArray(stockHolds.id, holdIds), eq(stockHolds.status, 'active')))
    .run().changes
}

export function releaseForSession(tx: Tx, sessionId: string): number {
  return tx
    .update(stockHolds)
    .set({ status: 'released' })
    .where(and(eq(stockHolds.stripeCheckoutSessionId, sessionId), eq(stockHolds.status, 'active')))
    .run().changes
}

export function releaseForCart(tx: Tx, cartId: string): { released: number; sessionIds: string[] } {
  const rows = tx
    .update(stockHolds)
    .set({ status: 'released' })
    .where(and(eq(stockHolds.cartId, cartId), eq(stockHolds.status, 'active')))
    .returning({ sessionId: stockHolds.stripeCheckoutSessionId })
    .all()
  return { released: rows.length, sessionIds: [...new Set(rows.map((r) => r.sessionId).filter((s): s is string => !!s))] }
}

/** Expired holds stop counting at once (see activeHeld); this tidies their status. */
export function releaseExpired(tx: Tx, now = Date.now()): number {
  return tx
    .update(stockHolds)
    .set({ status: 'released' })
    .where(and(eq(stockHolds.status, 'active'), lte(stockHolds.expiresAt, now)))
    .run().changes
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
  tx.update(stockHolds)
    .set({ status: 'released' })
    .where(and(eq(stockHolds.stripeCheckoutSessionId, sessionId), eq(stockHolds.status, 'active')))
    .run()
  return { shortVariantIds }
}

/** Owner-driven stock changes (admin). Absolute set, or a delta that cannot go below zero. */
export function setStock(tx: Tx, variantId: number, stock: number): boolean {
  return tx.update(variants).set({ stock, updatedAt: Date.now() }).where(eq(variants.id, variantId)).run().changes === 1
}

export function restock(tx: Tx, variantId: number, quantity: number): boolean {
  return (
    tx
      .update(variants)
      .set({ stock: sql`${variants.stock} + ${quantity}`, updatedAt: Date.now() })
      .where(and(eq(variants.id, variantId), gt(sql`${quantity}`, 0)))
      .run().changes === 1
  )
}
