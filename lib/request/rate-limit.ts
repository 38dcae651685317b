import 'server-only'
import crypto from 'node:crypto'
import { sql } from 'drizzle-orm'
import { write } from '@/db'
import { getEnv } from '@/lib/env'
import { RateLimited } from '@/lib/errors'

// Fixed-window counters in the `rate_limits` table, shared by every process that opens the
// database (both releases during a blue-green deploy). Each check is one short immediate
// transaction; a refused attempt is not counted, so a client that waits out the window gets
// its full allowance back. Keys are hashes: the table never holds an address or a cart id.

export type Bucket = { key: string; limit: number }

const PRUNE_BATCH = 200

export function hashKey(kind: string, value: string): string {
  return `${kind}:${crypto.createHash('sha256').update(value).digest('base64url').slice(0, 32)}`
}

/**
 * Counts one hit in every bucket, or none when any bucket is full: then RateLimited, whose
 * message is `message` and whose retryAfterSeconds says when the fullest window ends.
 */
export function take(buckets: Bucket[], message: string, now = Date.now(), windowMs = getEnv().rateLimitWindowMs): void {
  write((tx) => {
    tx.run(sql`DELETE FROM rate_limits WHERE key IN (SELECT key FROM rate_limits WHERE expires_at <= ${now} LIMIT ${PRUNE_BATCH})`)
    let retryAt = 0
    for (const bucket of buckets) {
      const row = tx.get<{ hits: number; expiresAt: number }>(sql`SELECT hits, expires_at AS expiresAt FROM rate_limits WHERE key = ${bucket.key} AND expires_at > ${now}`)
      if (row && row.hits >= bucket.limit) retryAt = Math.max(retryAt, row.expiresAt)
    }
    if (retryAt > 0) throw new RateLimited(message, Math.max(1, Math.ceil((retryAt - now) / 1000)))
    for (const bucket of buckets) {
      tx.run(sql`
        INSERT INTO rate_limits (key, hits, expires_at) VALUES (${bucket.key}, 1, ${now + windowMs})
        ON CONFLICT (key) DO UPDATE SET
          hits = CASE WHEN expires_at <= ${now} THEN 1 ELSE hits + 1 END,
          expires_at = CASE WHEN expires_at <= ${now} THEN ${now + windowMs} ELSE expires_at END`)
    }
  })
}

/**
 * One checkout start for this cart from this client address. Each start holds stock for
 * half an hour, so a client that starts checkouts in a loop could empty the shelf.
 */
export function takeCheckoutStart(cartId: string, clientAddress: string | null, now = Date.now()): void {
  const env = getEnv()
  const buckets: Bucket[] = [{ key: hashKey('checkout-cart', cartId), limit: env.checkoutLimitPerCart }]
  if (clientAddress) buckets.push({ key: hashKey('checkout-address', clientAddress), limit: env.checkoutLimitPerAddress })
  take(buckets, 'Too many checkout attempts. Please wait a few minutes and try again.', now)
}

/**
 * One look-up of a Checkout Session this shop has no record of. Each costs a call to
 * Stripe, so guessing session ids from one address is bounded.
 */
export function takeSessionLookup(clientAddress: string | null, now = Date.now()): void {
  take([{ key: hashKey('session-lookup', clientAddress ?? 'unknown'), limit: getEnv().sessionLookupLimitPerAddress }], 'Too many look-ups of unknown checkouts. Please wait a few minutes.', now)
}

/** One sign-in link asked for from this client address (a "wait a few minutes" when over). */
export function takeSignInRequest(clientAddress: string | null, now = Date.now()): void {
  take([{ key: hashKey('sign-in-address', clientAddress ?? 'unknown'), limit: getEnv().signInLimitPerAddress }], 'Too many sign-in requests from here. Please wait a few minutes and try again.', now)
}

/** One "email me when it's back" request from this client address. */
export function takeStockAlertRequest(clientAddress: string | null, now = Date.now()): void {
  take([{ key: hashKey('stock-alert-address', clientAddress ?? 'unknown'), limit: 2 * getEnv().signInLimitPerAddress }], 'Too many requests from here. Please wait a few minutes and try again.', now)
}

/**
 * Whether one more sign-in link may be mailed to this address now. The window is the life
 * of a link, so whenever this says no, a link mailed within it still works: someone asking
 * for links to another person's address fills their inbox a little, never locks them out.
 */
export function mayMailSignInLink(email: string, windowMs: number, now = Date.now()): boolean {
  try {
    take([{ key: hashKey('sign-in-email', email), limit: getEnv().signInLimitPerEmail }], 'sign-in links', now, windowMs)
    return true
  } catch (err) {
    if (err instanceof RateLimited) return false
    throw err
  }
}
