import 'server-only'
import crypto from 'node:crypto'
import { and, eq, isNull, sql } from 'drizzle-orm'
import { getDb, write, type Tx } from '@/db'
import { checkoutReminders, mailOptOuts, stockAlerts } from '@/db/schema'
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
export function find(token: unknown): { email: string; kind: Kind } | null {
  if (typeof token !== 'string' || !TOKEN.test(token)) return null
  const hash = sha256(token)
  const alert = getDb().select({ email: stockAlerts.email }).from(stockAlerts).where(eq(stockAlerts.unsubscribeHash, hash)).get()
  if (alert) return { email: alert.email, kind: 'stock_alert' }
  const reminder = getDb().select({ email: checkoutReminders.email }).from(checkoutReminders).where(eq(checkoutReminders.unsubscribeHash, hash)).get()
  return reminder ? { email: reminder.email, kind: 'checkout_reminder' } : null
}

/** Records the opt-out of the link's address; stock alerts still waiting are withdrawn too. */
export function optOut(token: unknown, now = Date.now()): { email: string; kind: Kind } | null {
  const found = find(token)
  if (!found) return null
  write((tx) => {
    tx.insert(mailOptOuts).values({ email: found.email, kind: found.kind, createdAt: now }).onConflictDoNothing().run()
    if (found.kind === 'stock_alert') withdrawAlerts(tx, found.email, now)
  })
  return found
}

function withdrawAlerts(tx: Tx, email: string, now: number): void {
  tx.update(stockAlerts).set({ unsubscribedAt: now }).where(and(eq(stockAlerts.email, email), isNull(stockAlerts.sentAt), isNull(stockAlerts.unsubscribedAt))).run()
}

/** The address's opt-outs, for the shopper's data download. */
export function forEmail(email: string): Kind[] {
  return getDb().select({ kind: mailOptOuts.kind }).from(mailOptOuts).where(eq(mailOptOuts.email, email)).all().map((r) => r.kind)
}
