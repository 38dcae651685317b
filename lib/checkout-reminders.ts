import 'server-only'
import { asc, eq, sql } from 'drizzle-orm'
import { all, read, sqlGet, sqlRun, transaction, type Steps, type Tables, type Writer } from '@/db/tx'
import { itemLabel } from './catalog'
import { getEnv } from './env'
import * as jobs from './jobs'
import { log } from './log'
import * as mail from './mail'
import { checkoutReminder } from './mail/checkout-reminder'
import * as optOuts from './mail-opt-outs'
import type { CheckoutFacts } from './payments'

// Abandoned checkouts. Sessions are created with Stripe's after_expiration[recovery] and
// consent_collection[promotions] (lib/checkout.ts). When one expires with a recovery URL and
// the shopper said yes to promotional email, recordingExpiry() keeps a reminder row, at most one
// per cart (UNIQUE cart_id), and queues its email job keyed by the cart, in the transaction
// that records the expiry event. So the webhook delivered twice, reconciliation replaying the
// event, or both releases of a deploy seeing it, still make one row and one job. Sending
// first claims the row (sent_at) after checking, in the same statement, that the cart was not
// bought since and the address did not unsubscribe; a job run twice sends once.
//
// Written on db/tx.ts (decision 047), so it runs on both engines. The claim is one conditional
// UPDATE (`sent_at IS NULL`): on PostgreSQL a second worker, on this app server or another,
// waits for the row and finds it claimed. The email goes out after the claim commits.

export const MAIL_JOB = 'mail.checkout_reminder'

/** The outcome that keeps an order's money (the dashboard's "recovered revenue"). */
const SOLD = `o.status IN ('paid', 'fulfilled', 'partially_refunded')`
/** The cart was bought another way: an order from it, or the cart converted. */
const BOUGHT = `(EXISTS (SELECT 1 FROM orders o WHERE o.cart_id = checkout_reminders.cart_id) OR EXISTS (SELECT 1 FROM carts c WHERE c.id = checkout_reminders.cart_id AND c.status = 'converted'))`

/**
 * Keeps a reminder for an expired session that may get one, and queues its email, as steps of
 * the transaction that records the expiry; whether this call kept it.
 */
export function* recordingExpiry(tx: Writer, t: Tables, facts: CheckoutFacts, now = Date.now()): Steps<boolean> {
  if (facts.status !== 'expired' || facts.origin !== 'store' || !facts.cartId || !facts.recoveryUrl || facts.promotionsConsent !== 'opt_in' || !facts.email) return false
  const row = yield* sqlGet<{ id: number | string }>(sql`
    INSERT INTO checkout_reminders (stripe_checkout_session_id, cart_id, email, recovery_url, created_at)
    VALUES (${facts.sessionId}, ${facts.cartId}, ${facts.email.trim().toLowerCase()}, ${facts.recoveryUrl}, ${now})
    ON CONFLICT DO NOTHING RETURNING id`)
  if (!row) return false
  yield* jobs.enqueueing(tx, t, MAIL_JOB, { reminderId: Number(row.id) }, { uniqueKey: `checkout-reminder:${facts.cartId}`, runAt: now + getEnv().checkoutReminderDelayMs })
  return true
}

type Claimed = { email: string; recoveryUrl: string; items: string[] }

/**
 * Sends one reminder, once, unless the cart was bought meanwhile or the address opted out
 * (then the row says why). The claim commits before the email goes out; a failed send gives
 * this claim back (and only this one: its unsubscribe hash) for the retry. Returns whether
 * this call sent it.
 */
export async function send(reminderId: number, now = Date.now()): Promise<boolean> {
  const { token, hash } = optOuts.newToken()
  const claimed = await transaction(function* (tx, t): Steps<Claimed | null> {
    const row = yield* sqlGet<{ email: string; cartId: string; recoveryUrl: string }>(sql`
      UPDATE checkout_reminders SET sent_at = ${now}, unsubscribe_hash = ${hash}
      WHERE id = ${reminderId} AND sent_at IS NULL AND skipped_reason IS NULL
        AND NOT ${sql.raw(BOUGHT)} AND NOT ${optOuts.isOptedOutSql(sql`checkout_reminders.email`, 'checkout_reminder')}
      RETURNING email, cart_id AS "cartId", recovery_url AS "recoveryUrl"`)
    if (!row) {
      yield* sqlRun(sql`
        UPDATE checkout_reminders SET skipped_reason = CASE WHEN ${sql.raw(BOUGHT)} THEN 'bought' ELSE 'opted_out' END
        WHERE id = ${reminderId} AND sent_at IS NULL AND skipped_reason IS NULL`)
      return null
    }
    // what the cart held, as its page shows each line's name
    const lines = yield* all(
      tx
        .select({ quantity: t.cartLines.quantity, title: t.products.title, variantTitle: t.variants.title })
        .from(t.cartLines)
        .innerJoin(t.variants, eq(t.variants.id, t.cartLines.variantId))
        .innerJoin(t.products, eq(t.products.id, t.variants.productId))
        .where(eq(t.cartLines.cartId, row.cartId))
        .orderBy(asc(t.cartLines.id)),
    )
    return { email: row.email, recoveryUrl: row.recoveryUrl, items: lines.map((l) => `${l.quantity} × ${itemLabel(l.title, l.variantTitle)}`) }
  })
  if (!claimed) return false
  try {
    await mail.send(checkoutReminder({ to: claimed.email, items: claimed.items, recoveryUrl: claimed.recoveryUrl, unsubscribeUrl: optOuts.url(token), id: `checkout-reminder-${reminderId}` }))
    return true
  } catch (err) {
    await transaction(() => sqlRun(sql`UPDATE checkout_reminders SET sent_at = NULL, unsubscribe_hash = NULL WHERE id = ${reminderId} AND unsubscribe_hash = ${hash}`))
    log.warn('checkout reminders: send failed; the claim is given back for the retry', { reminderId, err: String(err) })
    throw err
  }
}

export type Summary = { sent: number; recoveredOrders: number; recoveredCents: number }

/**
 * For the dashboard: reminders sent, and the orders placed from a reminded cart (through the
 * recovery link or back on the shop), with what they kept. A reminder is sent only while its
 * cart has no order, so every order of a reminded cart came after its reminder. One statement,
 * so the figures come from one snapshot on either engine.
 */
export async function summary(): Promise<Summary> {
  const row = await read(() =>
    sqlGet<{ sent: number | string; orders: number | string; cents: number | string | null }>(sql`
      SELECT (SELECT count(*) FROM checkout_reminders WHERE sent_at IS NOT NULL) AS sent,
        count(o.id) AS orders, sum(o.total_cents - o.refunded_cents) AS cents
      FROM checkout_reminders r JOIN orders o ON o.cart_id = r.cart_id AND ${sql.raw(SOLD)}
      WHERE r.sent_at IS NOT NULL`),
  )
  return { sent: Number(row?.sent ?? 0), recoveredOrders: Number(row?.orders ?? 0), recoveredCents: Number(row?.cents ?? 0) }
}
