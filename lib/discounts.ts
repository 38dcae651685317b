import 'server-only'
import { z } from 'zod'
import * as discountCodes from '@/db/discount-codes'
import { read } from '@/db/tx'
import * as audit from './audit'
import { getEnv } from './env'
import { InvalidInput, PaymentProviderError } from './errors'
import * as formNonce from '@/lib/request/form-nonce'
import { log } from './log'
import { formatMoney, parseMoney } from './money'
import * as payments from './payments'

// Discounts: coupons and promotion codes live at Stripe, which checks a code when the shopper
// enters it on the payment page (docs/decisions/021-discounts-and-tax-at-checkout.md). The
// owner manages them here through Stripe's API; the store only counts how often each code
// appears on its own paid orders, beside what Stripe says.

/** Promotion codes shown at most (pages of 100); a shop with more is told the list is cut. */
const MAX_PAGES = 5

export type CodeRow = payments.PromotionCodeFacts & {
  coupon: payments.CouponFacts | null
  /** the store's paid orders that used this code */
  paidOrders: number
}

export type Overview = { codes: CodeRow[]; coupons: payments.CouponFacts[]; isCapped: boolean }

/** Every promotion code with its coupon, and every coupon, as Stripe has them now (two list requests). */
export async function overview(): Promise<Overview> {
  let coupons: payments.Walked<payments.CouponFacts>
  let codes: payments.Walked<payments.PromotionCodeFacts>
  try {
    ;[coupons, codes] = await Promise.all([payments.listCoupons(MAX_PAGES), payments.listPromotionCodes(MAX_PAGES)])
  } catch (err) {
    log.warn('discounts: could not list coupons and codes', { err: String(err) })
    throw new PaymentProviderError('Stripe could not be reached to list the discounts; please try again in a moment.', err)
  }
  const byId = new Map(coupons.items.map((c) => [c.id, c]))
  const used = await paidOrdersByCode()
  return {
    codes: codes.items.map((code) => ({ ...code, coupon: code.couponId ? (byId.get(code.couponId) ?? null) : null, paidOrders: used.get(code.code.toLowerCase()) ?? 0 })),
    coupons: coupons.items,
    isCapped: coupons.isCapped || codes.isCapped,
  }
}

/**
 * How many of the store's orders that were paid used each code (lower-cased: Stripe treats
 * codes case-insensitively). Counted from the codes recorded on the orders, so a refund later
 * does not undo a redemption, just as it does not at Stripe.
 */
export async function paidOrdersByCode(): Promise<Map<string, number>> {
  const rows = await read(() => discountCodes.paidOrdersByCode())
  return new Map(rows.map((r) => [r.code, r.n]))
}

/** What the owner types into the new-code form, all as text. */
export type PromotionInput = {
  code: string
  kind: string
  amount: string
  expiresOn: string
  maxRedemptions: string
  minimumAmount: string
  isFirstOrderOnly: boolean
  nonce: string
}

const optionalText = z.string().trim().transform((v) => (v === '' ? null : v))

/**
 * Reads the form into what Stripe is asked for, or says what is wrong in words the owner can
 * act on. `today` (YYYY-MM-DD, UTC) bounds the expiry date.
 */
export function parsePromotion(input: PromotionInput, today: string, currency: string): { ok: true; data: payments.NewPromotionCode } | { ok: false; message: string; field: keyof PromotionInput } {
  const code = input.code.trim()
  if (!/^[A-Za-z0-9-]{3,40}$/.test(code)) return { ok: false, message: 'A code has 3 to 40 letters, digits or dashes, like SPRING-20.', field: 'code' }
  let percentOff: number | null = null
  let amountOffCents: number | null = null
  if (input.kind === 'percent') {
    const match = /^(\d{1,3})(?:\.(\d{1,2}))?$/.exec(input.amount.trim())
    const value = match ? Number(input.amount.trim()) : NaN
    if (!(value > 0 && value <= 100)) return { ok: false, message: 'Enter a percentage from 0.01 to 100, like 20.', field: 'amount' }
    percentOff = value
  } else if (input.kind === 'amount') {
    const amount = parseMoney(input.amount, currency, { what: `The amount off (in ${currency.toUpperCase()})` })
    if (!amount.ok) return { ok: false, message: amount.message, field: 'amount' }
    amountOffCents = amount.cents
  } else {
    return { ok: false, message: 'Choose a percentage or an amount off.', field: 'kind' }
  }
  const expiresOn = optionalText.parse(input.expiresOn)
  let expiresAt: number | null = null
  if (expiresOn !== null) {
    if (!/^\d{4}-\d{2}-\d{2}$/.test(expiresOn) || Number.isNaN(Date.parse(`${expiresOn}T00:00:00Z`))) return { ok: false, message: 'Enter the expiry as a date, like 2027-01-31.', field: 'expiresOn' }
    if (expiresOn < today) return { ok: false, message: 'The expiry date has passed; choose today or a later day.', field: 'expiresOn' }
    // The code works through the whole of its last day (UTC).
    expiresAt = Math.floor(Date.parse(`${expiresOn}T23:59:59Z`) / 1000)
  }
  const limit = optionalText.parse(input.maxRedemptions)
  let maxRedemptions: number | null = null
  if (limit !== null) {
    if (!/^\d{1,7}$/.test(limit) || Number(limit) < 1) return { ok: false, message: 'The redemption limit is a whole number from 1, or empty for no limit.', field: 'maxRedemptions' }
    maxRedemptions = Number(limit)
  }
  const minimum = optionalText.parse(input.minimumAmount)
  let minimumAmountCents: number | null = null
  if (minimum !== null) {
    const parsed = parseMoney(minimum, currency, { what: `The minimum order (in ${currency.toUpperCase()}, or empty for none)` })
    if (!parsed.ok) return { ok: false, message: parsed.message, field: 'minimumAmount' }
    minimumAmountCents = parsed.cents
  }
  if (amountOffCents !== null && minimumAmountCents !== null && minimumAmountCents < amountOffCents) {
    return { ok: false, message: `The minimum order must be at least the amount off (${formatMoney(amountOffCents, currency)}).`, field: 'minimumAmount' }
  }
  return { ok: true, data: { code, percentOff, amountOffCents, currency, expiresAt, maxRedemptions, minimumAmountCents, isFirstOrderOnly: input.isFirstOrderOnly } }
}

export { create as newNonce, isValid as isNonce } from '@/lib/request/form-nonce'

/**
 * Creates the code and its coupon at Stripe and audits it. The Stripe requests' idempotency
 * keys come from the form's nonce, so a double submit makes one code, not two.
 */
export async function create(actor: audit.Actor, input: PromotionInput, now = new Date()): Promise<payments.PromotionCodeFacts> {
  if (!formNonce.isValid(input.nonce)) throw new InvalidInput('The form has expired; please fill it in again.')
  const parsed = parsePromotion(input, now.toISOString().slice(0, 10), getEnv().currency)
  if (!parsed.ok) throw new InvalidInput(parsed.message, parsed.field)
  let created: Awaited<ReturnType<typeof payments.createPromotionCode>>
  try {
    created = await payments.createPromotionCode(parsed.data, `till-promotion-${input.nonce}`)
  } catch (err) {
    const refused = payments.invalidRequestMessage(err)
    if (refused) throw new InvalidInput(`Stripe refused the code: ${refused}`)
    // The same form (its nonce) sent again with other values, after going back and editing.
    if (payments.isIdempotencyConflict(err)) throw new InvalidInput('This form was already sent with other values; nothing more was created. Check the list, then fill in the form again.')
    log.warn('discounts: could not create a promotion code', { err: String(err) })
    throw new PaymentProviderError('Stripe could not be reached; nothing was created. Please try again.', err)
  }
  if (!created.ok) throw new InvalidInput(`A code ${created.taken} already exists at Stripe (codes are unique while active, whatever the case); nothing was created. Choose another code, or turn ${created.taken} off first.`)
  await audit.noteOnce(actor, 'discount.create', `promotion_code:${created.promotionCode.id}`, { ...parsed.data, code: created.promotionCode.code, couponId: created.coupon.id })
  return created.promotionCode
}

/** Turns a code off at Stripe (shoppers can no longer enter it) and audits it. */
export async function deactivate(actor: audit.Actor, promotionCodeId: string): Promise<payments.PromotionCodeFacts> {
  if (!/^promo_[A-Za-z0-9_]{1,100}$/.test(promotionCodeId)) throw new InvalidInput('That promotion code does not exist.')
  let code: payments.PromotionCodeFacts
  try {
    code = await payments.deactivatePromotionCode(promotionCodeId)
  } catch (err) {
    if (payments.isUnknownObject(err)) throw new InvalidInput('That promotion code does not exist.')
    const refused = payments.invalidRequestMessage(err)
    if (refused) throw new InvalidInput(`Stripe refused: ${refused}`)
    throw new PaymentProviderError('Stripe could not be reached; the code is unchanged. Please try again.', err)
  }
  await audit.note(actor, 'discount.deactivate', `promotion_code:${code.id}`, { code: code.code, active: code.isActive })
  return code
}

/** "20% off" or "$5.00 off". */
export function describeCoupon(coupon: Pick<payments.CouponFacts, 'percentOff' | 'amountOffCents' | 'currency'> | null): string {
  if (!coupon) return '—'
  if (coupon.percentOff !== null) return `${coupon.percentOff}% off`
  if (coupon.amountOffCents !== null) return `${formatMoney(coupon.amountOffCents, coupon.currency ?? getEnv().currency)} off`
  return '—'
}
