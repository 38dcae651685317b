import 'server-only'
import { and, asc, eq, isNull, sql } from 'drizzle-orm'
import { getDb, write } from '@/db'
import { products, stockAlerts, variants } from '@/db/schema'
import * as accounts from './accounts'
import { itemLabel } from './catalog'
import { getEnv } from './env'
import { InvalidInput, NotFound } from './errors'
import * as inventory from './inventory'
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

export const MAIL_JOB = 'mail.stock_alert'

/** Leaves an address for a sold-out variant; the same answer for a repeat request. */
export async function subscribe(variantId: number, rawEmail: unknown, clientAddress: string | null, now = Date.now()): Promise<void> {
  const email = accounts.parseEmail(rawEmail)
  const variant = getDb()
    .select({ id: variants.id })
    .from(variants)
    .innerJoin(products, and(eq(products.id, variants.productId), eq(products.status, 'active')))
    .where(eq(variants.id, variantId))
    .get()
  if (!variant) throw new NotFound('That product option')
  if (inventory.availableOne(variantId, now) > 0) throw new InvalidInput('Good news: it is in stock right now, so you can add it to your cart.')
  await rateLimit.takeStockAlertRequest(clientAddress, now)
  write((tx) => tx.insert(stockAlerts).values({ variantId, email, createdAt: now }).onConflictDoNothing().run())
}

/**
 * Marks every waiting request whose variant can be sold again as notified and queues its
 * email, in one immediate transaction. Runs after every stock change commits, and every
 * minute for holds that lapse by the clock alone.
 */
export function scan(now = Date.now()): number {
  return write((tx) => {
    const due = tx.all<{ id: number }>(sql`
      UPDATE stock_alerts SET notified_at = ${now}
      WHERE notified_at IS NULL AND unsubscribed_at IS NULL AND variant_id IN (
        SELECT v.id FROM variants v JOIN products p ON p.id = v.product_id AND p.status = 'active'
        WHERE ${inventory.availableSql(now)} > 0)
      RETURNING id`)
    for (const { id } of due) jobs.enqueue(tx, MAIL_JOB, { alertId: id }, { uniqueKey: `stock-alert:${id}` })
    return due.length
  })
}

/** scan(), when any request is waiting at all (most stock changes find none). */
export function scanIfWaiting(now = Date.now()): number {
  const isWaiting = getDb().select({ id: stockAlerts.id }).from(stockAlerts).where(and(isNull(stockAlerts.notifiedAt), isNull(stockAlerts.unsubscribedAt))).limit(1).get()
  return isWaiting ? scan(now) : 0
}

/**
 * Sends one request's email, once: the row is claimed (sent_at) before the email goes out,
 * so a second run finds it taken. A failed send gives the claim back for the retry.
 * Returns whether this call sent it.
 */
export async function send(alertId: number, now = Date.now()): Promise<boolean> {
  const { token, hash } = optOuts.newToken()
  const claimed = write((tx) =>
    tx.get<{ email: string; variantId: number }>(sql`
      UPDATE stock_alerts SET sent_at = ${now}, unsubscribe_hash = ${hash}
      WHERE id = ${alertId} AND sent_at IS NULL AND unsubscribed_at IS NULL AND NOT ${optOuts.isOptedOutSql(sql`stock_alerts.email`, 'stock_alert')}
      RETURNING email, variant_id AS variantId`),
  )
  if (!claimed) return false
  const item = getDb()
    .select({ slug: products.slug, title: products.title, variantTitle: variants.title })
    .from(variants)
    .innerJoin(products, eq(products.id, variants.productId))
    .where(eq(variants.id, claimed.variantId))
    .get()
  try {
    if (!item) throw new Error(`variant ${claimed.variantId} is gone`)
    const link = `${getEnv().appUrl}/products/${item.slug}?variant=${claimed.variantId}`
    await mail.send(stockAlert({ to: claimed.email, item: itemLabel(item.title, item.variantTitle), link, unsubscribeUrl: optOuts.url(token), id: `stock-alert-${alertId}` }))
    return true
  } catch (err) {
    write((tx) => tx.update(stockAlerts).set({ sentAt: null, unsubscribeHash: null }).where(eq(stockAlerts.id, alertId)).run())
    log.warn('stock alerts: send failed; the claim is given back for the retry', { alertId, err: String(err) })
    throw err
  }
}

/** Requests still waiting, per variant id: what the admin sees. */
export function waitingByVariant(): Map<number, number> {
  const rows = getDb()
    .select({ variantId: stockAlerts.variantId, n: sql<number>`count(*)` })
    .from(stockAlerts)
    .where(and(isNull(stockAlerts.notifiedAt), isNull(stockAlerts.unsubscribedAt)))
    .groupBy(stockAlerts.variantId)
    .all()
  return new Map(rows.map((r) => [r.variantId, Number(r.n)]))
}

/** An address's requests, for the shopper's data download. */
export function forEmail(email: string) {
  return getDb()
    .select({ variantId: stockAlerts.variantId, createdAt: stockAlerts.createdAt, notifiedAt: stockAlerts.notifiedAt, sentAt: stockAlerts.sentAt, unsubscribedAt: stockAlerts.unsubscribedAt })
    .from(stockAlerts)
    .where(eq(stockAlerts.email, email))
    .orderBy(asc(stockAlerts.id))
    .all()
}
