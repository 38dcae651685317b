import 'server-only'
import { and, eq, getTableName, gt, inArray, lte, sql, type SQL } from 'drizzle-orm'
import { type Tx } from '@/db'
import { stockLedger, type StockReason } from '@/db/schema'
import { availableSqlText, unheldSqlText } from '@/db/stock-rules'
import { all, get, preparedAll, preparedGet, preparedRun, read, readNow, run, runNow, serialize, sqlGet, statementOf, transaction, type Reader, type Steps, type Tables, type Writer } from '@/db/tx'
import * as audit from './audit'
import * as cache from './cache'
import { HoldLimit, InvalidInput, NotFound, OutOfStock } from './errors'
import * as stockAlerts from './stock-alerts'

// Stock is `variants.stock` (units on the shelf); a hold reserves units for a checkout that
// has not been paid yet. Available = stock - active, unexpired holds, never below zero; that
// rule is written once (db/stock-rules.ts), and every query that shows or checks availability uses it.
// Every change is a single SQL statement inside the caller's transaction, never
// read-then-write JS, and marks itself (cache.markingStockChanged) in the same transaction.
// Every change of `stock` also writes a stock_ledger row (who, why, delta, stock after) in the
// same transaction, so the shelf count can always be explained.
//
// The changes are steps of a transaction body (db/tx.ts, decision 047), so they run on both
// engines; those still called inside a SQLite write() keep their synchronous name as a runNow
// wrapper. On PostgreSQL, under READ COMMITTED with several app servers writing:
// - a stock change is one conditional UPDATE (`WHERE stock + delta >= 0`): a second writer
//   waits for the row and evaluates its condition again on the row the first committed;
// - a release is `UPDATE … WHERE status = 'active'`, so of two releases of one hold the
//   second finds it released and touches nothing;
// - a hold is an INSERT decided by a read of other holds, with no row of its own to lock
//   yet: holds of one variant take turns (holdTurns) until each commits, so each sees the
//   holds committed before it. On SQLite BEGIN IMMEDIATE already does.

export const HOLD_MINUTES = 30

/** The one definition of "available" (db/stock-rules.ts), for SQL built elsewhere. */
export { availableSqlText }

/** The same rule for drizzle queries at time `now`. */
export function availableSql(now: number, alias = 'v'): SQL<number> {
  return sql<number>`${sql.raw(availableSqlText({ alias, now: String(Math.trunc(now)) }))}`
}

/** Units of one variant not held at `now`, before the floor at zero (null for no such variant): text both engines accept. */
function unheldOfSql(variantId: number, now: number): SQL<number | null> {
  return sql<number | null>`(SELECT ${sql.raw(unheldSqlText({ alias: 'v', now: String(Math.trunc(now)) }))} FROM variants v WHERE v.id = ${variantId})`
}

/**
 * Marks these variants' availability as changed, in the transaction that changed it: the
 * caches drop the pages that show them once it commits, in this process and the others; and
 * the stock alerts look, after the commit, for requests whose variant can be sold again.
 */
function* announcing(tx: Writer, t: Tables, variantIds: readonly number[]): Steps<void> {
  yield* cache.markingStockChanged(tx, t, variantIds)
  yield* stockAlerts.scanningAfterCommit()
}

/**
 * The same for a change that only takes units (a hold placed or kept, a sale): nothing can
 * have come back, so the stock alerts have nothing to look for. (Their look cost a query after
 * every order; a hold released along the way announces itself, with the look.)
 */
function* announcingTaken(tx: Writer, t: Tables, variantIds: readonly number[]): Steps<void> {
  yield* cache.markingStockChanged(tx, t, variantIds)
}

/**
 * Units that can still be sold, per variant id (missing ids are absent from the map): a read
 * step for a body on either engine. The floor at zero is taken here, not in SQL: SQLite's
 * two-argument max() has no PostgreSQL twin, and unheldSqlText is text both accept.
 */
export function* availableIn(db: Reader, t: Tables, variantIds: number[], now = Date.now()): Steps<Map<number, number>> {
  if (variantIds.length === 0) return new Map()
  const rows = yield* all(
    db
      .select({ id: t.variants.id, unheld: unheldSql(now, t.variants) })
      .from(t.variants)
      .where(inArray(t.variants.id, variantIds)),
  )
  return new Map(rows.map((r) => [Number(r.id), Math.max(Number(r.unheld), 0)]))
}

/** availableIn, synchronously on SQLite: the synchronous tests of order intake and stock read it, and bench/catalog-reads.ts's baseline. */
export function available(variantIds: number[], now = Date.now()): Map<number, number> {
  return readNow((db, t) => availableIn(db, t, variantIds, now))
}

export function availableOne(variantId: number, now = Date.now()): number {
  return available([variantId], now).get(variantId) ?? 0
}

/** "Available" before its floor at zero, over `variants` (as the engine's table, so the alias is its name). */
function unheldSql(now: number, table: Tables['variants']): SQL<number | string> {
  return sql<number | string>`${sql.raw(unheldSqlText({ alias: getTableName(table), now: String(Math.trunc(now)) }))}`
}

/** A visitor's bound on holds: their key (a hash of the client address; null when unknown) and share. */
export type VisitorBound = { clientKey: string | null; maxSharePercent: number }

/**
 * Units of a variant one visitor may hold at once: their share of the units on the shelf
 * (held or not, so the bound does not shrink as others hold), and never less than one, so
 * the last unit can still be bought. (CASE, not SQLite's two-argument max(): both engines.)
 */
function allowanceSql(variantId: number, maxSharePercent: number): SQL<number> {
  const share = sql`coalesce((SELECT stock FROM variants WHERE id = ${variantId}), 0) * ${maxSharePercent} / 100`
  return sql<number>`(CASE WHEN ${share} > 1 THEN ${share} ELSE 1 END)`
}

/** Units of a variant the active, unexpired holds matching `who` reserve. */
function heldBySql(variantId: number, who: SQL, now: number): SQL<number> {
  return sql<number>`coalesce((SELECT sum(quantity) FROM stock_holds WHERE variant_id = ${variantId} AND status = 'active' AND expires_at > ${now} AND ${who}), 0)`
}

/**
 * Makes the transactions that place holds on these variants take turns until each commits
 * (db/tx.ts serialize): a hold is decided by reading the others, and under PostgreSQL's READ
 * COMMITTED two servers would otherwise both read the last unit free. In id order, so two
 * checkouts of the same variants never wait for each other crosswise. Every statement that
 * places a hold takes its turn first. A body that releases holds before placing others takes
 * the turns before the release: the release's mark takes the change lock (decision 044), and
 * a transaction holding it while it waits for a turn deadlocks with one holding the turn and
 * waiting to mark.
 */
export function* holdTurns(variantIds: readonly number[]): Steps<void> {
  for (const id of [...new Set(variantIds)].sort((a, b) => a - b)) yield* serialize(`inventory.hold:${id}`)
}

type HoldsInput = { cartId: string; lines: { variantId: number; quantity: number; label?: string }[]; expiresAt: number; now?: number; visitor?: VisitorBound }

/**
 * Places one hold per line or throws OutOfStock for the first line that is short. With
 * `visitor`, a line is also refused (HoldLimit) when it would take this cart, or this client
 * address over all its carts, past its share of the variant: one visitor cannot hold
 * everything and show "Sold out" to everyone else. Quantities are positive (cart lines are).
 */
export function* placingHolds(tx: Writer, t: Tables, input: HoldsInput): Steps<number[]> {
  const now = input.now ?? Date.now()
  const ids: number[] = []
  const visitor = input.visitor && input.visitor.maxSharePercent < 100 ? input.visitor : null
  yield* holdTurns(input.lines.map((l) => l.variantId))
  for (const line of input.lines) {
    const withinShare = (who: SQL) => sql`${heldBySql(line.variantId, who, now)} + ${line.quantity} <= ${allowanceSql(line.variantId, visitor!.maxSharePercent)}`
    const bound = visitor
      ? sql` AND ${withinShare(sql`cart_id = ${input.cartId}`)}${visitor.clientKey ? sql` AND ${withinShare(sql`client_key = ${visitor.clientKey}`)}` : sql``}`
      : sql``
    // CASTs: PostgreSQL types a SELECT list's parameters as text, not as the columns they fill
    const inserted = yield* sqlGet<{ id: number | string }>(sql`
      INSERT INTO ${t.stockHolds} (variant_id, cart_id, client_key, quantity, status, expires_at, created_at)
      SELECT CAST(${line.variantId} AS bigint), CAST(${input.cartId} AS text), CAST(${visitor?.clientKey ?? null} AS text), CAST(${line.quantity} AS integer), 'active',
        CAST(${input.expiresAt} AS bigint), CAST(${now} AS bigint)
      WHERE ${unheldOfSql(line.variantId, now)} >= ${line.quantity}${bound}
      RETURNING id`)
    if (!inserted) {
      const row = yield* sqlGet<{ unheld: number | string | null }>(sql`SELECT ${unheldOfSql(line.variantId, now)} AS unheld`)
      const available = Math.max(Number(row?.unheld ?? 0), 0)
      if (visitor && available >= line.quantity) {
        const allowed = yield* sqlGet<{ allowed: number | string }>(sql`SELECT ${allowanceSql(line.variantId, visitor.maxSharePercent)} AS allowed`)
        throw new HoldLimit(line.variantId, Number(allowed!.allowed), line.quantity, line.label)
      }
      throw new OutOfStock(line.variantId, available, line.quantity, line.label)
    }
    ids.push(Number(inserted.id))
  }
  yield* announcingTaken(tx, t, input.lines.map((l) => l.variantId))
  return ids
}

/** placingHolds, inside a synchronous write() on SQLite (order intake's and stock's synchronous tests, and the benches' baselines; checkout uses the step). */
export function placeHolds(tx: Tx, input: HoldsInput): number[] {
  return runNow(tx, (w, t) => placingHolds(w, t, input))
}

/** Tags the holds with their session; returns how many were still active (fewer: the checkout was superseded meanwhile). */
export function* attachingSession(tx: Writer, t: Tables, holdIds: number[], sessionId: string): Steps<number> {
  if (holdIds.length === 0) return 0
  yield* run(tx.update(t.stockHolds).set({ stripeCheckoutSessionId: sessionId }).where(inArray(t.stockHolds.id, holdIds)))
  return (yield* all(tx.select({ id: t.stockHolds.id }).from(t.stockHolds).where(and(inArray(t.stockHolds.id, holdIds), eq(t.stockHolds.status, 'active'))))).length
}

/** attachingSession, inside a synchronous write() on SQLite. */
export function attachSession(tx: Tx, holdIds: number[], sessionId: string): number {
  return runNow(tx, (w, t) => attachingSession(w, t, holdIds, sessionId))
}

/** True when a checkout started here holds (or held) stock for this Checkout Session. */
export function* hasSessionIn(db: Reader, t: Tables, sessionId: string): Steps<boolean> {
  return (yield* get(db.select({ id: t.stockHolds.id }).from(t.stockHolds).where(eq(t.stockHolds.stripeCheckoutSessionId, sessionId)).limit(1))) !== undefined
}

export function hasSession(sessionId: string): Promise<boolean> {
  return read((db, t) => hasSessionIn(db, t, sessionId))
}

/**
 * Releases the active holds `where` picks; the one place a hold goes back to the shelf. A
 * hold released by a concurrent transaction is no longer active when this one reaches it, so
 * it is released (and announced) once.
 */
function* releasing(tx: Writer, t: Tables, where: SQL | undefined): Steps<{ variantId: number; sessionId: string | null }[]> {
  return yield* announcingReleased(tx, t, yield* all(releaseQuery(tx, t, where)))
}

function releaseQuery(tx: Writer, t: Tables, where: SQL | undefined) {
  return tx
    .update(t.stockHolds)
    .set({ status: 'released' })
    .where(and(eq(t.stockHolds.status, 'active'), where))
    .returning({ variantId: t.stockHolds.variantId, sessionId: t.stockHolds.stripeCheckoutSessionId })
}

function* announcingReleased<R extends { variantId: number }>(tx: Writer, t: Tables, rows: R[]): Steps<R[]> {
  if (rows.length) yield* announcing(tx, t, rows.map((r) => r.variantId))
  return rows
}

/** Releases these holds, if still active; how many it released. */
export function* releasingHolds(tx: Writer, t: Tables, holdIds: number[]): Steps<number> {
  if (holdIds.length === 0) return 0
  return (yield* releasing(tx, t, inArray(t.stockHolds.id, holdIds))).length
}

/** releasingHolds, inside a synchronous write() on SQLite. */
export function releaseHolds(tx: Tx, holdIds: number[]): number {
  return runNow(tx, (w, t) => releasingHolds(w, t, holdIds))
}

/** Releases the active holds of a Checkout Session (it expired, or its payment failed, or the sale took what it bought). */
export function* releasingForSession(tx: Writer, t: Tables, sessionId: string): Steps<number> {
  // Every paid order runs it (committingSale): a prepared statement, the same rule as releasing()'s.
  return (yield* announcingReleased(tx, t, yield* preparedAll(saleStatements.releaseOfSession, { sessionId }))).length
}

/** releasingForSession, inside a synchronous write() on SQLite (checkout, until it is converted). */
export function releaseForSession(tx: Tx, sessionId: string): number {
  return runNow(tx, (w, t) => releasingForSession(w, t, sessionId))
}

/**
 * The Checkout Sessions this cart's active, unexpired holds reserve units for. Until Stripe
 * says such a session can no longer be paid (expired, or expire succeeded), its holds stay.
 */
export function* openSessionsIn(db: Reader, t: Tables, cartId: string, now = Date.now()): Steps<string[]> {
  const rows = yield* all(
    db
      .selectDistinct({ sessionId: t.stockHolds.stripeCheckoutSessionId })
      .from(t.stockHolds)
      .where(and(eq(t.stockHolds.cartId, cartId), eq(t.stockHolds.status, 'active'), gt(t.stockHolds.expiresAt, now), sql`${t.stockHolds.stripeCheckoutSessionId} IS NOT NULL`)),
  )
  return rows.map((r) => r.sessionId!).filter(Boolean)
}

/**
 * Releases the cart's holds that no open session is paid against: holds never tagged with a
 * session, and holds past their expiry (their session expired before them). Holds of a
 * session Stripe may still take payment for are left alone; see openSessionsIn.
 */
export function* releasingUnboundForCart(tx: Writer, t: Tables, cartId: string, now = Date.now()): Steps<number> {
  return (yield* releasing(tx, t, and(eq(t.stockHolds.cartId, cartId), sql`(${t.stockHolds.stripeCheckoutSessionId} IS NULL OR ${t.stockHolds.expiresAt} <= ${now})`))).length
}

/** releasingUnboundForCart, inside a synchronous write() on SQLite (the cache's synchronous tests; cart and checkout use the step). */
export function releaseUnboundForCart(tx: Tx, cartId: string, now = Date.now()): number {
  return runNow(tx, (w, t) => releasingUnboundForCart(w, t, cartId, now))
}

/** Expired holds stop counting at once (see availableSqlText); this tidies their status. */
export function* releasingExpired(tx: Writer, t: Tables, now = Date.now()): Steps<number> {
  return (yield* releasing(tx, t, lte(t.stockHolds.expiresAt, now))).length
}


/**
 * The expiry of a hold kept for a payment that has not settled (a bank debit can take days):
 * it lasts until Stripe says the payment succeeded (committingSale) or failed (releasingForSession).
 */
const UNTIL_SETTLED = 8_640_000_000_000_000

/**
 * A completed session whose payment is still processing keeps its units until it settles.
 * A line whose hold is still live keeps it, now until settled. A line whose hold ran out (the
 * completion arrived late, or the shopper took long on the bank's page) takes the units again
 * when they are still available; otherwise it is reported short, for the owner to decide.
 */
export function* keepingUntilSettled(tx: Writer, t: Tables, sessionId: string, lines: { variantId: number; quantity: number }[], now = Date.now()): Steps<{ shortVariantIds: number[] }> {
  const shortVariantIds: number[] = []
  yield* holdTurns(lines.map((l) => l.variantId))
  for (const line of lines) {
    const { changes: kept } = yield* run(
      tx
        .update(t.stockHolds)
        .set({ expiresAt: UNTIL_SETTLED })
        .where(and(eq(t.stockHolds.stripeCheckoutSessionId, sessionId), eq(t.stockHolds.variantId, line.variantId), eq(t.stockHolds.status, 'active'), gt(t.stockHolds.expiresAt, now))),
    )
    if (kept > 0) continue
    // Its hold ran out: that record goes, and the units are taken again if nobody else has them.
    yield* releasing(tx, t, and(eq(t.stockHolds.stripeCheckoutSessionId, sessionId), eq(t.stockHolds.variantId, line.variantId)))
    const held = yield* sqlGet(sql`
      INSERT INTO ${t.stockHolds} (variant_id, quantity, status, expires_at, stripe_checkout_session_id, created_at)
      SELECT CAST(${line.variantId} AS bigint), CAST(${line.quantity} AS integer), 'active', CAST(${UNTIL_SETTLED} AS bigint), CAST(${sessionId} AS text), CAST(${now} AS bigint)
      WHERE ${unheldOfSql(line.variantId, now)} >= ${line.quantity}
      RETURNING id`)
    if (!held) shortVariantIds.push(line.variantId)
  }
  if (lines.length) yield* announcingTaken(tx, t, lines.map((l) => l.variantId))
  return { shortVariantIds }
}

/**
 * Turns what a paid session bought into stock decrements, as a step of the intake's
 * transaction, which runs it once per order (whoever sets orders.stock_taken_at). A line
 * covered by this session's hold converts the hold; a line without one (a Payment Link, or a
 * hold that was released) decrements directly. Stock never goes below zero: a short line
 * decrements what is there and reports the shortfall, so the caller records the paid order and
 * flags it oversold. Each decrement is one conditional UPDATE, so on PostgreSQL a sale and any
 * other change of the same variant on another server wait for each other's row, never lose one.
 */
export function* committingSale(tx: Writer, t: Tables, sessionId: string, orderId: number | null, lines: { variantId: number; quantity: number }[]): Steps<{ shortVariantIds: number[] }> {
  const shortVariantIds: number[] = []
  const holds = yield* preparedAll(saleStatements.holdsOf, { sessionId })
  const now = Date.now()
  for (const line of lines) {
    const hold = holds.find((h) => h.variantId === line.variantId && h.status !== 'converted')
    if (hold) yield* preparedRun(saleStatements.convertHold, { id: hold.id })
    const taken = yield* preparedGet(saleStatements.take, { variantId: line.variantId, quantity: line.quantity, now })
    if (taken) {
      yield* preparedRun(saleStatements.ledger, ledgerValues({ variantId: line.variantId, delta: -line.quantity, stockAfter: taken.stock, reason: 'sale', note: sessionId, orderId }))
    } else {
      shortVariantIds.push(line.variantId)
      const left = yield* takingWhatIsLeft(tx, t, line.variantId, now)
      if (left > 0) {
        yield* preparedRun(saleStatements.ledger, ledgerValues({ variantId: line.variantId, delta: -left, stockAfter: 0, reason: 'sale', note: `${sessionId} (oversold by ${line.quantity - left})`, orderId }))
      }
    }
  }
  // Any hold of this session not matched by a line (the session bought less) is released.
  yield* releasingForSession(tx, t, sessionId)
  // units taken: no stock alert look
  if (lines.length) yield* announcingTaken(tx, t, lines.map((l) => l.variantId))
  return { shortVariantIds }
}

/**
 * A short line takes what is on the shelf: how many units that was. Set by compare and set
 * (`WHERE stock =` the figure read), so the ledger's delta is what this transaction took even
 * when another server changed the stock between the read and the write; the loser reads again.
 */
function* takingWhatIsLeft(tx: Writer, t: Tables, variantId: number, now: number): Steps<number> {
  for (;;) {
    const row = yield* get(tx.select({ stock: t.variants.stock }).from(t.variants).where(eq(t.variants.id, variantId)))
    if (!row || row.stock <= 0) return 0
    const { changes } = yield* run(tx.update(t.variants).set({ stock: 0, updatedAt: now }).where(and(eq(t.variants.id, variantId), eq(t.variants.stock, row.stock))))
    if (changes === 1) return row.stock
  }
}

// Every paid order runs these (committingSale): prepared once per connection (decision 001),
// one text for both engines.
const saleStatements = {
  holdsOf: statementOf<{ sessionId: string }, { id: number; variantId: number; status: string }>(
    'inventory.holdsOfSession',
    'SELECT id, variant_id AS "variantId", status FROM stock_holds WHERE stripe_checkout_session_id = @sessionId ORDER BY id',
    (raw) => ({ id: Number(raw.id), variantId: Number(raw.variantId), status: raw.status as string }),
  ),
  convertHold: statementOf<{ id: number }>('inventory.convertHold', `UPDATE stock_holds SET status = 'converted' WHERE id = @id AND status != 'converted'`),
  take: statementOf<{ variantId: number; quantity: number; now: number }, { stock: number }>(
    'inventory.take',
    'UPDATE variants SET stock = stock - @quantity, updated_at = @now WHERE id = @variantId AND stock >= @quantity RETURNING stock',
    (raw) => ({ stock: Number(raw.stock) }),
  ),
  ledger: statementOf<ReturnType<typeof ledgerValues>>(
    'inventory.ledger',
    `INSERT INTO stock_ledger (variant_id, delta, stock_after, reason, note, admin_user_id, order_id, created_at)
      VALUES (@variantId, @delta, @stockAfter, @reason, @note, @adminUserId, @orderId, @createdAt)`,
  ),
  releaseOfSession: statementOf<{ sessionId: string }, { variantId: number; sessionId: string | null }>(
    'inventory.releaseOfSession',
    `UPDATE stock_holds SET status = 'released' WHERE status = 'active' AND stripe_checkout_session_id = @sessionId
      RETURNING variant_id AS "variantId", stripe_checkout_session_id AS "sessionId"`,
    (raw) => ({ variantId: Number(raw.variantId), sessionId: (raw.sessionId as string | null) ?? null }),
  ),
}

// ---------------------------------------------------------------------------------------
// The stock ledger

type LedgerEntry = { variantId: number; delta: number; stockAfter: number; reason: StockReason; note?: string; adminUserId?: number | null; orderId?: number | null }

const ledgerValues = (entry: LedgerEntry) => ({ ...entry, note: (entry.note ?? '').slice(0, 500), adminUserId: entry.adminUserId ?? null, orderId: entry.orderId ?? null, createdAt: Date.now() })

function* ledgering(tx: Writer, t: Tables, entry: LedgerEntry): Steps<void> {
  yield* run(tx.insert(t.stockLedger).values(ledgerValues(entry)))
}

type Adjustment = { variantId: number; delta: number; note: string; adminUserId: number | null }

/**
 * The owner moves stock by `delta` (received a delivery, found breakage, counted the shelf).
 * Never below zero; a reason is required. Returns the stock after the change.
 */
export function* adjusting(tx: Writer, t: Tables, input: Adjustment): Steps<{ stockBefore: number; stockAfter: number }> {
  if (!Number.isSafeInteger(input.delta) || input.delta === 0) throw new InvalidInput('The change must be a whole number other than zero.', 'delta')
  const row = yield* get(
    tx
      .update(t.variants)
      .set({ stock: sql`${t.variants.stock} + ${input.delta}`, updatedAt: Date.now() })
      .where(and(eq(t.variants.id, input.variantId), sql`${t.variants.stock} + ${input.delta} >= 0`))
      .returning({ stock: t.variants.stock }),
  )
  if (!row) {
    const current = yield* get(tx.select({ stock: t.variants.stock }).from(t.variants).where(eq(t.variants.id, input.variantId)))
    if (!current) throw new NotFound('That variant')
    throw new InvalidInput(`Stock cannot go below zero (there are ${current.stock}, the change was ${input.delta}).`, 'delta')
  }
  yield* ledgering(tx, t, { variantId: input.variantId, delta: input.delta, stockAfter: row.stock, reason: 'adjust', note: input.note, adminUserId: input.adminUserId })
  yield* announcing(tx, t, [input.variantId])
  return { stockBefore: row.stock - input.delta, stockAfter: row.stock }
}

/** adjusting, by an admin, in its own transaction with its audit row. */
export async function adjustByAdmin(actor: audit.Actor, input: { variantId: number; delta: number; note: string }): Promise<{ stockBefore: number; stockAfter: number }> {
  const note = input.note.trim()
  if (!note) throw new InvalidInput('Say why the stock changes (received, damaged, counted…).', 'note')
  return transaction(function* (tx, t) {
    const result = yield* adjusting(tx, t, { ...input, note, adminUserId: actor.id })
    yield* audit.recording(tx, t, actor, 'stock.adjust', `variant:${input.variantId}`, { stock: result.stockBefore }, { stock: result.stockAfter, delta: input.delta, note })
    return result
  })
}

type ImportedStock = { variantId: number; from: number; to: number; note: string; adminUserId: number | null }

/**
 * Moves stock from the figure the import read (`from`, in this same transaction) to the one
 * its file gives, with a ledger row naming the import. Conditional on `from`, so a figure
 * that moved under the import is never overwritten blind.
 */
export function* settingFromImport(tx: Writer, t: Tables, input: ImportedStock): Steps<void> {
  if (input.from === input.to) return
  const { changes } = yield* run(
    tx
      .update(t.variants)
      .set({ stock: input.to, updatedAt: Date.now() })
      .where(and(eq(t.variants.id, input.variantId), eq(t.variants.stock, input.from))),
  )
  // Only PostgreSQL lets a sale commit between the import's read and this update (READ
  // COMMITTED, another app server): the import is refused whole, and applying it again reads anew.
  if (changes !== 1) throw new InvalidInput('The stock of a variant changed (a sale) while the import was being applied, so nothing was changed. Apply the import again.')
  yield* ledgering(tx, t, { variantId: input.variantId, delta: input.to - input.from, stockAfter: input.to, reason: 'import', note: input.note, adminUserId: input.adminUserId })
}

/**
 * After an import's stock moves (settingFromImport, recordingImported), in its transaction:
 * every page may show what changed, so one whole-catalog mark instead of one per variant, and
 * the stock alerts look once it commits.
 */
export function* announcingImported(tx: Writer, t: Tables): Steps<void> {
  yield* cache.markingCatalogChanged(tx, t)
  yield* stockAlerts.scanningAfterCommit()
}

/** The opening stock of variants an import created (inserted with it), as ledger rows, in batches. */
export function* recordingImported(tx: Writer, t: Tables, opened: { variantId: number; stock: number }[], note: string, adminUserId: number | null): Steps<void> {
  const rows = opened.filter((o) => o.stock > 0).map((o) => ledgerValues({ variantId: o.variantId, delta: o.stock, stockAfter: o.stock, reason: 'import', note, adminUserId }))
  for (let i = 0; i < rows.length; i += 500) yield* run(tx.insert(t.stockLedger).values(rows.slice(i, i + 500)))
}

/** The opening stock of a new variant, as a ledger row so its history starts at zero. */
export function* recordingInitial(tx: Writer, t: Tables, variantId: number, stock: number, adminUserId: number | null): Steps<void> {
  if (stock > 0) yield* ledgering(tx, t, { variantId, delta: stock, stockAfter: stock, reason: 'initial', adminUserId })
}

type Restock = { variantId: number; quantity: number; orderId: number; adminUserId: number | null }

/** Units put back on the shelf from a refunded order. */
export function* restockingFromRefund(tx: Writer, t: Tables, input: Restock): Steps<boolean> {
  if (!Number.isSafeInteger(input.quantity) || input.quantity <= 0) return false
  const row = yield* get(
    tx
      .update(t.variants)
      .set({ stock: sql`${t.variants.stock} + ${input.quantity}`, updatedAt: Date.now() })
      .where(eq(t.variants.id, input.variantId))
      .returning({ stock: t.variants.stock }),
  )
  if (!row) return false
  yield* ledgering(tx, t, { variantId: input.variantId, delta: input.quantity, stockAfter: row.stock, reason: 'refund_restock', orderId: input.orderId, adminUserId: input.adminUserId })
  yield* announcing(tx, t, [input.variantId])
  return true
}

export type LedgerRow = typeof stockLedger.$inferSelect & { adminEmail: string | null }

/** A variant's ledger, newest first, with the email of the admin behind each manual change. */
export function ledgerFor(variantId: number, limit = 50): Promise<LedgerRow[]> {
  return read(function* (db, t) {
    const rows = yield* all(
      db
        .select({ row: t.stockLedger, adminEmail: t.adminUsers.email })
        .from(t.stockLedger)
        .leftJoin(t.adminUsers, eq(t.adminUsers.id, t.stockLedger.adminUserId))
        .where(eq(t.stockLedger.variantId, variantId))
        .orderBy(sql`${t.stockLedger.id} DESC`)
        .limit(limit),
    )
    return rows.map(({ row, adminEmail }) => ({ ...row, adminEmail }))
  })
}

/** Units held by active, unexpired holds, per variant: a read step for either engine. */
export function* heldIn(db: Reader, t: Tables, variantIds: number[], now = Date.now()): Steps<Map<number, number>> {
  if (variantIds.length === 0) return new Map()
  const rows = yield* all(
    db
      .select({ variantId: t.stockHolds.variantId, quantity: sql<number | string>`sum(${t.stockHolds.quantity})` })
      .from(t.stockHolds)
      .where(and(inArray(t.stockHolds.variantId, variantIds), eq(t.stockHolds.status, 'active'), gt(t.stockHolds.expiresAt, now)))
      .groupBy(t.stockHolds.variantId),
  )
  return new Map(rows.map((r) => [Number(r.variantId), Number(r.quantity)]))
}
