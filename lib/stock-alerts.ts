import 'server-only'
import { and, asc, eq, isNull, sql } from 'drizzle-orm'
import { unheldSqlText } from '@/db/stock-rules'
import { afterCommit, all, get, preparedGet, read, run, sqlAll, sqlGet, transaction, type Reader, type Statement, type Steps, type Tables, type Writer } from '@/db/tx'
import * as accounts from './accounts'
import { itemLabel } from './catalog'
import { getEnv } from './env'
import { InvalidInput, NotFound } from './errors'
import * as jobs from './jobs'
import { log } from './log'
import * as mail from './mail'
import { stockAlert } from './mail/stock-alert'
import * as optOuts from './mail-opt-outs'
import * as rateLimit from '@/lib/request/rate-limit'

// "Email me when it's back". A shopper leaves an address on a sold-out variant; the first
// time the variant can be sold again, whatever brought it back (an admin edit, a released
// hold, a refund restock, an import), scan() marks the request notified and queues its email
// job, keyed by the request, in one transaction. So a request gives one email at most, and a
// burst of stock changes queues nothing more. Sending claims the row first (sent_at), so the
// job running twice, or on two processes, still sends once.
//
// Written on db/tx.ts (decision 047), so it runs on both engines. On PostgreSQL, with several
// app servers scanning at once, the mark is one conditional UPDATE (`notified_at IS NULL`): a
// second scanner waits for the row and finds it marked, so each request is returned, and its
// email queued, by one scanner (the job's unique key would refuse a second one anyway). The
// claim is the same kind of update on `sent_at`.

export const MAIL_JOB = 'mail.stock_alert'

/** Leaves an address for a sold-out variant; the same answer for a repeat request. */
export async function subscribe(variantId: number, rawEmail: unknown, clientAddress: string | null, now = Date.now()): Promise<void> {
  const email = accounts.parseEmail(rawEmail)
  const variant = await read(() =>
    sqlGet<{ unheld: number | string }>(sql`
      SELECT ${sql.raw(unheldSqlText({ alias: 'v', now: String(Math.trunc(now)) }))} AS unheld
      FROM variants v JOIN products p ON p.id = v.product_id AND p.status = 'active'
      WHERE v.id = ${variantId}`),
  )
  if (!variant) throw new NotFound('That product option')
  if (Number(variant.unheld) > 0) throw new InvalidInput('Good news: it is in stock right now, so you can add it to your cart.')
  await rateLimit.takeStockAlertRequest(clientAddress, now)
  // A repeat of a waiting request meets its partial unique index and adds nothing.
  await transaction((tx, t) => run(tx.insert(t.stockAlerts).values({ variantId, email, createdAt: now }).onConflictDoNothing()))
}

/**
 * Marks every waiting request whose variant can be sold again as notified and queues its
 * email, as steps of the caller's transaction; how many it marked. "Can be sold again" is
 * inventory's rule before its floor at zero (db/stock-rules.ts), which changes nothing
 * against `> 0` and is text both engines accept.
 */
function* scanning(tx: Writer, t: Tables, now: number): Steps<number> {
  const due = yield* sqlAll<{ id: number | string }>(sql`
    UPDATE stock_alerts SET notified_at = ${now}
    WHERE notified_at IS NULL AND unsubscribed_at IS NULL AND variant_id IN (
      SELECT v.id FROM variants v JOIN products p ON p.id = v.product_id AND p.status = 'active'
      WHERE ${sql.raw(unheldSqlText({ alias: 'v', now: String(Math.trunc(now)) }))} > 0)
    RETURNING id`)
  for (const { id } of due) yield* jobs.enqueueing(tx, t, MAIL_JOB, { alertId: Number(id) }, { uniqueKey: `stock-alert:${Number(id)}` })
  return due.length
}

/** scanning() in a transaction of its own: after a stock change, and every minute for holds that lapse by the clock alone. */
export function scan(now = Date.now()): Promise<number> {
  return transaction((tx, t) => scanning(tx, t, now))
}

// Any request waiting at all: asked by every stock change that may bring units back, so it is
// prepared once per connection (decision 001). The partial unique index on waiting requests
// answers it.
const anyWaiting: Statement<null, { one: number }> = {
  name: 'stock_alerts.any_waiting',
  sqlite: { text: 'SELECT 1 AS one FROM stock_alerts WHERE notified_at IS NULL AND unsubscribed_at IS NULL LIMIT 1', values: () => [], row: () => ({ one: 1 }) },
  postgres: { text: 'SELECT 1 AS one FROM stock_alerts WHERE notified_at IS NULL AND unsubscribed_at IS NULL LIMIT 1', values: () => [], row: () => ({ one: 1 }) },
}

/**
 * A step of a transaction that may bring units back (a release, a restock, an edit): once it
 * commits, scan(), when any request is waiting. The look is made inside the transaction, so
 * the stock changes that find no request (most of them) cost no transaction of their own; the
 * scan runs after the commit, never inside the change, and its failure is logged, not the
 * change's (the minute's sweep looks again).
 */
export function* scanningAfterCommit(): Steps<void> {
  if (!(yield* preparedGet(anyWaiting, null))) return
  yield* afterCommit('stockAlerts.scan', () => {
    scan().catch((err: unknown) => log.error('stock alerts: the scan after a stock change failed', { err: String(err) }))
  })
}

/** scan(), when any request is waiting at all: the minute's sweep. */
export async function scanIfWaiting(now = Date.now()): Promise<number> {
  const isWaiting = await read(() => preparedGet(anyWaiting, null))
  return isWaiting ? scan(now) : 0
}

type Claimed = { email: string; variantId: number; slug: string | null; title: string | null; variantTitle: string | null }

/**
 * Sends one request's email, once: the row is claimed (sent_at) in a transaction that commits
 * before the email goes out, so a second run, here or on another app server, finds it taken.
 * A failed send gives this claim back (and only this one: its unsubscribe hash) for the retry.
 * Returns whether this call sent it.
 */
export async function send(alertId: number, now = Date.now()): Promise<boolean> {
  const { token, hash } = optOuts.newToken()
  const claimed = await transaction(function* (tx, t): Steps<Claimed | null> {
    const row = yield* sqlGet<{ email: string; variantId: number | string }>(sql`
      UPDATE stock_alerts SET sent_at = ${now}, unsubscribe_hash = ${hash}
      WHERE id = ${alertId} AND sent_at IS NULL AND unsubscribed_at IS NULL AND NOT ${optOuts.isOptedOutSql(sql`stock_alerts.email`, 'stock_alert')}
      RETURNING email, variant_id AS "variantId"`)
    if (!row) return null
    const variantId = Number(row.variantId)
    const item = yield* get(
      tx
        .select({ slug: t.products.slug, title: t.products.title, variantTitle: t.variants.title })
        .from(t.variants)
        .innerJoin(t.products, eq(t.products.id, t.variants.productId))
        .where(eq(t.variants.id, variantId))
        .limit(1),
    )
    return { email: row.email, variantId, slug: item?.slug ?? null, title: item?.title ?? null, variantTitle: item?.variantTitle ?? null }
  })
  if (!claimed) return false
  try {
    if (claimed.slug === null || claimed.title === null) throw new Error(`variant ${claimed.variantId} is gone`)
    const link = `${getEnv().appUrl}/products/${claimed.slug}?variant=${claimed.variantId}`
    await mail.send(stockAlert({ to: claimed.email, item: itemLabel(claimed.title, claimed.variantTitle), link, unsubscribeUrl: optOuts.url(token), id: `stock-alert-${alertId}` }))
    return true
  } catch (err) {
    await transaction((tx, t) =>
      run(tx.update(t.stockAlerts).set({ sentAt: null, unsubscribeHash: null }).where(and(eq(t.stockAlerts.id, alertId), eq(t.stockAlerts.unsubscribeHash, hash)))),
    )
    log.warn('stock alerts: send failed; the claim is given back for the retry', { alertId, err: String(err) })
    throw err
  }
}

/** Requests still waiting, per variant id: what the admin sees. */
export async function waitingByVariant(): Promise<Map<number, number>> {
  const rows = await read((db, t) =>
    all(
      db
        .select({ variantId: t.stockAlerts.variantId, n: sql<number | string>`count(*)` })
        .from(t.stockAlerts)
        .where(and(isNull(t.stockAlerts.notifiedAt), isNull(t.stockAlerts.unsubscribedAt)))
        .groupBy(t.stockAlerts.variantId),
    ),
  )
  return new Map(rows.map((r) => [Number(r.variantId), Number(r.n)]))
}

function* forEmailReading(db: Reader, t: Tables, email: string) {
  const { stockAlerts } = t
  return yield* all(
    db
      .select({ variantId: stockAlerts.variantId, createdAt: stockAlerts.createdAt, notifiedAt: stockAlerts.notifiedAt, sentAt: stockAlerts.sentAt, unsubscribedAt: stockAlerts.unsubscribedAt })
      .from(stockAlerts)
      .where(eq(stockAlerts.email, email))
      .orderBy(asc(stockAlerts.id)),
  )
}

/** An address's requests, for the shopper's data download. */
export function forEmail(email: string) {
  return read((db, t) => forEmailReading(db, t, email))
}
