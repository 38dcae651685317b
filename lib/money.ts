// Money is integer minor units everywhere (fields named …Cents); this is the one place
// that turns it into text.

const ZERO_DECIMAL = new Set(['bif', 'clp', 'djf', 'gnf', 'jpy', 'kmf', 'krw', 'mga', 'pyg', 'rwf', 'ugx', 'vnd', 'vuv', 'xaf', 'xof', 'xpf'])

const formatters = new Map<string, Intl.NumberFormat>()

export function minorUnitDigits(currency: string): number {
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
 * Reads an amount typed by a person ("12.50", "12") into minor units; null when it is not a
 * plain non-negative amount with at most the currency's decimals (no "-1", "1e3", "1.999").
 */
export function parseMoney(text: string, currency = 'usd'): number | null {
  const digits = minorUnitDigits(currency)
  const match = (digits ? /^(\d{1,9})(?:\.(\d{1,2}))?$/ : /^(\d{1,11})$/).exec(text.trim().replace(/,/g, ''))
  if (!match) return null
  const fraction = (match[2] ?? '').padEnd(digits, '0')
  const cents = Number(match[1]) * 10 ** digits + (digits ? Number(fraction) : 0)
  return Number.isSafeInteger(cents) ? cents : null
}
