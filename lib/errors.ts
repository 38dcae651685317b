// Expected failures have names; the UI turns them into messages or statuses.
// Anything else is a bug and reaches error.tsx and the log.

export class OutOfStock extends Error {
  constructor(
    readonly variantId: number,
    readonly available: number,
    readonly requested: number,
    readonly label = `item ${variantId}`,
  ) {
    super(available <= 0 ? `${label} is sold out.` : `Only ${available} of ${label} left (you asked for ${requested}).`)
    this.name = 'OutOfStock'
  }
}

/**
 * One visitor (a cart, or a client address over all its carts) asked to hold more of a
 * variant than their share (HOLD_MAX_SHARE_PERCENT of the units on the shelf), so that no
 * single visitor can make it read "Sold out" for everyone else.
 */
export class HoldLimit extends OutOfStock {
  constructor(variantId: number, readonly allowed: number, requested: number, label = `item ${variantId}`) {
    super(variantId, allowed, requested, label)
    this.message = `So that other shoppers can buy it too, one shopper can check out at most ${allowed} of ${label} at a time (you asked for ${requested}).`
    this.name = 'HoldLimit'
  }
}

export class CartEmpty extends Error {
  constructor() {
    super('Your cart is empty.')
    this.name = 'CartEmpty'
  }
}

export class NotFound extends Error {
  constructor(what: string) {
    super(`${what} was not found.`)
    this.name = 'NotFound'
  }
}

export class InvalidInput extends Error {
  /** `field`: the form field the message is about (a form shows it beside that field) */
  constructor(
    message: string,
    readonly field?: string,
  ) {
    super(message)
    this.name = 'InvalidInput'
  }
}

export class InvalidSignature extends Error {
  constructor(message = 'Invalid Stripe signature.') {
    super(message)
    this.name = 'InvalidSignature'
  }
}

export class PaymentProviderError extends Error {
  constructor(message: string, readonly cause?: unknown) {
    super(message)
    this.name = 'PaymentProviderError'
  }
}

export class RateLimited extends Error {
  constructor(
    message: string,
    readonly retryAfterSeconds: number,
  ) {
    super(message)
    this.name = 'RateLimited'
  }
}

/**
 * The cart has a checkout Stripe may still take payment for (or already has): its held units
 * stay, and the cart cannot change until Stripe says that checkout can no longer be paid.
 */
export class CheckoutOpen extends Error {
  constructor(message: string) {
    super(message)
    this.name = 'CheckoutOpen'
  }
}

/**
 * A failure the shopper is told about in words (sold out, empty cart, gone, bad input, Stripe
 * down, a checkout still open, too many tries); anything else is a bug and is thrown on.
 */
export function isExpected(err: unknown): err is Error {
  return (
    err instanceof OutOfStock ||
    err instanceof CartEmpty ||
    err instanceof NotFound ||
    err instanceof InvalidInput ||
    err instanceof PaymentProviderError ||
    err instanceof CheckoutOpen ||
    err instanceof RateLimited
  )
}
