import 'server-only'
import crypto from 'node:crypto'

// A one-time nonce rendered with an admin form that calls Stripe. It becomes the form's
// idempotency key, so the same form sent twice (a double click, a second tab, a replay) is
// one request at Stripe, never two.

/** A fresh nonce for one rendering of a form. */
export function create(): string {
  return crypto.randomBytes(18).toString('base64url')
}

/** Random and URL-safe, as create() makes it. */
export function isValid(value: string): boolean {
  return /^[A-Za-z0-9_-]{16,64}$/.test(value)
}
