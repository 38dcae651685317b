import 'server-only'
import crypto from 'node:crypto'
import { sql } from 'drizzle-orm'
import { pruneRateLimits } from '@/db/rate-limits'
import { get, transaction } from '@/db/tx'
import { getEnv } from '@/lib/env'
import { RateLimited } from '@/lib/errors'

// Fixed-window counters in the `rate_limits` table, shared by every process that opens the
// database: both releases during a blue-green deploy, every app server on PostgreSQL. Each
// check is one short transaction (db/tx.ts) in which every bucket's hit is one upsert that
// counts and returns the new count, so the count is never read and then written: N servers
// taking at once allow exactly the limit between them. A refused attempt rolls its hits back,
// so it is not counted, and a client that waits out the window gets its full allowance back.
// Keys are hashes: the table never holds an address or a cart id.

export type Bucket = { key: string; limit: number }

const PRUNE_BATCH = 200

export function hashKey(kind: string, value: string): string {
  return `${kind}:${crypto.createHash('sha256').update(value).digest('base64url').slice(0, 32)}`
}

/**
 * Counts one hit in every bucket, or none when any bucket is full: then RateLimited, whose
 * message is `message` and whose retryAfterSeconds says when the fullest window ends.
 */
export function take(buckets: Bucket[], message: string, now = Date.now(), windowMs = getEnv().rateLimitWindowMs): Promise<void> {
  // the same key order for every caller: two takes over the same buckets lock their rows
  // (PostgreSQL) in the same order, so they queue instead of deadlocking
  const ordered = [...buckets].sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0))
  return transaction(function* (tx, t) {
    let retryAt = 0
    for (const bucket of ordered) {
      const expired = sql`${t.rateLimits.expiresAt} <= ${now}`
      const row = yield* get(
        tx
          .insert(t.rateLimits)
          .values({ key: bucket.key, hits: 1, expiresAt: now + windowMs })
          .onConflictDoUpdate({
            target: t.rateLimits.key,
            set: {
              hits: sql`CASE WHEN ${expired} THEN 1 ELSE ${t.rateLimits.hits} + 1 END`,
              expiresAt: sql`CASE WHEN ${expired} THEN ${now + windowMs} ELSE ${t.rateLimits.expiresAt} END`,
            },
          })
          .returning({ hits: t.rateLimits.hits, expiresAt: t.rateLimits.expiresAt }),
      )
      if (row.hits > bucket.limit) retryAt = Math.max(retryAt, row.expiresAt)
    }
    // thrown out of the body, this rolls back every hit counted above
    if (retryAt > 0) throw new RateLimited(message, Math.max(1, Math.ceil((retryAt - now) / 1000)))
    yield* pruneRateLimits(now, PRUNE_BATCH)
  })
}

/**
 * One checkout start for this cart from this client address. Each start holds stock for
 * half an hour, so a client that starts checkouts in a loop could empty the shelf.
 */
export function takeCheckoutStart(cartId: string, clientAddress: string | null, now = Date.now()): Promise<void> {
  const env = getEnv()
  const buckets: Bucket[] = [{ key: hashKey('checkout-cart', cartId), limit: env.checkoutLimitPerCart }]
  if (clientAddress) buckets.push({ key: hashKey('checkout-address', clientAddress), limit: env.checkoutLimitPerAddress })
  return take(buckets, 'Too many checkout attempts. Please wait a few minutes and try again.', now)
}

/**
 * One look-up of a Checkout Session this shop has no record of. Each costs a call to
 * Stripe, so guessing session ids from one address is bounded.
 */
export function takeSessionLookup(clientAddress: string | null, now = Date.now()): Promise<void> {
  return take([{ key: hashKey('session-lookup', clientAddress ?? 'unknown'), limit: getEnv().sessionLookupLimitPerAddress }], 'Too many look-ups of unknown checkouts. Please wait a few minutes.', now)
}

/** One sign-in link asked for from this client address (a "wait a few minutes" when over). */
export function takeSignInRequest(clientAddress: string | null, now = Date.now()): Promise<void> {
  return take([{ key: hashKey('sign-in-address', clientAddress ?? 'unknown'), limit: getEnv().signInLimitPerAddress }], 'Too many sign-in requests from here. Please wait a few minutes and try again.', now)
}

/** One "email me when it's back" request from this client address. */
export function takeStockAlertRequest(clientAddress: string | null, now = Date.now()): Promise<void> {
  return take([{ key: hashKey('stock-alert-address', clientAddress ?? 'unknown'), limit: 2 * getEnv().signInLimitPerAddress }], 'Too many requests from here. Please wait a few minutes and try again.', now)
}

/**
 * Whether one more sign-in link may be mailed to this address now. The window is the life
 * of a link, so whenever this says no, a link mailed within it still works: someone asking
 * for links to another person's address fills their inbox a little, never locks them out.
 */
export async function mayMailSignInLink(email: string, windowMs: number, now = Date.now()): Promise<boolean> {
  try {
    await take([{ key: hashKey('sign-in-email', email), limit: getEnv().signInLimitPerEmail }], 'sign-in links', now, windowMs)
    return true
  } catch (err) {
    if (err instanceof RateLimited) return false
    throw err
  }
}
