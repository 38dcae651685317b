// Money is integer minor units everywhere (fields named …Cents); this is the one place
// that turns it into text.

const ZERO_DECIMAL = new Set(['bif', 'clp', 'djf', 'gnf', 'jpy', 'kmf', 'krw', 'mga', 'pyg', 'rwf', 'ugx', 'vnd', 'vuv', 'xaf', 'xof', 'xpf'])

const formatters = new Map<string, Intl.NumberFormat>()

function minorUnitDigits(currency: string): number {
  return ZERO_DECIMAL.has(currency.toLowerCase()) ? 0 : 2
}

export function formatMoney(amountCents: number, currency = 'usd', locale = 'en-US'): string {
  if (!Number.isInteger(amountCents)) throw new TypeError(`formatMoney: ${amountCents} is not an integer amount of minor units`)
  const code = currency.toUpperCase()
  const key = `${locale}:${code}`
  let formatter = formatters.get(key)
  if (!formatter) {
    formatter = new Intl.NumberFormat(locale, { style: 'currency', currency: code })
    formatters.set(key, formatter)
  }
  // A reduction (a discount) reads with a real minus sign, as receipts print it.
  return formatter.format(amountCents / 10 ** minorUnitDigits(code)).replace(/^-/, '−')
}

/** A price for machines (JSON-LD, OpenGraph): "12.50", no symbol, no grouping. */
export function decimalAmount(amountCents: number, currency = 'usd'): string {
  const digits = minorUnitDigits(currency)
  return (amountCents / 10 ** digits).toFixed(digits)
}

/**
 * The most one amount may be, in minor units: Stripe takes at most eight digits
 * (99999999, $999,999.99; https://docs.stripe.com/currencies#minimum-and-maximum-charge-amounts),
 * so a larger price could never be paid, and one this large is almost always a typo.
 */
export const MAX_AMOUNT_CENTS = 99_999_999

/** How an amount is written, for the hint beside every money field. */
export function moneyHint(currency = 'usd'): string {
  return minorUnitDigits(currency)
    ? `Write it with a decimal point, like ${example(currency)}; a comma is refused (12,50 is not read as 12.50).`
    : `Write it as a whole number, like ${example(currency)}; ${currency.toUpperCase()} has no decimals.`
}

function example(currency: string): string {
  return minorUnitDigits(currency) ? '12.50' : '1250'
}

export type ParsedMoney = { ok: true; cents: number } | { ok: false; message: string }

/**
 * The one reader of an amount a person typed ("12.50", "12"), into minor units. One meaning
 * only: a decimal point and at most the currency's own decimals. A comma is refused rather
 * than guessed at, since "12,50" is 12.50 in much of the world and 1250 in the rest.
 * Zero is refused unless `allowZero`; more than MAX_AMOUNT_CENTS always. `what` starts the
 * message ("The price", "The refund").
 */
export function parseMoney(text: string, currency = 'usd', { what = 'The amount', allowZero = false }: { what?: string; allowZero?: boolean } = {}): ParsedMoney {
  const digits = minorUnitDigits(currency)
  const trimmed = text.trim()
  if (trimmed === '') return { ok: false, message: `${what} is missing; enter an amount like ${example(currency)}.` }
  if (trimmed.includes(',')) {
    return { ok: false, message: digits ? `${what} has a comma: write amounts with a decimal point and no thousands separator, like 12.50 or 1250.00 (not 12,50 or 1,250).` : `${what} has a comma: write a whole number without separators, like 1250.` }
  }
  const match = (digits ? /^(\d{1,12})(?:\.(\d{1,2}))?$/ : /^(\d{1,12})$/).exec(trimmed)
  if (!match) {
    return { ok: false, message: digits ? `${what} must be digits with at most ${digits} decimals after a point, like 12.50 (no minus sign or currency symbol).` : `${what} must be a whole number, like 1250 (no decimals, minus sign or currency symbol).` }
  }
  const fraction = (match[2] ?? '').padEnd(digits, '0')
  const cents = Number(match[1]) * 10 ** digits + (digits ? Number(fraction) : 0)
  if (cents > MAX_AMOUNT_CENTS) return { ok: false, message: `${what} can be at most ${formatMoney(MAX_AMOUNT_CENTS, currency)}.` }
  if (cents === 0 && !allowZero) return { ok: false, message: `${what} must be more than zero: at least ${formatMoney(1, currency)}.` }
  return { ok: true, cents }
}
