import type Stripe from 'stripe'
import { createdWhere, cursorOf, expand, limitOf, lineItemsPage, LIST_PARAMS, whereIf, type Handler } from './api-common'
import { CUSTOMER_ROUTES } from './api-customers'
import { PROMOTION_ROUTES } from './api-promotions'
import { invalid, noSuch } from './errors'
import { list, publicSession, type EmulatedEvent, type LineInput, type SessionInput, type ShippingRateInput, type StoredSession, type TaxBehaviorParam } from './objects'
import { isEmail, type Reader } from './params'
import type { ObjectType } from './store'

// The /v1 routes the store's code calls through the official SDK. Every handler is
// synchronous and runs inside one immediate transaction (see http.ts), so an idempotent
// POST and its effects commit together.

// ---- checkout sessions

const SESSION_CREATE_PARAMS = [
  'mode',
  'line_items',
  'metadata',
  'client_reference_id',
  'customer_email',
  'shipping_address_collection',
  'shipping_options',
  'expires_at',
  'success_url',
  'cancel_url',
  'expand',
  'payment_intent_data',
  'payment_method_types',
  'locale',
  'submit_type',
  'billing_address_collection',
  'phone_number_collection',
  'customer_creation',
  'ui_mode',
  'currency',
  'automatic_tax',
  'allow_promotion_codes',
  'consent_collection',
  'custom_text',
  'invoice_creation',
  'payment_method_configuration',
  'discounts',
  'customer',
  'customer_update',
  'after_expiration',
]

function url(value: string | undefined, param: string): string | null {
  if (value === undefined) return null
  let parsed: URL
  try {
    parsed = new URL(value)
  } catch {
    throw invalid('Not a valid URL', param, 'url_invalid')
  }
  if (parsed.protocol !== 'http:' && parsed.protocol !== 'https:') throw invalid('Not a valid URL', param, 'url_invalid')
  if (value.length > 5000) throw invalid('Invalid URL: must be at most 5000 characters', param)
  return value
}

function parseLine(item: Reader, index: number, currencyOf: (c: string, param: string) => void): LineInput {
  item.only(['price_data', 'price', 'quantity', 'adjustable_quantity', 'tax_rates', 'dynamic_tax_rates', 'metadata'])
  if (item.has('adjustable_quantity')) item.object('adjustable_quantity')
  const quantity = item.requiredInt('quantity', { min: 1, max: 999_999 })
  const priceId = item.string('price')
  const priceData = item.object('price_data')
  if (priceId && priceData) throw invalid('You may only specify one of these parameters: price, price_data.', item.name('price'))
  if (priceId) return { name: '', description: null, images: [], productMetadata: {}, unitAmount: 0, quantity, priceId }
  if (!priceData) throw invalid(`You must specify either \`price\` or \`price_data\` for line_items[${index}].`, item.name('price_data'), 'parameter_missing')
  priceData.only(['currency', 'unit_amount', 'unit_amount_decimal', 'product_data', 'product', 'tax_behavior', 'recurring'])
  if (priceData.has('recurring')) throw invalid('You must be in `subscription` mode to use recurring prices.', priceData.name('recurring'))
  const taxBehavior = priceData.string('tax_behavior', { oneOf: ['exclusive', 'inclusive', 'unspecified'] }) as TaxBehaviorParam | undefined
  const currency = priceData.requiredString('currency').toLowerCase()
  if (!/^[a-z]{3}$/.test(currency)) throw invalid(`Invalid currency: ${currency}`, priceData.name('currency'))
  currencyOf(currency, priceData.name('currency'))
  let unitAmount = priceData.int('unit_amount', { min: 0, max: 99_999_999 })
  const decimal = priceData.string('unit_amount_decimal')
  if (unitAmount !== undefined && decimal !== undefined) throw invalid('You may only specify one of these parameters: unit_amount, unit_amount_decimal.', priceData.name('unit_amount'))
  if (decimal !== undefined) {
    if (!/^\d{1,8}(\.0+)?$/.test(decimal)) throw invalid('The emulator supports whole minor units only in unit_amount_decimal.', priceData.name('unit_amount_decimal'))
    unitAmount = Math.round(Number(decimal))
  }
  if (unitAmount === undefined) throw invalid(`Missing required param: ${priceData.name('unit_amount')}.`, priceData.name('unit_amount'), 'parameter_missing')
  const productId = priceData.string('product')
  const product = priceData.object('product_data')
  if (productId && product) throw invalid('You may only specify one of these parameters: product, product_data.', priceData.name('product'))
  if (productId) return { name: '', description: null, images: [], productMetadata: {}, unitAmount, quantity, productId, taxBehavior }
  if (!product) throw invalid(`You must specify either \`product\` or \`product_data\` when creating a price.`, priceData.name('product_data'), 'parameter_missing')
  product.only(['name', 'description', 'images', 'metadata', 'tax_code', 'unit_label'])
  const images = product.strings('images', { max: 8 }) ?? []
  images.forEach((image, i) => url(image, `${product.name('images')}[${i}]`))
  return {
    name: product.requiredString('name', { max: 250 }),
    description: product.string('description', { max: 40_000 }) ?? null,
    images,
    productMetadata: product.metadata('metadata') ?? {},
    unitAmount,
    quantity,
    taxBehavior,
    taxCode: taxCode(product, 'tax_code'),
  }
}

/** Stripe's product tax codes look like txcd_99999999. */
function taxCode(reader: Reader, key: string): string | null {
  const code = reader.string(key)
  if (code === undefined) return null
  if (!/^txcd_\d{8}$/.test(code)) throw invalid(`Invalid tax code: ${code} (expected txcd_ and 8 digits, e.g. txcd_99999999)`, reader.name(key))
  return code
}

function parseShippingOption(option: Reader, currency: string): ShippingRateInput {
  option.only(['shipping_rate', 'shipping_rate_data'])
  const id = option.string('shipping_rate')
  const data = option.object('shipping_rate_data')
  if (id && data) throw invalid('You may only specify one of these parameters: shipping_rate, shipping_rate_data.', option.name('shipping_rate'))
  if (id) return { id, displayName: '', amount: 0, deliveryEstimate: null, metadata: {} }
  if (!data) throw invalid(`Missing required param: ${option.name('shipping_rate_data')}.`, option.name('shipping_rate_data'), 'parameter_missing')
  data.only(['display_name', 'type', 'fixed_amount', 'delivery_estimate', 'metadata', 'tax_behavior', 'tax_code'])
  data.string('type', { oneOf: ['fixed_amount'] })
  const fixed = data.object('fixed_amount', { required: true })!
  fixed.only(['amount', 'currency', 'currency_options'])
  const amount = fixed.requiredInt('amount', { min: 0, max: 99_999_999 })
  const rateCurrency = fixed.requiredString('currency').toLowerCase()
  if (rateCurrency !== currency) throw invalid(`The shipping rate currency (${rateCurrency}) must match the currency of the line items (${currency}).`, fixed.name('currency'))
  let deliveryEstimate: Stripe.ShippingRate.DeliveryEstimate | null = null
  const estimate = data.object('delivery_estimate')
  if (estimate) {
    estimate.only(['minimum', 'maximum'])
    const bound = (key: 'minimum' | 'maximum') => {
      const b = estimate.object(key)
      if (!b) return null
      b.only(['unit', 'value'])
      return {
        unit: b.requiredString('unit', { oneOf: ['business_day', 'day', 'hour', 'month', 'week'] }) as Stripe.ShippingRate.DeliveryEstimate.Minimum.Unit,
        value: b.requiredInt('value', { min: 0, max: 1000 }),
      }
    }
    deliveryEstimate = { minimum: bound('minimum'), maximum: bound('maximum') }
  }
  return {
    displayName: data.requiredString('display_name', { max: 100 }),
    amount,
    deliveryEstimate,
    metadata: data.metadata('metadata') ?? {},
    taxBehavior: data.string('tax_behavior', { oneOf: ['exclusive', 'inclusive', 'unspecified'] }) as TaxBehaviorParam | undefined,
    taxCode: taxCode(data, 'tax_code'),
  }
}

function parseSessionCreate(p: Reader, now: number): SessionInput {
  p.only(SESSION_CREATE_PARAMS)
  const mode = p.requiredString('mode', { oneOf: ['payment', 'setup', 'subscription'] })
  if (mode !== 'payment') throw invalid('The payments emulator supports mode=payment only.', 'mode')
  const uiMode = p.string('ui_mode', { oneOf: ['hosted', 'embedded', 'custom'] })
  if (uiMode && uiMode !== 'hosted') throw invalid('The payments emulator supports ui_mode=hosted only.', 'ui_mode')
  const automaticTax = p.object('automatic_tax')
  automaticTax?.only(['enabled', 'liability'])
  const isAutomaticTax = automaticTax ? automaticTax.bool('enabled') === true : false
  if (automaticTax && automaticTax.bool('enabled') === undefined) throw invalid('Missing required param: automatic_tax[enabled].', 'automatic_tax[enabled]', 'parameter_missing')
  const liability = automaticTax?.object('liability')
  if (liability && liability.only(['type', 'account']).string('type', { oneOf: ['self', 'account'] }) === 'account') {
    throw invalid('The payments emulator has no connected accounts; automatic_tax[liability][type] must be self.', 'automatic_tax[liability][type]')
  }
  const allowPromotionCodes = p.bool('allow_promotion_codes') ?? null
  const discounts = (p.objects('discounts', { max: 1 }) ?? []).map((d) => {
    d.only(['coupon', 'promotion_code'])
    const coupon = d.string('coupon')
    const promotionCode = d.string('promotion_code')
    if (coupon && promotionCode) throw invalid('You may only specify one of these parameters: coupon, promotion_code.', d.name('coupon'))
    if (!coupon && !promotionCode) throw invalid(`Missing required param: ${d.name('coupon')} or ${d.name('promotion_code')}.`, d.name('coupon'), 'parameter_missing')
    return coupon ? { coupon } : { promotionCode: promotionCode! }
  })
  if (allowPromotionCodes === true && discounts.length) throw invalid('You may only specify one of these parameters: allow_promotion_codes, discounts.', 'discounts')
  for (const key of ['custom_text', 'invoice_creation', 'phone_number_collection'] as const) p.object(key)
  const consent = p.object('consent_collection')
  consent?.only(['promotions', 'terms_of_service', 'payment_method_reuse_agreement'])
  const promotionsConsent = (consent?.string('promotions', { oneOf: ['auto', 'none'] }) as 'auto' | 'none' | undefined) ?? null
  if (consent?.string('terms_of_service', { oneOf: ['none', 'required'] }) === 'required') throw invalid('The payments emulator has no terms of service URL; consent_collection[terms_of_service] must be none.', 'consent_collection[terms_of_service]')
  // https://docs.stripe.com/api/checkout/sessions/create#create_checkout_session-after_expiration
  const afterExpiration = p.object('after_expiration')
  afterExpiration?.only(['recovery'])
  const recoveryParams = afterExpiration?.object('recovery')
  recoveryParams?.only(['enabled', 'allow_promotion_codes'])
  const isRecoveryEnabled = recoveryParams?.bool('enabled')
  if (recoveryParams && isRecoveryEnabled === undefined) throw invalid('Missing required param: after_expiration[recovery][enabled].', 'after_expiration[recovery][enabled]', 'parameter_missing')
  const recovery = recoveryParams ? { enabled: isRecoveryEnabled === true, allowPromotionCodes: recoveryParams.bool('allow_promotion_codes') ?? false } : null
  const customer = p.string('customer') ?? null
  const customerUpdate = p.object('customer_update')
  customerUpdate?.only(['address', 'name', 'shipping'])
  if (customerUpdate && !customer) throw invalid('customer_update can only be used with customer.', 'customer_update')
  if (customer && p.has('customer_email')) throw invalid('You may only specify one of these parameters: customer, customer_email.', 'customer_email')
  if (customer && p.has('customer_creation')) throw invalid('customer_creation can only be used when customer is not specified.', 'customer_creation')
  const updateOf = (key: string) => customerUpdate?.string(key, { oneOf: ['auto', 'never'] }) as 'auto' | 'never' | undefined
  const paymentMethodTypes = p.strings('payment_method_types') ?? []
  for (const [i, type] of paymentMethodTypes.entries()) {
    if (!['card', 'us_bank_account', 'customer_balance', 'link'].includes(type)) throw invalid(`Invalid payment_method_types[${i}]: ${type} is not supported by the emulator`, `payment_method_types[${i}]`)
  }

  // Stripe caps payment mode at 100 line items (https://docs.stripe.com/api/checkout/sessions/create).
  const items = p.objects('line_items', { required: true, max: 100 })!
  if (items.length === 0) throw invalid('Missing required param: line_items.', 'line_items', 'parameter_missing')
  let currency: string | null = p.string('currency')?.toLowerCase() ?? null
  const currencyOf = (c: string, param: string) => {
    if (currency && c !== currency) throw invalid(`All line items must use the same currency (${currency}); got ${c}.`, param)
    currency = c
  }
  const lines = items.map((item, i) => parseLine(item, i, currencyOf))
  if (!currency) throw invalid('Missing required param: currency.', 'currency', 'parameter_missing')
  const sessionCurrency: string = currency

  const customerEmail = p.string('customer_email', { max: 800 }) ?? null
  if (customerEmail && !isEmail(customerEmail)) throw invalid(`Invalid email address: ${customerEmail}`, 'customer_email', 'email_invalid')

  let allowedCountries: string[] | null = null
  const collection = p.object('shipping_address_collection')
  if (collection) {
    collection.only(['allowed_countries'])
    allowedCountries = collection.strings('allowed_countries', { max: 250 }) ?? []
    if (allowedCountries.length === 0) throw invalid(`Missing required param: shipping_address_collection[allowed_countries].`, 'shipping_address_collection[allowed_countries]', 'parameter_missing')
    allowedCountries.forEach((c, i) => {
      if (!/^[A-Z]{2}$/.test(c)) throw invalid(`Invalid shipping_address_collection[allowed_countries][${i}]: must be a two-letter country code`, `shipping_address_collection[allowed_countries][${i}]`)
    })
  }
  const shippingRates = (p.objects('shipping_options', { max: 5 }) ?? []).map((o) => parseShippingOption(o, sessionCurrency))

  // Stripe: at least 30 minutes and at most 24 hours after creation. A few seconds of grace
  // absorb clock skew and request latency between the caller's clock and ours.
  const expiresAt = p.int('expires_at') ?? now + 24 * 3600
  if (expiresAt < now + 30 * 60 - 10) throw invalid('The `expires_at` timestamp must be at least 30 minutes from Checkout Session creation.', 'expires_at')
  if (expiresAt > now + 24 * 3600 + 10) throw invalid('The `expires_at` timestamp must be less than 24 hours from Checkout Session creation.', 'expires_at')

  const successUrl = url(p.string('success_url'), 'success_url')
  if (!successUrl) throw invalid('Missing required param: success_url.', 'success_url', 'parameter_missing')
  const cancelUrl = url(p.string('cancel_url'), 'cancel_url')

  const pid = p.object('payment_intent_data')
  pid?.only(['metadata', 'description', 'receipt_email', 'statement_descriptor', 'statement_descriptor_suffix', 'capture_method', 'setup_future_usage', 'shipping'])
  if (pid?.has('capture_method') && pid.string('capture_method') === 'manual') throw invalid('The payments emulator does not support manual capture.', 'payment_intent_data[capture_method]')

  return {
    currency: sessionCurrency,
    lines,
    metadata: p.metadata('metadata') ?? {},
    clientReferenceId: p.string('client_reference_id', { max: 200 }) ?? null,
    customerEmail,
    allowedCountries,
    shippingRates,
    expiresAt,
    successUrl,
    cancelUrl,
    paymentIntentData: { metadata: pid?.metadata('metadata') ?? {}, description: pid?.string('description', { max: 1000 }) ?? null },
    paymentLink: null,
    locale: p.string('locale') ?? null,
    submitType: p.string('submit_type', { oneOf: ['auto', 'book', 'donate', 'pay', 'subscribe'] }) ?? null,
    billingAddressCollection: p.string('billing_address_collection', { oneOf: ['auto', 'required'] }) ?? null,
    isPhoneCollected: p.object('phone_number_collection')?.bool('enabled') ?? false,
    allowPromotionCodes,
    discounts,
    isAutomaticTax,
    customer,
    customerUpdate: customerUpdate ? { address: updateOf('address'), name: updateOf('name'), shipping: updateOf('shipping') } : null,
    recovery,
    promotionsConsent,
  }
}

const sessionCreate: Handler = (emulator, params, _match, _request) => {
  const input = parseSessionCreate(params, emulator.nowSeconds())
  const session = emulator.createSession(input)
  return { status: 200, body: expand(emulator, publicSession(session), params) }
}

const sessionRetrieve: Handler = (emulator, params, [id]) => {
  params.only(['expand'])
  return { status: 200, body: expand(emulator, publicSession(emulator.getSession(id!, 'session')), params) }
}

const sessionExpire: Handler = (emulator, params, [id], request) => {
  params.only(['expand'])
  emulator.getSession(id!, 'session')
  return { status: 200, body: expand(emulator, publicSession(emulator.expireSession(id!, request)), params) }
}

const sessionList: Handler = (emulator, params) => {
  params.only([...LIST_PARAMS, 'payment_intent', 'payment_link', 'status', 'created', 'customer', 'customer_details', 'subscription', 'customer_account'])
  emulator.sweepExpired()
  const sql = ["type = 'checkout.session'"]
  const args: unknown[] = []
  const paymentIntent = params.string('payment_intent')
  whereIf(paymentIntent, 'payment_intent = ?', sql, args)
  const status = params.string('status', { oneOf: ['open', 'complete', 'expired'] })
  whereIf(status, 'status = ?', sql, args)
  const paymentLink = params.string('payment_link')
  whereIf(paymentLink, "json_extract(data, '$.payment_link') = ?", sql, args)
  const email = params.object('customer_details')?.only(['email']).string('email')
  whereIf(email, "json_extract(data, '$.customer_details.email') = ?", sql, args)
  createdWhere(params.range('created'), sql, args)
  const page = emulator.store.listPage('objects', { sql, args }, { limit: limitOf(params), cursor: cursorOf(params), order: 'desc', cursorType: 'checkout.session', cursorNoun: 'checkout session' })
  const body = list(
    page.rows.map((r) => publicSession(JSON.parse(r) as StoredSession)),
    page.hasMore,
    '/v1/checkout/sessions',
  )
  return { status: 200, body: expand(emulator, body, params, 'data') }
}

const sessionLineItems: Handler = (emulator, params, [id]) => {
  params.only(LIST_PARAMS)
  emulator.getSession(id!, 'session')
  const body = lineItemsPage(emulator, id!, { limit: limitOf(params), cursor: cursorOf(params) })
  return { status: 200, body: expand(emulator, body, params, 'data') }
}

// ---- events

const eventList: Handler = (emulator, params) => {
  params.only([...LIST_PARAMS, 'type', 'types', 'created', 'delivery_success'])
  const sql: string[] = []
  const args: unknown[] = []
  const type = params.string('type')
  const types = params.strings('types', { max: 20 })
  if (type && types) throw invalid('You may only specify one of these parameters: type, types.', 'types')
  if (type) {
    // Stripe allows one wildcard: `checkout.session.*`.
    if (type.includes('*')) {
      sql.push("type LIKE ? ESCAPE '\\'")
      args.push(type.replace(/[\\%_]/g, (c) => `\\${c}`).replace(/\*/g, '%'))
    } else {
      sql.push('type = ?')
      args.push(type)
    }
  }
  if (types) {
    sql.push(`type IN (${types.map(() => '?').join(', ')})`)
    args.push(...types)
  }
  const deliverySuccess = params.bool('delivery_success')
  if (deliverySuccess !== undefined) {
    sql.push(
      deliverySuccess
        ? `EXISTS (SELECT 1 FROM deliveries d WHERE d.event_id = events.id AND d.status = 'delivered')`
        : `EXISTS (SELECT 1 FROM deliveries d WHERE d.event_id = events.id AND d.status != 'delivered' AND d.attempts > 0)`,
    )
  }
  createdWhere(params.range('created'), sql, args)
  const page = emulator.store.listPage('events', { sql, args }, { limit: limitOf(params), cursor: cursorOf(params), order: 'desc', cursorNoun: 'event' })
  const body = list(
    page.rows.map((r) => emulator.currentEvent(JSON.parse(r) as EmulatedEvent)),
    page.hasMore,
    '/v1/events',
  )
  return { status: 200, body: expand(emulator, body, params, 'data') }
}

const eventRetrieve: Handler = (emulator, params, [id]) => {
  params.only(['expand'])
  const event = emulator.store.getEvent<EmulatedEvent>(id!)
  if (!event) throw noSuch('event', id!)
  return { status: 200, body: expand(emulator, emulator.currentEvent(event), params) }
}

// ---- refunds and other objects

const refundCreate: Handler = (emulator, params, _match, request) => {
  params.only(['payment_intent', 'charge', 'amount', 'reason', 'metadata', 'expand', 'instructions_email', 'refund_application_fee', 'reverse_transfer'])
  const refund = emulator.refund(
    {
      paymentIntent: params.string('payment_intent'),
      charge: params.string('charge'),
      amount: params.int('amount', { min: 1 }),
      reason: (params.string('reason', { oneOf: ['duplicate', 'fraudulent', 'requested_by_customer'] }) as Stripe.Refund.Reason | undefined) ?? null,
      metadata: params.metadata('metadata'),
    },
    request,
  )
  return { status: 200, body: expand(emulator, refund, params) }
}

/** Refunds and disputes: objects listed by the charge (their parent) or payment intent they belong to. */
function chargeChildList(type: 'refund' | 'dispute', path: string): Handler {
  return (emulator, params) => {
    params.only([...LIST_PARAMS, 'payment_intent', 'charge', 'created'])
    const sql = [`type = '${type}'`]
    const args: unknown[] = []
    whereIf(params.string('payment_intent'), 'payment_intent = ?', sql, args)
    whereIf(params.string('charge'), 'parent = ?', sql, args)
    createdWhere(params.range('created'), sql, args)
    const page = emulator.store.listPage('objects', { sql, args }, { limit: limitOf(params), cursor: cursorOf(params), order: 'desc', cursorType: type, cursorNoun: type })
    const body = list(
      page.rows.map((r) => JSON.parse(r) as Stripe.Refund | Stripe.Dispute),
      page.hasMore,
      path,
    )
    return { status: 200, body: expand(emulator, body, params, 'data') }
  }
}

const refundList = chargeChildList('refund', '/v1/refunds')
const disputeList = chargeChildList('dispute', '/v1/disputes')

// Accepting a dispute: the merchant concedes it, so it is lost (https://docs.stripe.com/api/disputes/close).
const disputeClose: Handler = (emulator, params, [id], request) => {
  params.only(['expand'])
  return { status: 200, body: expand(emulator, emulator.closeDispute(id!, 'lost', request), params) }
}

function retrieve(type: ObjectType, noun: string, param: string): Handler {
  return (emulator, params, [id]) => {
    params.only(['expand'])
    const object = emulator.get<Record<string, unknown>>(id!, type)
    if (!object) throw noSuch(noun, id!, param)
    return { status: 200, body: expand(emulator, object, params) }
  }
}

type Route = { method: string; pattern: RegExp; handler: Handler }

const ID = '([A-Za-z0-9_]+)'

const ROUTES: Route[] = [
  { method: 'POST', pattern: /^\/v1\/checkout\/sessions$/, handler: sessionCreate },
  { method: 'GET', pattern: /^\/v1\/checkout\/sessions$/, handler: sessionList },
  { method: 'GET', pattern: new RegExp(`^/v1/checkout/sessions/${ID}$`), handler: sessionRetrieve },
  { method: 'POST', pattern: new RegExp(`^/v1/checkout/sessions/${ID}/expire$`), handler: sessionExpire },
  { method: 'GET', pattern: new RegExp(`^/v1/checkout/sessions/${ID}/line_items$`), handler: sessionLineItems },
  { method: 'GET', pattern: /^\/v1\/events$/, handler: eventList },
  { method: 'GET', pattern: new RegExp(`^/v1/events/${ID}$`), handler: eventRetrieve },
  { method: 'POST', pattern: /^\/v1\/refunds$/, handler: refundCreate },
  { method: 'GET', pattern: /^\/v1\/refunds$/, handler: refundList },
  { method: 'GET', pattern: new RegExp(`^/v1/refunds/${ID}$`), handler: retrieve('refund', 'refund', 'refund') },
  { method: 'GET', pattern: new RegExp(`^/v1/payment_intents/${ID}$`), handler: retrieve('payment_intent', 'payment_intent', 'intent') },
  { method: 'GET', pattern: new RegExp(`^/v1/charges/${ID}$`), handler: retrieve('charge', 'charge', 'charge') },
  { method: 'GET', pattern: /^\/v1\/disputes$/, handler: disputeList },
  { method: 'GET', pattern: new RegExp(`^/v1/disputes/${ID}$`), handler: retrieve('dispute', 'dispute', 'dispute') },
  { method: 'POST', pattern: new RegExp(`^/v1/disputes/${ID}/close$`), handler: disputeClose },
  { method: 'GET', pattern: new RegExp(`^/v1/products/${ID}$`), handler: retrieve('product', 'product', 'id') },
  { method: 'GET', pattern: new RegExp(`^/v1/prices/${ID}$`), handler: retrieve('price', 'price', 'price') },
  { method: 'GET', pattern: new RegExp(`^/v1/shipping_rates/${ID}$`), handler: retrieve('shipping_rate', 'shipping_rate', 'shipping_rate_token') },
  { method: 'GET', pattern: new RegExp(`^/v1/tax_rates/${ID}$`), handler: retrieve('tax_rate', 'tax_rate', 'tax_rate') },
  ...PROMOTION_ROUTES,
  ...CUSTOMER_ROUTES,
]

export function findRoute(method: string, path: string): { handler: Handler; match: string[] } | null {
  for (const route of ROUTES) {
    if (route.method !== method) continue
    const m = route.pattern.exec(path)
    if (m) return { handler: route.handler, match: m.slice(1) }
  }
  return null
}

