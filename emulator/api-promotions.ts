import type Stripe from 'stripe'
import { createdWhere, cursorOf, expand, limitOf, LIST_PARAMS, whereIf, type Handler } from './api-common'
import type { Emulator } from './emulator'
import { invalid, noSuch } from './errors'
import { newCouponId, newPromotionCodeText } from './ids'
import { buildCoupon, buildPromotionCode, list } from './objects'
import type { Reader } from './params'
import { publicCoupon } from './promotions'

// /v1/coupons and /v1/promotion_codes (https://docs.stripe.com/api/coupons,
// https://docs.stripe.com/api/promotion_codes), as of the API version the SDK pins: a
// promotion code names its coupon under `promotion: { type: 'coupon', coupon }`.

/** Stripe's update semantics: keys given are set, a key set to "" is removed, metadata="" clears all. */
function mergedMetadata(existing: Stripe.Metadata | null, params: Reader): Stripe.Metadata | undefined {
  if (params.value.metadata === '') return {}
  const given = params.metadata('metadata')
  if (given === undefined) return undefined
  const merged: Stripe.Metadata = { ...(existing ?? {}), ...given }
  for (const [key, value] of Object.entries(params.value.metadata as Record<string, unknown>)) if (value === '') delete merged[key]
  if (Object.keys(merged).length > 50) throw invalid('Metadata can have at most 50 keys', 'metadata')
  return merged
}

function future(emulator: Emulator, value: number | undefined, param: string): number | null {
  if (value === undefined) return null
  if (value <= emulator.nowSeconds()) throw invalid(`Invalid ${param}: must be in the future`, param)
  return value
}

// ---- coupons

function percentOf(params: Reader): number | null {
  const raw = params.string('percent_off')
  if (raw === undefined) return null
  const n = Number(raw)
  if (!/^\d{1,3}(\.\d{1,2})?$/.test(raw.trim()) || !(n > 0) || n > 100) throw invalid('Invalid percent_off: must be greater than 0 and at most 100, with at most two decimals', 'percent_off')
  return n
}

function couponOrThrow(emulator: Emulator, id: string): Stripe.Coupon {
  const coupon = emulator.get<Stripe.Coupon>(id, 'coupon')
  if (!coupon) throw noSuch('coupon', id, 'coupon')
  return coupon
}

const couponCreate: Handler = (emulator, params) => {
  params.only(['id', 'percent_off', 'amount_off', 'currency', 'duration', 'duration_in_months', 'max_redemptions', 'metadata', 'name', 'redeem_by', 'applies_to', 'expand'])
  const id = params.string('id', { max: 200 })
  if (id !== undefined && !/^[A-Za-z0-9_-]+$/.test(id)) throw invalid('Invalid id: use letters, digits, dashes and underscores only', 'id')
  // Ids share one table with every other object: any taken id is taken.
  if (id !== undefined && emulator.store.getObject(id)) throw invalid('Coupon already exists.', 'id', 'resource_already_exists')
  const percentOff = percentOf(params)
  const amountOff = params.int('amount_off', { min: 1, max: 99_999_999 }) ?? null
  if (percentOff !== null && amountOff !== null) throw invalid('You may only specify one of these parameters: amount_off, percent_off.', 'amount_off')
  if (percentOff === null && amountOff === null) throw invalid('You must specify either percent_off or amount_off.', 'percent_off', 'parameter_missing')
  const currency = params.string('currency')?.toLowerCase() ?? null
  if (currency !== null && !/^[a-z]{3}$/.test(currency)) throw invalid(`Invalid currency: ${currency}`, 'currency')
  if (amountOff !== null && currency === null) throw invalid('You must specify currency when using amount_off.', 'currency', 'parameter_missing')
  const duration = (params.string('duration', { oneOf: ['once', 'forever', 'repeating'] }) ?? 'once') as Stripe.Coupon.Duration
  const months = params.int('duration_in_months', { min: 1, max: 1200 }) ?? null
  if (duration === 'repeating' && months === null) throw invalid('You must specify duration_in_months when duration is repeating.', 'duration_in_months', 'parameter_missing')
  if (duration !== 'repeating' && months !== null) throw invalid('duration_in_months can only be given when duration is repeating.', 'duration_in_months')
  const appliesTo = params.object('applies_to')
  const products = appliesTo?.only(['products']).strings('products', { max: 100 }) ?? null
  const coupon = buildCoupon({
    id: id ?? newCouponId(),
    created: emulator.nowSeconds(),
    percentOff,
    amountOff,
    // A percentage applies in any currency; only an amount has one.
    currency: amountOff !== null ? currency : null,
    duration,
    durationInMonths: months,
    maxRedemptions: params.int('max_redemptions', { min: 1, max: 99_999_999 }) ?? null,
    metadata: params.metadata('metadata') ?? {},
    name: params.string('name', { max: 40 }) ?? null,
    redeemBy: future(emulator, params.int('redeem_by'), 'redeem_by'),
    appliesTo: products,
  })
  emulator.store.putObject('coupon', coupon)
  return { status: 200, body: expand(emulator, publicCoupon(coupon, emulator.nowSeconds()), params) }
}

const couponRetrieve: Handler = (emulator, params, [id]) => {
  params.only(['expand'])
  return { status: 200, body: expand(emulator, publicCoupon(couponOrThrow(emulator, id!), emulator.nowSeconds()), params) }
}

const couponUpdate: Handler = (emulator, params, [id]) => {
  params.only(['name', 'metadata', 'expand'])
  const coupon = couponOrThrow(emulator, id!)
  const name = params.string('name', { max: 40 })
  if (params.value.name === '') coupon.name = null
  else if (name !== undefined) coupon.name = name
  const metadata = mergedMetadata(coupon.metadata, params)
  if (metadata) coupon.metadata = metadata
  emulator.store.putObject('coupon', coupon)
  return { status: 200, body: expand(emulator, publicCoupon(coupon, emulator.nowSeconds()), params) }
}

// Deleting stops new redemptions; sessions that already carry it keep their discount.
const couponDelete: Handler = (emulator, params, [id]) => {
  params.only([])
  couponOrThrow(emulator, id!)
  emulator.store.deleteObject(id!, 'coupon')
  return { status: 200, body: { id, object: 'coupon', deleted: true } }
}

const couponList: Handler = (emulator, params) => {
  params.only([...LIST_PARAMS, 'created'])
  const sql = ["type = 'coupon'"]
  const args: unknown[] = []
  createdWhere(params.range('created'), sql, args)
  const page = emulator.store.listPage('objects', { sql, args }, { limit: limitOf(params), cursor: cursorOf(params), order: 'desc', cursorType: 'coupon', cursorNoun: 'coupon' })
  const now = emulator.nowSeconds()
  const body = list(
    page.rows.map((r) => publicCoupon(JSON.parse(r) as Stripe.Coupon, now)),
    page.hasMore,
    '/v1/coupons',
  )
  return { status: 200, body: expand(emulator, body, params, 'data') }
}

// ---- promotion codes

function promoOrThrow(emulator: Emulator, id: string): Stripe.PromotionCode {
  const promo = emulator.get<Stripe.PromotionCode>(id, 'promotion_code')
  if (!promo) throw noSuch('promotion code', id, 'promotion_code')
  return promo
}

/** Codes are unique, regardless of case, among active codes. */
function assertCodeFree(emulator: Emulator, code: string, exceptId: string | null, param: string): void {
  const clash = emulator.store.findObjects<Stripe.PromotionCode>(
    'promotion_code',
    { sql: ["status = 'active'", "lower(json_extract(data, '$.code')) = lower(?)", 'id != ?'], args: [code, exceptId ?? ''] },
    1,
  )
  if (clash.length) throw invalid(`An active promotion code with \`code: ${code}\` already exists.`, param, 'resource_already_exists')
}

function savePromo(emulator: Emulator, promo: Stripe.PromotionCode): void {
  emulator.store.putObject('promotion_code', promo, { status: promo.active ? 'active' : 'inactive' })
}

const promoCreate: Handler = (emulator, params) => {
  params.only(['promotion', 'code', 'active', 'customer', 'customer_account', 'expires_at', 'max_redemptions', 'metadata', 'restrictions', 'expand'])
  const promotion = params.object('promotion', { required: true })!.only(['type', 'coupon'])
  promotion.requiredString('type', { oneOf: ['coupon'] })
  const couponId = promotion.requiredString('coupon')
  if (!emulator.get(couponId, 'coupon')) throw invalid(`No such coupon: '${couponId}'`, 'promotion[coupon]', 'resource_missing')
  const code = params.string('code', { max: 500 }) ?? newPromotionCodeText()
  if (!/^[A-Za-z0-9-]+$/.test(code)) throw invalid('Invalid code: use letters, digits and dashes only', 'code')
  const isActive = params.bool('active') ?? true
  if (isActive) assertCodeFree(emulator, code, null, 'code')
  if (params.has('customer_account')) throw invalid('The payments emulator has no accounts; customer_account is not supported.', 'customer_account')
  const restrictions = params.object('restrictions')
  restrictions?.only(['first_time_transaction', 'minimum_amount', 'minimum_amount_currency'])
  const minimumAmount = restrictions?.int('minimum_amount', { min: 0, max: 99_999_999 }) ?? null
  const minimumCurrency = restrictions?.string('minimum_amount_currency')?.toLowerCase() ?? null
  if (minimumAmount !== null && minimumCurrency === null) {
    throw invalid('You must specify minimum_amount_currency when using minimum_amount.', 'restrictions[minimum_amount_currency]', 'parameter_missing')
  }
  if (minimumCurrency !== null && !/^[a-z]{3}$/.test(minimumCurrency)) throw invalid(`Invalid currency: ${minimumCurrency}`, 'restrictions[minimum_amount_currency]')
  const promo = buildPromotionCode({
    created: emulator.nowSeconds(),
    code,
    coupon: couponId,
    active: isActive,
    customer: params.string('customer') ?? null,
    expiresAt: future(emulator, params.int('expires_at'), 'expires_at'),
    maxRedemptions: params.int('max_redemptions', { min: 1, max: 99_999_999 }) ?? null,
    metadata: params.metadata('metadata') ?? {},
    firstTimeTransaction: restrictions?.bool('first_time_transaction') ?? false,
    minimumAmount,
    minimumAmountCurrency: minimumCurrency,
  })
  savePromo(emulator, promo)
  return { status: 200, body: expand(emulator, promo, params) }
}

const promoRetrieve: Handler = (emulator, params, [id]) => {
  params.only(['expand'])
  return { status: 200, body: expand(emulator, promoOrThrow(emulator, id!), params) }
}

const promoUpdate: Handler = (emulator, params, [id]) => {
  params.only(['active', 'metadata', 'expand'])
  const promo = promoOrThrow(emulator, id!)
  const isActive = params.bool('active')
  if (isActive === true && !promo.active) assertCodeFree(emulator, promo.code, promo.id, 'active')
  if (isActive !== undefined) promo.active = isActive
  const metadata = mergedMetadata(promo.metadata, params)
  if (metadata) promo.metadata = metadata
  savePromo(emulator, promo)
  return { status: 200, body: expand(emulator, promo, params) }
}

const promoList: Handler = (emulator, params) => {
  params.only([...LIST_PARAMS, 'active', 'code', 'coupon', 'customer', 'customer_account', 'created'])
  const sql = ["type = 'promotion_code'"]
  const args: unknown[] = []
  const active = params.bool('active')
  if (active !== undefined) whereIf(active ? 'active' : 'inactive', 'status = ?', sql, args)
  whereIf(params.string('code'), "lower(json_extract(data, '$.code')) = lower(?)", sql, args)
  whereIf(params.string('coupon'), "json_extract(data, '$.promotion.coupon') = ?", sql, args)
  whereIf(params.string('customer'), "json_extract(data, '$.customer') = ?", sql, args)
  whereIf(params.string('customer_account'), "json_extract(data, '$.customer_account') = ?", sql, args)
  createdWhere(params.range('created'), sql, args)
  const page = emulator.store.listPage('objects', { sql, args }, { limit: limitOf(params), cursor: cursorOf(params), order: 'desc', cursorType: 'promotion_code', cursorNoun: 'promotion code' })
  const body = list(
    page.rows.map((r) => JSON.parse(r) as Stripe.PromotionCode),
    page.hasMore,
    '/v1/promotion_codes',
  )
  return { status: 200, body: expand(emulator, body, params, 'data') }
}

// Coupon ids may be chosen by the caller (letters, digits, dashes, underscores).
const COUPON_ID = '([A-Za-z0-9_-]+)'
const PROMO_ID = '([A-Za-z0-9_]+)'

export const PROMOTION_ROUTES = [
  { method: 'POST', pattern: /^\/v1\/coupons$/, handler: couponCreate },
  { method: 'GET', pattern: /^\/v1\/coupons$/, handler: couponList },
  { method: 'GET', pattern: new RegExp(`^/v1/coupons/${COUPON_ID}$`), handler: couponRetrieve },
  { method: 'POST', pattern: new RegExp(`^/v1/coupons/${COUPON_ID}$`), handler: couponUpdate },
  { method: 'DELETE', pattern: new RegExp(`^/v1/coupons/${COUPON_ID}$`), handler: couponDelete },
  { method: 'POST', pattern: /^\/v1\/promotion_codes$/, handler: promoCreate },
  { method: 'GET', pattern: /^\/v1\/promotion_codes$/, handler: promoList },
  { method: 'GET', pattern: new RegExp(`^/v1/promotion_codes/${PROMO_ID}$`), handler: promoRetrieve },
  { method: 'POST', pattern: new RegExp(`^/v1/promotion_codes/${PROMO_ID}$`), handler: promoUpdate },
]
