// Errors in Stripe's wire format: {"error": {"type", "message", "param"?, "code"?, ...}}.
// Anything the caller got wrong becomes one of these with a 4xx status and the offending
// parameter named, never a 500 (https://docs.stripe.com/api/errors).

export type ApiErrorType = 'invalid_request_error' | 'idempotency_error' | 'card_error' | 'api_error'

// Next bundles the emulator more than once: boot (instrumentation) creates the running
// instance from one copy, and the /emulator and /v1 routes catch its errors with another, so
// a plain class check failed across them and a declined card became a 500. The brand is a
// global symbol, the same in every copy.
const BRAND = Symbol.for('till.emulator.ApiError')

export class ApiError extends Error {
  readonly [BRAND] = true

  static [Symbol.hasInstance](value: unknown): boolean {
    return typeof value === 'object' && value !== null && (value as { [BRAND]?: unknown })[BRAND] === true
  }

  constructor(
    readonly status: number,
    readonly type: ApiErrorType,
    message: string,
    readonly extra: { param?: string; code?: string; decline_code?: string } = {},
  ) {
    super(message)
    this.name = 'ApiError'
  }

  toJSON() {
    return {
      error: {
        type: this.type,
        message: this.message,
        ...(this.extra.code ? { code: this.extra.code, doc_url: `https://docs.stripe.com/error-codes/${this.extra.code.replace(/_/g, '-')}` } : {}),
        ...(this.extra.decline_code ? { decline_code: this.extra.decline_code } : {}),
        ...(this.extra.param ? { param: this.extra.param } : {}),
      },
    }
  }
}

export function invalid(message: string, param?: string, code?: string): ApiError {
  return new ApiError(400, 'invalid_request_error', message, { param, code: code ?? (param ? 'parameter_invalid' : undefined) })
}

export function missing(param: string): ApiError {
  return new ApiError(400, 'invalid_request_error', `Missing required param: ${param}.`, { param, code: 'parameter_missing' })
}

export function unknownParam(param: string): ApiError {
  return new ApiError(400, 'invalid_request_error', `Received unknown parameter: ${param}`, { param, code: 'parameter_unknown' })
}

/** `kind` is Stripe's human noun, e.g. "checkout session", "payment_intent", "charge". */
export function noSuch(kind: string, id: string, param = 'id', status = 404): ApiError {
  return new ApiError(status, 'invalid_request_error', `No such ${kind}: '${id}'`, { param, code: 'resource_missing' })
}

export function unrecognizedUrl(method: string, path: string): ApiError {
  return new ApiError(
    404,
    'invalid_request_error',
    `Unrecognized request URL (${method}: ${path}). Please see https://stripe.com/docs or we can help at https://support.stripe.com/.`,
  )
}

export function cardDeclined(declineCode: 'generic_decline' | 'insufficient_funds' | 'incorrect_number'): ApiError {
  if (declineCode === 'incorrect_number') {
    return new ApiError(402, 'card_error', 'Your card number is incorrect.', { code: 'incorrect_number', param: 'card' })
  }
  return new ApiError(402, 'card_error', declineCode === 'insufficient_funds' ? 'Your card has insufficient funds.' : 'Your card was declined.', {
    code: 'card_declined',
    decline_code: declineCode,
  })
}
