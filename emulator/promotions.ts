import type Stripe from 'stripe'
import type { Emulator } from './emulator'
import { buildDiscount, buildTaxRate, type AttachedDiscount, type StoredSession } from './objects'
import { allocate, basisPoints, couponAmount, formatAmount, taxOf, type TaxBehavior } from './pricing'

// Coupons and promotion codes at checkout, and a session's totals with its discount and
// automatic tax: whether a code may be redeemed on a session (and, if not, the sentence the
// payment page shows), attaching it, counting redemptions, and recomputing every amount.

type RefusalReason = 'invalid' | 'expired' | 'used_up' | 'minimum' | 'first_time' | 'currency' | 'not_applicable'

export type Refusal = { reason: RefusalReason; message: string }

const REFUSAL_MESSAGES: Record<Exclude<RefusalReason, 'minimum'>, string> = {
  invalid: 'This code is invalid.',
  expired: 'This code has expired.',
  used_up: 'This code has reached its usage limit.',
  first_time: 'This code is only for first-time customers.',
  currency: 'This code cannot be used with this currency.',
  not_applicable: 'This code does not apply to any item in your order.',
}

function refuse(reason: Exclude<RefusalReason, 'minimum'>): Refusal {
  return { reason, message: REFUSAL_MESSAGES[reason] }
}

/** What a code is checked against: the order as it stands. */
export type OrderContext = {
  currency: string
  lines: { productId: string; subtotal: number }[]
  email: string | null
  customer: string | null
}

/** `valid` as Stripe reports it: false once past redeem_by or out of redemptions. */
function couponView(coupon: Stripe.Coupon, now: number): Stripe.Coupon {
  const isUsedUp = coupon.max_redemptions !== null && coupon.times_redeemed >= coupon.max_redemptions
  const isPast = coupon.redeem_by !== null && now >= coupon.redeem_by
  return { ...coupon, valid: !isUsedUp && !isPast }
}

/** A coupon as the API sends it: applies_to only when expanded, as on Stripe. */
export function publicCoupon(coupon: Stripe.Coupon, now: number): Stripe.Coupon {
  const { applies_to: _appliesTo, ...rest } = couponView(coupon, now)
  return rest
}

export function findPromotionCode(emulator: Emulator, code: string): Stripe.PromotionCode | undefined {
  // Codes are matched without regard to case; an active one wins over inactive namesakes.
  const found = emulator.store.findObjects<Stripe.PromotionCode>('promotion_code', { sql: ["lower(json_extract(data, '$.code')) = lower(?)"], args: [code] }, 20)
  return found.find((p) => p.active) ?? found[0]
}

function productOf(line: Stripe.LineItem): string {
  const product = line.price?.product
  return typeof product === 'string' ? product : (product?.id ?? '')
}

export function orderContext(emulator: Emulator, session: StoredSession, email: string | null): OrderContext {
  return {
    currency: session.currency ?? 'usd',
    lines: emulator.lineItems(session.id).map((l) => ({ productId: productOf(l), subtotal: l.amount_subtotal })),
    email: email ?? session.customer_email ?? session.customer_details?.email ?? null,
    customer: typeof session.customer === 'string' ? session.customer : null,
  }
}

function hasPriorPurchase(emulator: Emulator, email: string): boolean {
  return (
    emulator.store.findObjects('checkout.session', { sql: ["status = 'complete'", "lower(json_extract(data, '$.customer_details.email')) = lower(?)"], args: [email] }, 1)
      .length > 0
  )
}

/** Why this coupon cannot be redeemed on this order, or null when it can. */
export function couponRefusal(emulator: Emulator, coupon: Stripe.Coupon | undefined, order: OrderContext): Refusal | null {
  if (!coupon) return refuse('invalid')
  if (coupon.redeem_by !== null && emulator.nowSeconds() >= coupon.redeem_by) return refuse('expired')
  if (coupon.max_redemptions !== null && coupon.times_redeemed >= coupon.max_redemptions) return refuse('used_up')
  if (coupon.amount_off !== null && coupon.currency !== order.currency) return refuse('currency')
  if (coupon.applies_to && !order.lines.some((l) => coupon.applies_to!.products.includes(l.productId))) return refuse('not_applicable')
  return null
}

/** Why this promotion code cannot be redeemed on this order, or null when it can. */
export function promotionRefusal(emulator: Emulator, promo: Stripe.PromotionCode | undefined, order: OrderContext): Refusal | null {
  if (!promo || !promo.active) return refuse('invalid')
  if (promo.customer && promo.customer !== order.customer) return refuse('invalid')
  const couponId = typeof promo.promotion.coupon === 'string' ? promo.promotion.coupon : promo.promotion.coupon?.id
  const coupon = couponId ? emulator.get<Stripe.Coupon>(couponId, 'coupon') : undefined
  if (promo.expires_at !== null && emulator.nowSeconds() >= promo.expires_at) return refuse('expired')
  const couponProblem = couponRefusal(emulator, coupon, order)
  if (couponProblem) return couponProblem
  if (promo.max_redemptions !== null && promo.times_redeemed >= promo.max_redemptions) return refuse('used_up')
  const { minimum_amount: minimum, minimum_amount_currency: minimumCurrency } = promo.restrictions
  if (minimum !== null) {
    if (minimumCurrency && minimumCurrency !== order.currency) return refuse('currency')
    const subtotal = order.lines.reduce((sum, l) => sum + l.subtotal, 0)
    if (subtotal < minimum) return { reason: 'minimum', message: `This code needs an order of at least ${formatAmount(minimum, order.currency)}.` }
  }
  if (promo.restrictions.first_time_transaction && order.email && hasPriorPurchase(emulator, order.email)) return refuse('first_time')
  return null
}

/** Why the session's current discount can no longer be redeemed (e.g. used up meanwhile), or null. */
export function attachedRefusal(emulator: Emulator, session: StoredSession, email: string | null): Refusal | null {
  const attached = session.emulator.attached
  if (!attached) return null
  const order = orderContext(emulator, session, email)
  const promoId = attached.discount.promotion_code
  if (typeof promoId === 'string') return promotionRefusal(emulator, emulator.get<Stripe.PromotionCode>(promoId, 'promotion_code'), order)
  return couponRefusal(emulator, emulator.get<Stripe.Coupon>(attached.coupon.id, 'coupon'), order)
}

export function attach(emulator: Emulator, session: StoredSession, coupon: Stripe.Coupon, promo: Stripe.PromotionCode | null): void {
  const discount = buildDiscount({ created: emulator.nowSeconds(), sessionId: session.id, coupon: coupon.id, promotionCode: promo?.id ?? null })
  const attached: AttachedDiscount = { discount, coupon: couponView(coupon, emulator.nowSeconds()), code: promo?.code ?? null }
  session.emulator.attached = attached
  session.discounts = [{ coupon: coupon.id, promotion_code: promo?.id ?? null }]
}

export function detach(session: StoredSession): void {
  session.emulator.attached = null
  session.discounts = []
}

/** A completed session redeems its coupon and code once (paySession completes a session once). */
export function redeem(emulator: Emulator, session: StoredSession): void {
  const attached = session.emulator.attached
  if (!attached) return
  const coupon = emulator.get<Stripe.Coupon>(attached.coupon.id, 'coupon')
  if (coupon) {
    coupon.times_redeemed++
    emulator.store.putObject('coupon', coupon)
  }
  const promoId = attached.discount.promotion_code
  const promo = typeof promoId === 'string' ? emulator.get<Stripe.PromotionCode>(promoId, 'promotion_code') : undefined
  if (promo) {
    promo.times_redeemed++
    emulator.store.putObject('promotion_code', promo, { status: promo.active ? 'active' : 'inactive' })
  }
}

// ---- totals

function taxRateFor(emulator: Emulator, country: string, percentage: number, isInclusive: boolean): Stripe.TaxRate {
  const [existing] = emulator.store.findObjects<Stripe.TaxRate>(
    'tax_rate',
    {
      sql: ["json_extract(data, '$.country') = ?", "json_extract(data, '$.percentage') = ?", "json_extract(data, '$.inclusive') = ?"],
      args: [country, percentage, isInclusive ? 1 : 0],
    },
    1,
  )
  if (existing) return existing
  const rate = buildTaxRate({ created: emulator.nowSeconds(), country, percentage, isInclusive })
  emulator.store.putObject('tax_rate', rate)
  return rate
}

function behaviorOf(value: string | null | undefined): TaxBehavior {
  // "unspecified" falls back to exclusive, the default tax behaviour of a new Stripe account.
  return value === 'inclusive' ? 'inclusive' : 'exclusive'
}

export type Totals = {
  lines: Pick<Stripe.LineItem, 'amount_subtotal' | 'amount_discount' | 'amount_tax' | 'amount_total' | 'discounts' | 'taxes'>[]
  subtotal: number
  discount: number
  shipping: number
  shippingTax: number
  tax: number
  /** Tax already inside the prices (inclusive), shown as "includes". */
  includedTax: number
  total: number
  /** Null when automatic tax is off; else the country's rate (0 when not collecting there). */
  taxPercentage: number | null
  taxLabel: string | null
  taxStatus: Stripe.Checkout.Session.AutomaticTax.Status | null
  breakdown: Stripe.Checkout.Session.TotalDetails.Breakdown
  shippingCost: Stripe.Checkout.Session.ShippingCost | null
}

/**
 * Every amount of the session for this country (null: not known yet) and shipping option.
 * The discount comes off the lines it applies to, in proportion; tax is on each discounted
 * line and on shipping, at the country's flat rate.
 */
export function computeTotals(emulator: Emulator, session: StoredSession, opts: { country: string | null; shippingIndex: number }): Totals {
  const items = emulator.lineItems(session.id)
  const attached = session.emulator.attached ?? null
  const coupon = attached?.coupon ?? null
  const products = coupon?.applies_to?.products
  const isEligible = items.map((l) => !products || products.includes(productOf(l)))
  const eligible = items.reduce((sum, l, i) => sum + (isEligible[i] ? l.amount_subtotal : 0), 0)
  const discount = coupon ? couponAmount(coupon, eligible) : 0
  const shares = allocate(
    discount,
    items.map((l, i) => (isEligible[i] ? l.amount_subtotal : 0)),
  )

  const isTaxed = session.automatic_tax.enabled
  const country = isTaxed ? opts.country : null
  const configured = country ? emulator.taxRates[country] : undefined
  const percentage = country ? (configured ?? 0) : null
  const reason: Stripe.LineItem.Tax.TaxabilityReason = configured === undefined ? 'not_collecting' : configured === 0 ? 'zero_rated' : 'standard_rated'
  const bp = percentage === null ? 0 : basisPoints(percentage)
  const byRate = new Map<string, Stripe.Checkout.Session.TotalDetails.Breakdown.Tax>()
  const taxLine = (amount: number, behavior: TaxBehavior) => {
    if (!country || percentage === null) return null
    const tax = taxOf(amount, bp, behavior)
    const rate = taxRateFor(emulator, country, percentage, behavior === 'inclusive')
    const entry = { amount: tax, rate, taxability_reason: reason, taxable_amount: behavior === 'inclusive' ? amount - tax : amount }
    const sum = byRate.get(rate.id)
    if (sum) {
      sum.amount += tax
      sum.taxable_amount = (sum.taxable_amount ?? 0) + entry.taxable_amount
    } else byRate.set(rate.id, { ...entry })
    return entry
  }

  let tax = 0
  let includedTax = 0
  let exclusiveTax = 0
  const lines = items.map((item, i) => {
    const share = shares[i]!
    const net = item.amount_subtotal - share
    const behavior = behaviorOf(item.price?.tax_behavior)
    const taxed = taxLine(net, behavior)
    const lineTax = taxed?.amount ?? 0
    tax += lineTax
    if (behavior === 'inclusive') includedTax += lineTax
    else exclusiveTax += lineTax
    return {
      amount_subtotal: item.amount_subtotal,
      amount_discount: share,
      amount_tax: lineTax,
      amount_total: net + (behavior === 'exclusive' ? lineTax : 0),
      discounts: attached && isEligible[i] ? [{ amount: share, discount: attached.discount }] : [],
      taxes: taxed ? [taxed] : [],
    }
  })

  const option = session.shipping_options[opts.shippingIndex] ?? session.shipping_options[0]
  const shipping = option?.shipping_amount ?? 0
  let shippingTax = 0
  let shippingCost: Stripe.Checkout.Session.ShippingCost | null = null
  if (option) {
    const rateId = typeof option.shipping_rate === 'string' ? option.shipping_rate : option.shipping_rate.id
    const behavior = behaviorOf(emulator.get<Stripe.ShippingRate>(rateId, 'shipping_rate')?.tax_behavior)
    const taxed = taxLine(shipping, behavior)
    shippingTax = taxed?.amount ?? 0
    tax += shippingTax
    if (behavior === 'inclusive') includedTax += shippingTax
    else exclusiveTax += shippingTax
    shippingCost = {
      amount_subtotal: shipping,
      amount_tax: shippingTax,
      amount_total: shipping + (behavior === 'exclusive' ? shippingTax : 0),
      shipping_rate: rateId,
      ...(taxed ? { taxes: [taxed] } : {}),
    }
  }

  const subtotal = items.reduce((sum, l) => sum + l.amount_subtotal, 0)
  const firstRate = byRate.values().next().value
  return {
    lines,
    subtotal,
    discount,
    shipping,
    shippingTax,
    tax,
    includedTax,
    total: subtotal - discount + shipping + exclusiveTax,
    taxPercentage: percentage,
    taxLabel: firstRate ? `${firstRate.rate.display_name} ${percentage}%` : null,
    taxStatus: isTaxed ? (country ? 'complete' : 'requires_location_inputs') : null,
    breakdown: {
      discounts: attached ? [{ amount: discount, discount: attached.discount }] : [],
      taxes: [...byRate.values()],
    },
    shippingCost,
  }
}

/** Recomputes and stores the session's amounts and its line items' (caller holds the write transaction). */
export function reprice(emulator: Emulator, session: StoredSession, opts: { country: string | null; shippingIndex: number }): Totals {
  const totals = computeTotals(emulator, session, opts)
  const items = emulator.lineItems(session.id)
  items.forEach((item, i) => {
    Object.assign(item, totals.lines[i])
    emulator.store.putObject('item', item, { parent: session.id })
  })
  session.emulator.shippingIndex = opts.shippingIndex
  session.amount_subtotal = totals.subtotal
  session.amount_total = totals.total
  session.total_details = { amount_discount: totals.discount, amount_shipping: totals.shipping, amount_tax: totals.tax, breakdown: totals.breakdown }
  session.shipping_cost = totals.shippingCost
  if (session.automatic_tax.enabled) session.automatic_tax.status = totals.taxStatus
  return totals
}
