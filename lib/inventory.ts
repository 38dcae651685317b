import 'server-only'
import { and, eq, gt, inArray, lte, sql, type SQL } from 'drizzle-orm'
import { afterCommit, getDb, prepared, write, type Tx } from '@/db'
import { adminUsers, orders, stockHolds, stockLedger, variants, type StockReason } from '@/db/schema'
import * as audit from './audit'
import * as cache from './cache'
import { HoldLimit, InvalidInput, NotFound, OutOfStock } from './errors'
import * as stockAlerts from './stock-alerts'

// Stock is `variants.stock` (units on the shelf); a hold reserves units for a checkout that
// has not been paid yet. Available = stock - active, unexpired holds, never below zero; that
// rule is written once, below, and every query that shows or checks availability uses it.
// Every change is a single SQL statement inside the caller's immediate transaction, never
// read-then-write JS, and marks itself (cache.markStockChanged) in the same transaction.
// Every change of `stock` also writes a stock_ledger row (who, why, delta, stock after) in the
// same transaction, so the shelf count can always be explained.

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

/**
 * Marks these variants' availability as changed, in the transaction that changed it: the
 * caches drop the pages that show them once it commits, in this process and the others; and
 * the stock alerts look, after the commit, for requests whose variant can be sold again.
 */
function announce(variantIds: readonly number[]): void {
  cache.markStockChanged(variantIds)
  afterCommit('stockAlerts.scan', () => stockAlerts.scanIfWaiting())
}

/**
 * The same for a change that only takes units (a hold placed or kept, a sale): nothing can
 * have come back, so the stock alerts have nothing to look for. (Their look cost a query after
 * every order; a hold released along the way announces itself, with the look.)
 */
function announceTaken(variantIds: readonly number[]): void {
  cache.markStockChanged(variantIds)
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

/** A visitor's bound on holds: their key (a hash of the client address; null when unknown) and share. */
export type VisitorBound = { clientKey: string | null; maxSharePercent: number }

/**
 * Units of a variant one visitor may hold at once: their share of the units on the shelf
 * (held or not, so the bound does not shrink as others hold), and never less than one, so
 * the last unit can still be bought.
 */
function allowanceSql(variantId: number, maxSharePercent: number): SQL<number> {
  return sql<number>`max(1, coalesce((SELECT stock FROM variants WHERE id = ${variantId}), 0) * ${maxSharePercent} / 100)`
}

/** Units of a variant the active, unexpired holds matching `who` reserve. */
function heldBySql(variantId: number, who: SQL, now: number): SQL<number> {
  return sql<number>`coalesce((SELECT sum(quantity) FROM stock_holds WHERE variant_id = ${variantId} AND status = 'active' AND expires_at > ${now} AND ${who}), 0)`
}

/**
 * Places one hold per line or throws OutOfStock for the first line that is short. Must run
 * in an immediate transaction, so the check and the insert cannot interleave with another
 * checkout's. With `visitor`, a line is also refused (HoldLimit) when it would take this cart,
 * or this client address over all its carts, past its share of the variant: one visitor
 * cannot hold everything and show "Sold out" to everyone else.
 */
export function placeHolds(
  tx: Tx,
  input: { cartId: string; lines: { variantId: number; quantity: number; label?: string }[]; expiresAt: number; now?: number; visitor?: VisitorBound },
): number[] {
  const now = input.now ?? Date.now()
  const ids: number[] = []
  const visitor = input.visitor && input.visitor.maxSharePercent < 100 ? input.visitor : null
  for (const line of input.lines) {
    const withinShare = (who: SQL) => sql`${heldBySql(line.variantId, who, now)} + ${line.quantity} <= ${allowanceSql(line.variantId, visitor!.maxSharePercent)}`
    const bound = visitor
      ? sql` AND ${withinShare(sql`cart_id = ${input.cartId}`)}${visitor.clientKey ? sql` AND ${withinShare(sql`client_key = ${visitor.clientKey}`)}` : sql``}`
      : sql``
    const inserted = tx.run(sql`
      INSERT INTO ${stockHolds} (variant_id, cart_id, client_key, quantity, status, expires_at, created_at)
      SELECT ${line.variantId}, ${input.cartId}, ${visitor?.clientKey ?? null}, ${line.quantity}, 'active', ${input.expiresAt}, ${now}
      WHERE ${availableOfSql(line.variantId, now)} >= ${line.quantity}${bound}`)
    if (inserted.changes === 0) {
      const row = tx.get<{ available: number | null }>(sql`SELECT ${availableOfSql(line.variantId, now)} AS available`)
      const available = row?.available ?? 0
      if (visitor && available >= line.quantity) {
        const allowed = tx.get<{ allowed: number }>(sql`SELECT ${allowanceSql(line.variantId, visitor.maxSharePercent)} AS allowed`)!.allowed
        throw new HoldLimit(line.variantId, allowed, line.quantity, line.label)
      }
      throw new OutOfStock(line.variantId, available, line.quantity, line.label)
    }
    ids.push(Number(inserted.lastInsertRowid))
  }
  announceTaken(input.lines.map((l) => l.variantId))
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
  // In `tx`: the prepared statement runs on the same connection, inside its transaction.
  const rows = releaseOfSession().all({ sessionId })
  if (rows.length) announce(rows.map((r) => r.variantId))
  return rows.length
}

// Every paid order runs it (commitSale releases what its lines did not convert): built once.
const releaseOfSession = () =>
  prepared('inventory.releaseOfSession', (db) =>
    db
      .update(stockHolds)
      .set({ status: 'released' })
      .where(and(eq(stockHolds.status, 'active'), eq(stockHolds.stripeCheckoutSessionId, sql.placeholder('sessionId'))))
      .returning({ variantId: stockHolds.variantId, sessionId: stockHolds.stripeCheckoutSessionId })
      .prepare(),
  )

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
 * The expiry of a hold kept for a payment that has not settled (a bank debit can take days):
 * it lasts until Stripe says the payment succeeded (commitSale) or failed (releaseForSession).
 */
const UNTIL_SETTLED = 8_640_000_000_000_000

/**
 * A completed session whose payment is still processing keeps its units until it settles.
 * A line whose hold is still live keeps it, now until settled. A line whose hold ran out (the
 * completion arrived late, or the shopper took long on the bank's page) takes the units again
 * when they are still available; otherwise it is reported short, for the owner to decide.
 */
export function keepUntilSettled(tx: Tx, sessionId: string, lines: { variantId: number; quantity: number }[], now = Date.now()): { shortVariantIds: number[] } {
  const shortVariantIds: number[] = []
  for (const line of lines) {
    const kept = tx.run(sql`UPDATE stock_holds SET expires_at = ${UNTIL_SETTLED}
      WHERE stripe_checkout_session_id = ${sessionId} AND variant_id = ${line.variantId} AND status = 'active' AND expires_at > ${now}`).changes
    if (kept > 0) continue
    // Its hold ran out: that record goes, and the units are taken again if nobody else has them.
    release(tx, and(eq(stockHolds.stripeCheckoutSessionId, sessionId), eq(stockHolds.variantId, line.variantId)))
    const held = tx.run(sql`
      INSERT INTO ${stockHolds} (variant_id, quantity, status, expires_at, stripe_checkout_session_id, created_at)
      SELECT ${line.variantId}, ${line.quantity}, 'active', ${UNTIL_SETTLED}, ${sessionId}, ${now}
      WHERE ${availableOfSql(line.variantId, now)} >= ${line.quantity}`).changes
    if (held === 0) shortVariantIds.push(line.variantId)
  }
  if (lines.length) announceTaken(lines.map((l) => l.variantId))
  return { shortVariantIds }
}

/**
 * Turns what a paid session bought into stock decrements. A line covered by this session's
 * hold converts the hold; a line without one (a Payment Link, or a hold that was released)
 * decrements directly. Stock never goes below zero: a short line decrements what is there
 * and reports the shortfall, so the caller records the paid order and flags it oversold.
 */
export function commitSale(tx: Tx, sessionId: string, lines: { variantId: number; quantity: number }[]): { shortVariantIds: number[] } {
  const shortVariantIds: number[] = []
  // In `tx`: the prepared statements run on the same connection, inside its transaction.
  const holds = sale().holdsOf.all({ sessionId })
  for (const line of lines) {
    const hold = holds.find((h) => h.variantId === line.variantId && h.status !== 'converted')
    if (hold) sale().convertHold.run({ id: hold.id })
    const taken = sale().take.get({ variantId: line.variantId, quantity: line.quantity, now: Date.now() })
    if (taken) {
      ledger(tx, { variantId: line.variantId, delta: -line.quantity, stockAfter: taken.stock, reason: 'sale', note: sessionId, orderId: orderIdOf(tx, sessionId) })
    } else {
      const before = tx.select({ stock: variants.stock }).from(variants).where(eq(variants.id, line.variantId)).get()
      tx.update(variants).set({ stock: 0, updatedAt: Date.now() }).where(eq(variants.id, line.variantId)).run()
      shortVariantIds.push(line.variantId)
      if (before && before.stock > 0) {
        ledger(tx, { variantId: line.variantId, delta: -before.stock, stockAfter: 0, reason: 'sale', note: `${sessionId} (oversold by ${line.quantity - before.stock})`, orderId: orderIdOf(tx, sessionId) })
      }
    }
  }
  // Any hold of this session not matched by a line (the session bought less) is released.
  releaseForSession(tx, sessionId)
  announceTaken(lines.map((l) => l.variantId))
  return { shortVariantIds }
}

// Every paid order runs these (commitSale): built once (db.prepared), not per call.
const sale = () =>
  prepared('inventory.sale', (db) => ({
    holdsOf: db
      .select({ id: stockHolds.id, variantId: stockHolds.variantId, quantity: stockHolds.quantity, status: stockHolds.status })
      .from(stockHolds)
      .where(eq(stockHolds.stripeCheckoutSessionId, sql.placeholder('sessionId')))
      .prepare(),
    convertHold: db.update(stockHolds).set({ status: 'converted' }).where(eq(stockHolds.id, sql.placeholder('id'))).prepare(),
    take: db
      .update(variants)
      .set({ stock: sql`${variants.stock} - ${sql.placeholder('quantity')}`, updatedAt: sql`${sql.placeholder('now')}` })
      .where(and(eq(variants.id, sql.placeholder('variantId')), sql`${variants.stock} >= ${sql.placeholder('quantity')}`))
      .returning({ stock: variants.stock })
      .prepare(),
  }))

// ---------------------------------------------------------------------------------------
// The stock ledger

type LedgerEntry = { variantId: number; delta: number; stockAfter: number; reason: StockReason; note?: string; adminUserId?: number | null; orderId?: number | null }

function ledger(tx: Tx, entry: LedgerEntry): void {
  // In `tx`: the prepared insert runs on the same connection, inside its transaction.
  ledgerInsert().run({ ...entry, note: (entry.note ?? '').slice(0, 500), adminUserId: entry.adminUserId ?? null, orderId: entry.orderId ?? null, createdAt: Date.now() })
}

function orderIdOf(tx: Tx, sessionId: string): number | null {
  return orderOfSession().get({ sessionId })?.id ?? null
}

// Every stock change writes a ledger row, every sale looks up its order: built once.
const ledgerInsert = () =>
  prepared('inventory.ledger', (db) =>
    db
      .insert(stockLedger)
      .values({
        variantId: sql.placeholder('variantId'),
        delta: sql.placeholder('delta'),
        stockAfter: sql.placeholder('stockAfter'),
        reason: sql.placeholder('reason'),
        note: sql.placeholder('note'),
        adminUserId: sql.placeholder('adminUserId'),
        orderId: sql.placeholder('orderId'),
        createdAt: sql.placeholder('createdAt'),
      })
      .prepare(),
  )
const orderOfSession = () =>
  prepared('inventory.orderOfSession', (db) => db.select({ id: orders.id }).from(orders).where(eq(orders.stripeCheckoutSessionId, sql.placeholder('sessionId'))).prepare())

/**
 * The owner moves stock by `delta` (received a delivery, found breakage, counted the shelf).
 * Never below zero; a reason is required. Returns the stock after the change.
 */
export function adjust(tx: Tx, input: { variantId: number; delta: number; note: string; adminUserId: number | null }): { stockBefore: number; stockAfter: number } {
  if (!Number.isSafeInteger(input.delta) || input.delta === 0) throw new InvalidInput('The change must be a whole number other than zero.', 'delta')
  const row = tx
    .update(variants)
    .set({ stock: sql`${variants.stock} + ${input.delta}`, updatedAt: Date.now() })
    .where(and(eq(variants.id, input.variantId), sql`${variants.stock} + ${input.delta} >= 0`))
    .returning({ stock: variants.stock })
    .get()
  if (!row) {
    const current = tx.select({ stock: variants.stock }).from(variants).where(eq(variants.id, input.variantId)).get()
    if (!current) throw new NotFound('That variant')
    throw new InvalidInput(`Stock cannot go below zero (there are ${current.stock}, the change was ${input.delta}).`, 'delta')
  }
  ledger(tx, { variantId: input.variantId, delta: input.delta, stockAfter: row.stock, reason: 'adjust', note: input.note, adminUserId: input.adminUserId })
  announce([input.variantId])
  return { stockBefore: row.stock - input.delta, stockAfter: row.stock }
}

/** adjust(), by an admin, in its own transaction with its audit row. */
export function adjustByAdmin(actor: audit.Actor, input: { variantId: number; delta: number; note: string }): { stockBefore: number; stockAfter: number } {
  if (!input.note.trim()) throw new InvalidInput('Say why the stock changes (received, damaged, counted…).', 'note')
  return write((tx) => {
    const result = adjust(tx, { ...input, note: input.note.trim(), adminUserId: actor.id })
    audit.record(tx, actor, 'stock.adjust', `variant:${input.variantId}`, { stock: result.stockBefore }, { stock: result.stockAfter, delta: input.delta, note: input.note.trim() })
    return result
  })
}

/**
 * Moves stock from the figure the import read (`from`, in this same transaction) to the one
 * its file gives, with a ledger row naming the import. Conditional on `from`, so a figure
 * that moved under the import is never overwritten blind.
 */
export function setFromImport(tx: Tx, input: { variantId: number; from: number; to: number; note: string; adminUserId: number | null }): void {
  if (input.from === input.to) return
  const { changes } = tx
    .update(variants)
    .set({ stock: input.to, updatedAt: Date.now() })
    .where(and(eq(variants.id, input.variantId), eq(variants.stock, input.from)))
    .run()
  if (changes !== 1) throw new Error(`inventory: the stock of variant ${input.variantId} moved during an import`)
  ledger(tx, { variantId: input.variantId, delta: input.to - input.from, stockAfter: input.to, reason: 'import', note: input.note, adminUserId: input.adminUserId })
}

/**
 * After an import's stock moves (setFromImport, recordImported), in its transaction: every
 * page may show what changed, so one whole-catalog mark instead of one per variant, and the
 * stock alerts look once it commits.
 */
export function announceImported(): void {
  cache.markCatalogChanged()
  afterCommit('stockAlerts.scan', () => stockAlerts.scanIfWaiting())
}

/** The opening stock of variants an import created (inserted with it), as ledger rows, in batches. */
export function recordImported(tx: Tx, opened: { variantId: number; stock: number }[], note: string, adminUserId: number | null): void {
  const rows = opened.filter((o) => o.stock > 0).map((o) => ({ variantId: o.variantId, delta: o.stock, stockAfter: o.stock, reason: 'import' as const, note: note.slice(0, 500), adminUserId, orderId: null, createdAt: Date.now() }))
  for (let i = 0; i < rows.length; i += 500) tx.insert(stockLedger).values(rows.slice(i, i + 500)).run()
}

/** The opening stock of a new variant, as a ledger row so its history starts at zero. */
export function recordInitial(tx: Tx, variantId: number, stock: number, adminUserId: number | null): void {
  if (stock > 0) ledger(tx, { variantId, delta: stock, stockAfter: stock, reason: 'initial', adminUserId })
}

/** Units put back on the shelf from a refunded order. */
export function restockFromRefund(tx: Tx, input: { variantId: number; quantity: number; orderId: number; adminUserId: number | null }): boolean {
  if (!Number.isSafeInteger(input.quantity) || input.quantity <= 0) return false
  const row = tx
    .update(variants)
    .set({ stock: sql`${variants.stock} + ${input.quantity}`, updatedAt: Date.now() })
    .where(eq(variants.id, input.variantId))
    .returning({ stock: variants.stock })
    .get()
  if (!row) return false
  ledger(tx, { variantId: input.variantId, delta: input.quantity, stockAfter: row.stock, reason: 'refund_restock', orderId: input.orderId, adminUserId: input.adminUserId })
  announce([input.variantId])
  return true
}

export type LedgerRow = typeof stockLedger.$inferSelect & { adminEmail: string | null }

/** A variant's ledger, newest first, with the email of the admin behind each manual change. */
export function ledgerFor(variantId: number, limit = 50): LedgerRow[] {
  return getDb()
    .select({ row: stockLedger, adminEmail: adminUsers.email })
    .from(stockLedger)
    .leftJoin(adminUsers, eq(adminUsers.id, stockLedger.adminUserId))
    .where(eq(stockLedger.variantId, variantId))
    .orderBy(sql`${stockLedger.id} DESC`)
    .limit(limit)
    .all()
    .map(({ row, adminEmail }) => ({ ...row, adminEmail }))
}

/** Units held by active, unexpired holds, per variant. */
export function held(variantIds: number[], now = Date.now()): Map<number, number> {
  if (variantIds.length === 0) return new Map()
  const rows = getDb()
    .select({ variantId: stockHolds.variantId, quantity: sql<number>`sum(${stockHolds.quantity})` })
    .from(stockHolds)
    .where(and(inArray(stockHolds.variantId, variantIds), eq(stockHolds.status, 'active'), gt(stockHolds.expiresAt, now)))
    .groupBy(stockHolds.variantId)
    .all()
  return new Map(rows.map((r) => [r.variantId, Number(r.quantity)]))
}
