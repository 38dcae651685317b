import 'server-only'
import crypto from 'node:crypto'
import { and, eq, isNull, sql } from 'drizzle-orm'
import type { mailOptOuts } from '@/db/schema'
import { all, get, read, run, transaction, type Reader, type Steps, type Tables } from '@/db/tx'
import { getEnv } from './env'

// Unsubscribing from the shop's optional emails (stock alerts, checkout reminders) without
// signing in: every such email carries a link with a random token made when it is sent;
// only the token's sha256 is stored, on the row of the email it came with. Following the
// link and pressing the button records an opt-out for the address and that kind of email.

export type Kind = (typeof mailOptOuts.$inferSelect)['kind']

const sha256 = (token: string) => crypto.createHash('sha256').update(token).digest('hex')
const TOKEN = /^[A-Za-z0-9_-]{43}$/

/** A new unsubscribe token and its hash, for a row about to be sent. */
export function newToken(): { token: string; hash: string } {
  const token = crypto.randomBytes(32).toString('base64url')
  return { token, hash: sha256(token) }
}

export function url(token: string): string {
  return `${getEnv().appUrl}/unsubscribe/${token}`
}

/** SQL: true when `email` has opted out of `kind`. */
export function isOptedOutSql(email: unknown, kind: Kind) {
  return sql`EXISTS (SELECT 1 FROM mail_opt_outs o WHERE o.email = ${email} AND o.kind = ${kind})`
}

/** Whose link this is, and for what kind of email; null for an unknown token. */
export function find(token: unknown): Promise<{ email: string; kind: Kind } | null> {
  return read((db, t) => finding(db, t, token))
}

function* finding(db: Reader, t: Tables, token: unknown): Steps<{ email: string; kind: Kind } | null> {
  if (typeof token !== 'string' || !TOKEN.test(token)) return null
  const hash = sha256(token)
  const alert = yield* get(db.select({ email: t.stockAlerts.email }).from(t.stockAlerts).where(eq(t.stockAlerts.unsubscribeHash, hash)).limit(1))
  if (alert) return { email: alert.email, kind: 'stock_alert' }
  const reminder = yield* get(db.select({ email: t.checkoutReminders.email }).from(t.checkoutReminders).where(eq(t.checkoutReminders.unsubscribeHash, hash)).limit(1))
  return reminder ? { email: reminder.email, kind: 'checkout_reminder' } : null
}

/**
 * Records the opt-out of the link's address; stock alerts still waiting are withdrawn too.
 * Twice, or from two app servers at once, it records one opt-out (the insert does nothing on
 * the row that exists) and withdraws each alert once (the update skips withdrawn ones).
 */
export function optOut(token: unknown, now = Date.now()): Promise<{ email: string; kind: Kind } | null> {
  return transaction(function* (tx, t) {
    const found = yield* finding(tx, t, token)
    if (!found) return null
    yield* run(tx.insert(t.mailOptOuts).values({ email: found.email, kind: found.kind, createdAt: now }).onConflictDoNothing())
    if (found.kind === 'stock_alert') {
      const { stockAlerts } = t
      yield* run(tx.update(stockAlerts).set({ unsubscribedAt: now }).where(and(eq(stockAlerts.email, found.email), isNull(stockAlerts.sentAt), isNull(stockAlerts.unsubscribedAt))))
    }
    return found
  })
}

/** The address's opt-outs, for the shopper's data download. */
export async function forEmail(email: string): Promise<Kind[]> {
  const rows = await read((db, t) => all(db.select({ kind: t.mailOptOuts.kind }).from(t.mailOptOuts).where(eq(t.mailOptOuts.email, email)).orderBy(t.mailOptOuts.kind)))
  return rows.map((r) => r.kind)
}
