import crypto from 'node:crypto'

const ALPHABET = '0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz'

function randomText(length: number): string {
  // 62 * 4 = 248 < 256: rejecting bytes ≥ 248 keeps every character equally likely.
  let out = ''
  while (out.length < length) {
    for (const byte of crypto.randomBytes(length * 2)) {
      if (byte < 248) out += ALPHABET[byte % 62]
      if (out.length === length) break
    }
  }
  return out
}

// Test-mode ids look like Stripe's: a type prefix and random base62.
const LENGTHS = { cs_test: 58, pi: 24, ch: 24, py: 24, li: 24, prod: 14, price: 24, shr: 24, re: 24, dp: 24, pm: 24, evt: 24, txn: 24, plink: 24, req: 14, promo: 24, di: 24, txr: 24, cus: 14 } as const

export type IdPrefix = keyof typeof LENGTHS

export function newId(prefix: IdPrefix): string {
  return `${prefix}_${randomText(LENGTHS[prefix])}`
}

/** Coupons have no type prefix on Stripe: eight random characters unless the caller names one. */
export function newCouponId(): string {
  return randomText(8).toUpperCase()
}

/** A code for a promotion code created without one: easy to read aloud, no 0/O or 1/I. */
export function newPromotionCodeText(): string {
  const readable = 'ABCDEFGHJKLMNPQRSTUVWXYZ23456789'
  let out = ''
  for (const byte of crypto.randomBytes(16)) {
    // 32 divides 256, so every character is equally likely.
    out += readable[byte % 32]
    if (out.length === 8) break
  }
  return out
}
