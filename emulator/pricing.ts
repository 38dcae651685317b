// The arithmetic behind a session's totals: how much a coupon takes off, how that is shared
// across the lines, and the tax on each discounted line and on shipping. Integers only
// (minor units; percentages as basis points), so the parts always add up to the whole.

export type TaxBehavior = 'inclusive' | 'exclusive'

/** 12.5 (percent) -> 1250 basis points; the emulator keeps at most two decimals. */
export function basisPoints(percent: number): number {
  return Math.round(percent * 100)
}

/** a * b / c rounded half up, exact for any amounts the API accepts. */
function mulDivRound(a: number, b: number, c: number): number {
  const num = BigInt(a) * BigInt(b)
  const den = BigInt(c)
  return Number((num * 2n + den) / (den * 2n))
}

/**
 * Splits `total` across lines in proportion to `weights`. Each line gets the floor of its
 * share; the units left over go one each to the lines with the largest remainders (the
 * earlier line on a tie), so the parts add up to exactly `total`.
 */
export function allocate(total: number, weights: number[]): number[] {
  const sum = weights.reduce((a, b) => a + b, 0)
  if (sum === 0 || total === 0) return weights.map(() => 0)
  const big = BigInt(total)
  const bigSum = BigInt(sum)
  const parts = weights.map((w, i) => {
    const share = big * BigInt(w)
    return { i, floor: Number(share / bigSum), rest: share % bigSum }
  })
  let left = total - parts.reduce((a, p) => a + p.floor, 0)
  const order = [...parts].sort((a, b) => (a.rest === b.rest ? a.i - b.i : a.rest > b.rest ? -1 : 1))
  for (const p of order) {
    if (left <= 0) break
    p.floor++
    left--
  }
  return parts.map((p) => p.floor)
}

/** What a coupon takes off `eligible` (the subtotal of the lines it applies to); never more than that. */
export function couponAmount(coupon: { percent_off: number | null; amount_off: number | null }, eligible: number): number {
  if (coupon.percent_off !== null) return Math.min(eligible, mulDivRound(eligible, basisPoints(coupon.percent_off), 10_000))
  return Math.min(eligible, coupon.amount_off ?? 0)
}

/**
 * The tax in `amount` at `bp` basis points. Exclusive: added on top. Inclusive: the part of
 * `amount` that is tax, so amount - tax is the net price.
 */
export function taxOf(amount: number, bp: number, behavior: TaxBehavior): number {
  if (amount <= 0 || bp <= 0) return 0
  if (behavior === 'exclusive') return mulDivRound(amount, bp, 10_000)
  return amount - mulDivRound(amount, 10_000, 10_000 + bp)
}

/** $12.50 — the emulator's one money formatter (pages and refusal messages). */
export function formatAmount(amount: number, currency: string): string {
  try {
    const format = new Intl.NumberFormat('en-US', { style: 'currency', currency: currency.toUpperCase() })
    const digits = format.resolvedOptions().maximumFractionDigits ?? 2
    return format.format(amount / 10 ** digits)
  } catch {
    return `${(amount / 100).toFixed(2)} ${currency.toUpperCase()}`
  }
}
