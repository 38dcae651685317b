import type Stripe from 'stripe'
import type { Emulator, RequestContext } from './emulator'
import { invalid } from './errors'
import { list, publicLineItem, publicSession, type StoredSession } from './objects'
import { publicCoupon } from './promotions'
import type { Reader, Range } from './params'
import type { ObjectType } from './store'

// What every /v1 handler shares: its signature, expansion, and list paging and filters.

type ApiResult = { status: number; body: unknown }
export type Handler = (emulator: Emulator, params: Reader, match: string[], request: RequestContext) => ApiResult

export const LIST_PARAMS = ['limit', 'starting_after', 'ending_before', 'expand'] as const

// ---- expansion (https://docs.stripe.com/expand)

const PREFIX_TYPES: [string, ObjectType][] = [
  ['cs_', 'checkout.session'],
  ['pi_', 'payment_intent'],
  ['ch_', 'charge'],
  ['re_', 'refund'],
  ['dp_', 'dispute'],
  ['prod_', 'product'],
  ['price_', 'price'],
  ['shr_', 'shipping_rate'],
  ['promo_', 'promotion_code'],
  ['txr_', 'tax_rate'],
  ['cus_', 'customer'],
]

function lookup(emulator: Emulator, id: string, field: string): unknown {
  // Coupon ids carry no prefix: the field says what they are.
  if (field === 'coupon') {
    const coupon = emulator.get<Stripe.Coupon>(id, 'coupon')
    return coupon ? publicCoupon(coupon, emulator.nowSeconds()) : undefined
  }
  const entry = PREFIX_TYPES.find(([prefix]) => id.startsWith(prefix))
  if (!entry) return undefined
  const found = emulator.get<Record<string, unknown>>(id, entry[1])
  if (found && entry[1] === 'checkout.session') return publicSession(found as unknown as StoredSession)
  return found
}

/**
 * Fields that are not sent unless expanded: a session's line_items, a line item's discounts
 * and taxes, a coupon's applies_to. Undefined when `head` is not one of them.
 */
function hiddenField(emulator: Emulator, target: Record<string, unknown>, head: string): unknown {
  if (target.object === 'checkout.session' && head === 'line_items') return lineItemsPage(emulator, target.id as string, { limit: 10 })
  if (target.object === 'coupon' && head === 'applies_to') return emulator.get<Stripe.Coupon>(target.id as string, 'coupon')?.applies_to ?? { products: [] }
  if (target.object === 'item' && (head === 'discounts' || head === 'taxes')) {
    const stored = emulator.get<Stripe.LineItem>(target.id as string, 'item')
    return stored?.[head] ?? []
  }
  return undefined
}

function expandPath(emulator: Emulator, target: Record<string, unknown>, parts: string[]): void {
  const [head, ...rest] = parts
  if (!head) return
  if (target.object === 'list' && head === 'data' && Array.isArray(target.data)) {
    for (const item of target.data) if (item && typeof item === 'object') expandPath(emulator, item as Record<string, unknown>, rest)
    return
  }
  if (target.object === 'checkout.session' && head === 'total_details' && target.total_details && rest[0] === 'breakdown') {
    const stored = emulator.get<StoredSession>(target.id as string, 'checkout.session')
    const breakdown = stored?.total_details?.breakdown ?? { discounts: [], taxes: [] }
    ;(target.total_details as Record<string, unknown>).breakdown = breakdown
    if (rest.length > 1) expandPath(emulator, breakdown as unknown as Record<string, unknown>, rest.slice(1))
    return
  }
  let value = target[head]
  if (value === undefined) value = hiddenField(emulator, target, head)
  if (value === null) return
  if (Array.isArray(value)) {
    // An array of objects (line item discounts, session discounts): expand inside each one.
    target[head] = value
    for (const item of value) if (item && typeof item === 'object' && rest.length) expandPath(emulator, item as Record<string, unknown>, rest)
    return
  }
  if (typeof value === 'string') {
    const found = lookup(emulator, value, head)
    if (found === undefined) throw invalid(`This property cannot be expanded (${head}).`, 'expand')
    value = found
  } else if (!value || typeof value !== 'object') {
    throw invalid(`This property cannot be expanded (${head}).`, 'expand')
  }
  target[head] = value
  if (rest.length) expandPath(emulator, value as Record<string, unknown>, rest)
}

export function expand<T>(emulator: Emulator, object: T, params: Reader, prefix = ''): T {
  const paths = params.strings('expand', { max: 50 }) ?? []
  for (const path of paths) {
    const parts = path.split('.')
    if (parts.length > 4 + (prefix ? 1 : 0)) throw invalid(`You cannot expand more than 4 levels of a property (${path}).`, 'expand')
    if (prefix && parts[0] !== prefix) throw invalid(`This property cannot be expanded (${parts[0]}).`, 'expand')
    expandPath(emulator, object as Record<string, unknown>, parts)
  }
  return object
}

// ---- lists

export function limitOf(params: Reader): number {
  return params.int('limit', { min: 1, max: 100 }) ?? 10
}

export function cursorOf(params: Reader) {
  const startingAfter = params.string('starting_after')
  const endingBefore = params.string('ending_before')
  if (startingAfter && endingBefore) throw invalid('You may only specify one of these parameters: ending_before, starting_after.', 'starting_after')
  return { startingAfter, endingBefore }
}

/** Adds `clause` (one `?`) to a list query's WHERE when the filter was given. */
export function whereIf(value: unknown, clause: string, sql: string[], args: unknown[]) {
  if (value === undefined || value === null || value === '') return
  sql.push(clause)
  args.push(value)
}

export function createdWhere(range: Range | undefined, sql: string[], args: unknown[]) {
  if (!range) return
  const ops: [keyof Range, string][] = [
    ['gt', '>'],
    ['gte', '>='],
    ['lt', '<'],
    ['lte', '<='],
  ]
  for (const [key, op] of ops) {
    if (range[key] !== undefined) {
      sql.push(`created ${op} ?`)
      args.push(range[key])
    }
  }
}

export function lineItemsPage(emulator: Emulator, sessionId: string, opts: { limit: number; cursor?: { startingAfter?: string; endingBefore?: string } }) {
  const page = emulator.store.listPage(
    'objects',
    { sql: ['type = ?', 'parent = ?'], args: ['item', sessionId] },
    { limit: opts.limit, cursor: opts.cursor ?? {}, order: 'asc', cursorType: 'item', cursorNoun: 'line item' },
  )
  return list(
    page.rows.map((r) => publicLineItem(JSON.parse(r) as Stripe.LineItem)),
    page.hasMore,
    `/v1/checkout/sessions/${sessionId}/line_items`,
  )
}

