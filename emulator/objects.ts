import type Stripe from 'stripe'
import { newId } from './ids'

// Builders for the Stripe objects the emulator serves. Each is typed against the SDK's own
// interfaces (stripe v23), so a field the SDK promises is a field the emulator sends.

export type Address = {
  line1: string | null
  line2: string | null
  city: string | null
  state: string | null
  postal_code: string | null
  country: string | null
}

export type LineInput = {
  name: string
  description: string | null
  images: string[]
  productMetadata: Record<string, string>
  unitAmount: number
  quantity: number
  /** price_data[tax_behavior]; how automatic tax treats the amount. */
  taxBehavior?: TaxBehaviorParam
  /** product_data[tax_code], e.g. txcd_99999999. */
  taxCode?: string | null
  /** An existing product or price to reuse instead of creating new ones. */
  productId?: string
  priceId?: string
}

export type TaxBehaviorParam = 'inclusive' | 'exclusive' | 'unspecified'

export type ShippingRateInput = {
  displayName: string
  amount: number
  deliveryEstimate: Stripe.ShippingRate.DeliveryEstimate | null
  metadata: Record<string, string>
  taxBehavior?: TaxBehaviorParam
  taxCode?: string | null
  /** An existing shipping rate to reuse. */
  id?: string
}

export type SessionInput = {
  currency: string
  lines: LineInput[]
  metadata: Record<string, string>
  clientReferenceId: string | null
  customerEmail: string | null
  allowedCountries: string[] | null
  shippingRates: ShippingRateInput[]
  expiresAt: number
  successUrl: string | null
  cancelUrl: string | null
  paymentIntentData: { metadata: Record<string, string>; description: string | null }
  paymentLink: string | null
  locale: string | null
  submitType: string | null
  billingAddressCollection: string | null
  isPhoneCollected: boolean
  /** allow_promotion_codes as given (null when absent). */
  allowPromotionCodes?: boolean | null
  /** discounts[]: at most one, a coupon or a promotion code id. */
  discounts?: { coupon?: string; promotionCode?: string }[]
  isAutomaticTax?: boolean
  /** customer: an existing Customer (cus_…) whose details Checkout prefills. */
  customer?: string | null
  /** customer_update: which details the shopper enters are saved back onto the Customer. */
  customerUpdate?: { name?: 'auto' | 'never'; address?: 'auto' | 'never'; shipping?: 'auto' | 'never' } | null
  /** after_expiration[recovery] as given. */
  recovery?: { enabled: boolean; allowPromotionCodes: boolean } | null
  /** consent_collection[promotions] as given. */
  promotionsConsent?: 'auto' | 'none' | null
  /** The expired session this one recovers (a click on its recovery URL). */
  recoveredFrom?: string | null
}

/** The discount a session carries, with the coupon as it was when the discount was attached. */
export type AttachedDiscount = { discount: Stripe.Discount; coupon: Stripe.Coupon; code: string | null }

export type StoredSession = Stripe.Checkout.Session & {
  /** Kept beside the Stripe fields (stripped before sending) for the hosted page. */
  emulator: {
    paymentIntentData: SessionInput['paymentIntentData']
    /** What the session was created from, so an expired one can be recovered as a copy. */
    input?: SessionInput
    customerUpdate?: SessionInput['customerUpdate']
    /** Sessions stored before discounts existed have none of the fields below. */
    attached?: AttachedDiscount | null
    /** The shipping option the totals were last computed with. */
    shippingIndex?: number
  }
}

/**
 * The session as the API sends it. total_details.breakdown is stored but, as on Stripe, only
 * sent when the caller expands it; webhook payloads never carry it.
 */
export function publicSession(session: StoredSession, opts: { isBreakdownShown?: boolean } = {}): Stripe.Checkout.Session {
  const { emulator: _internal, ...rest } = session
  if (rest.total_details && !opts.isBreakdownShown) {
    const { breakdown: _breakdown, ...details } = rest.total_details
    return { ...rest, total_details: details }
  }
  return rest
}

/** A line item as sent: its discounts and taxes arrays only when expanded. */
export function publicLineItem(item: Stripe.LineItem, opts: { isDiscountsShown?: boolean; isTaxesShown?: boolean } = {}): Stripe.LineItem {
  const { discounts, taxes, ...rest } = item
  return { ...rest, ...(opts.isDiscountsShown ? { discounts: discounts ?? [] } : {}), ...(opts.isTaxesShown ? { taxes: taxes ?? [] } : {}) }
}

export function buildProduct(created: number, line: LineInput): Stripe.Product {
  return {
    id: newId('prod'),
    object: 'product',
    active: true,
    created,
    default_price: null,
    description: line.description,
    images: line.images,
    livemode: false,
    marketing_features: [],
    metadata: line.productMetadata,
    name: line.name,
    package_dimensions: null,
    shippable: null,
    statement_descriptor: null,
    tax_code: line.taxCode ?? null,
    tax_details: null,
    type: 'service',
    unit_label: null,
    updated: created,
    url: null,
  }
}

export function buildPrice(created: number, productId: string, currency: string, unitAmount: number, taxBehavior: TaxBehaviorParam = 'unspecified'): Stripe.Price {
  return {
    id: newId('price'),
    object: 'price',
    // Prices made from price_data are single-use and inactive, as on Stripe.
    active: false,
    billing_scheme: 'per_unit',
    created,
    currency,
    custom_unit_amount: null,
    livemode: false,
    lookup_key: null,
    metadata: {},
    nickname: null,
    product: productId,
    recurring: null,
    tax_behavior: taxBehavior,
    tiers_mode: null,
    transform_quantity: null,
    type: 'one_time',
    unit_amount: unitAmount,
    // On the wire a Decimal is a string.
    unit_amount_decimal: String(unitAmount) as unknown as Stripe.Price['unit_amount_decimal'],
  }
}

export function buildLineItem(price: Stripe.Price, description: string, quantity: number): Stripe.LineItem {
  const amount = (price.unit_amount ?? 0) * quantity
  return {
    id: newId('li'),
    object: 'item',
    adjustable_quantity: null,
    amount_discount: 0,
    amount_subtotal: amount,
    amount_tax: 0,
    amount_total: amount,
    currency: price.currency,
    description,
    metadata: {},
    price,
    quantity,
  }
}

export function buildShippingRate(created: number, currency: string, input: ShippingRateInput): Stripe.ShippingRate {
  return {
    id: newId('shr'),
    object: 'shipping_rate',
    active: true,
    created,
    delivery_estimate: input.deliveryEstimate,
    display_name: input.displayName,
    fixed_amount: { amount: input.amount, currency },
    livemode: false,
    metadata: input.metadata,
    tax_behavior: input.taxBehavior ?? 'unspecified',
    tax_code: input.taxCode ?? null,
    type: 'fixed_amount',
  }
}

export function buildSession(args: {
  id: string
  created: number
  input: SessionInput
  subtotal: number
  shippingRates: Stripe.ShippingRate[]
  url: string
  /** The Customer given as `customer`, whose email and name Checkout starts from. */
  customer?: Stripe.Customer | null
}): StoredSession {
  const { input } = args
  const customer = args.customer ?? null
  const knownEmail = customer?.email ?? input.customerEmail
  const first = args.shippingRates[0]
  const shippingAmount = first?.fixed_amount?.amount ?? 0
  return {
    id: args.id,
    object: 'checkout.session',
    adaptive_pricing: null,
    after_expiration: input.recovery ? { recovery: { allow_promotion_codes: input.recovery.allowPromotionCodes, enabled: input.recovery.enabled, expires_at: null, url: null } } : null,
    allow_promotion_codes: input.allowPromotionCodes ?? null,
    allowed_payment_method_types: null,
    amount_subtotal: args.subtotal,
    amount_total: args.subtotal + shippingAmount,
    automatic_tax: input.isAutomaticTax
      ? { enabled: true, liability: { type: 'self' }, provider: 'stripe', status: 'requires_location_inputs' }
      : { enabled: false, liability: null, provider: null, status: null },
    billing_address_collection: (input.billingAddressCollection as Stripe.Checkout.Session.BillingAddressCollection | null) ?? null,
    cancel_url: input.cancelUrl,
    client_reference_id: input.clientReferenceId,
    client_secret: null,
    collected_information: null,
    consent: null,
    consent_collection: input.promotionsConsent ? { payment_method_reuse_agreement: null, promotions: input.promotionsConsent, terms_of_service: 'none' } : null,
    created: args.created,
    currency: input.currency,
    currency_conversion: null,
    custom_fields: [],
    custom_text: { after_submit: null, shipping_address: null, submit: null, terms_of_service_acceptance: null },
    customer: customer?.id ?? null,
    customer_account: null,
    customer_creation: customer ? null : 'if_required',
    customer_details: knownEmail
      ? { address: null, business_name: null, email: knownEmail, individual_name: null, name: customer?.name ?? null, phone: null, tax_exempt: 'none', tax_ids: null }
      : null,
    customer_email: input.customerEmail,
    discounts: [],
    expires_at: input.expiresAt,
    integration_identifier: null,
    invoice: null,
    invoice_creation: { enabled: false, invoice_data: { account_tax_ids: null, custom_fields: null, description: null, footer: null, issuer: null, metadata: {}, rendering_options: null } },
    livemode: false,
    locale: (input.locale as Stripe.Checkout.Session.Locale | null) ?? null,
    managed_payments: null,
    metadata: input.metadata,
    mode: 'payment',
    origin_context: null,
    payment_intent: null,
    payment_link: input.paymentLink,
    payment_method_collection: 'if_required',
    payment_method_configuration_details: null,
    payment_method_options: { card: { request_three_d_secure: 'automatic' } } as Stripe.Checkout.Session.PaymentMethodOptions,
    payment_method_types: ['card'],
    payment_status: 'unpaid',
    permissions: null,
    phone_number_collection: { enabled: input.isPhoneCollected },
    recovered_from: input.recoveredFrom ?? null,
    saved_payment_method_options: null,
    setup_intent: null,
    shipping_address_collection: input.allowedCountries
      ? { allowed_countries: input.allowedCountries as Stripe.Checkout.Session.ShippingAddressCollection.AllowedCountry[] }
      : null,
    shipping_cost: first ? { amount_subtotal: shippingAmount, amount_tax: 0, amount_total: shippingAmount, shipping_rate: first.id } : null,
    shipping_options: args.shippingRates.map((rate) => ({ shipping_amount: rate.fixed_amount?.amount ?? 0, shipping_rate: rate.id })),
    status: 'open',
    submit_type: (input.submitType as Stripe.Checkout.Session.SubmitType | null) ?? null,
    subscription: null,
    success_url: input.successUrl,
    total_details: { amount_discount: 0, amount_shipping: shippingAmount, amount_tax: 0 },
    ui_mode: 'hosted',
    url: args.url,
    wallet_options: null,
    emulator: { paymentIntentData: input.paymentIntentData, attached: null, shippingIndex: 0, input, customerUpdate: input.customerUpdate ?? null },
  }
}

export type PaymentMethodKind = 'card' | 'bank_transfer'

export function buildPaymentIntent(args: {
  created: number
  amount: number
  currency: string
  kind: PaymentMethodKind
  paymentMethodId: string
  chargeId: string
  status: 'succeeded' | 'processing'
  email: string | null
  shipping: Stripe.PaymentIntent.Shipping | null
  metadata: Record<string, string>
  description: string | null
}): Stripe.PaymentIntent {
  const id = newId('pi')
  return {
    id,
    object: 'payment_intent',
    allowed_payment_method_types: null,
    amount: args.amount,
    amount_capturable: 0,
    amount_details: { tip: {} } as Stripe.PaymentIntent.AmountDetails,
    amount_received: args.status === 'succeeded' ? args.amount : 0,
    application: null,
    application_fee_amount: null,
    automatic_payment_methods: null,
    canceled_at: null,
    cancellation_reason: null,
    capture_method: 'automatic_async',
    client_secret: `${id}_secret_${newId('req').slice(4)}`,
    confirmation_method: 'automatic',
    created: args.created,
    currency: args.currency,
    customer: null,
    customer_account: null,
    description: args.description,
    excluded_payment_method_types: null,
    last_payment_error: null,
    latest_charge: args.chargeId,
    livemode: false,
    managed_payments: null,
    metadata: args.metadata,
    next_action: null,
    on_behalf_of: null,
    payment_method: args.paymentMethodId,
    payment_method_configuration_details: null,
    payment_method_options: null,
    payment_method_types: [args.kind === 'card' ? 'card' : 'us_bank_account'],
    payment_record: null,
    processing: null,
    receipt_email: args.email,
    review: null,
    setup_future_usage: null,
    shipping: args.shipping,
    source: null,
    statement_descriptor: null,
    statement_descriptor_suffix: null,
    status: args.status,
    transfer_group: null,
  }
}

function cardDetails(last4: string): Stripe.Charge.PaymentMethodDetails {
  const year = new Date().getUTCFullYear() + 3
  return {
    type: 'card',
    card: {
      amount_authorized: null,
      authorization_code: null,
      brand: last4 === '4444' ? 'mastercard' : 'visa',
      capture_before: undefined,
      checks: { address_line1_check: null, address_postal_code_check: null, cvc_check: 'pass' },
      country: 'US',
      exp_month: 12,
      exp_year: year,
      extended_authorization: undefined,
      fingerprint: 'emulatedFp0000',
      funding: 'credit',
      incremental_authorization: undefined,
      installments: null,
      last4,
      mandate: null,
      multicapture: undefined,
      network: last4 === '4444' ? 'mastercard' : 'visa',
      network_token: null,
      network_transaction_id: null,
      overcapture: undefined,
      regulated_status: 'unregulated',
      three_d_secure: null,
      wallet: null,
    } as unknown as Stripe.Charge.PaymentMethodDetails.Card,
  }
}

function bankDetails(): Stripe.Charge.PaymentMethodDetails {
  return {
    type: 'us_bank_account',
    us_bank_account: {
      account_holder_type: 'individual',
      account_type: 'checking',
      bank_name: 'STRIPE TEST BANK',
      fingerprint: 'emulatedBank00',
      last4: '6789',
      mandate: undefined,
      payment_reference: null,
      routing_number: '110000000',
    } as unknown as Stripe.Charge.PaymentMethodDetails.UsBankAccount,
  }
}

export function buildCharge(args: {
  id?: string
  created: number
  amount: number
  currency: string
  kind: PaymentMethodKind
  last4: string
  paymentIntentId: string
  paymentMethodId: string
  status: 'succeeded' | 'pending'
  billing: Stripe.Charge.BillingDetails
  shipping: Stripe.Charge.Shipping | null
  receiptEmail: string | null
}): Stripe.Charge {
  const id = args.id ?? newId('ch')
  return {
    id,
    object: 'charge',
    amount: args.amount,
    amount_captured: args.status === 'succeeded' ? args.amount : 0,
    amount_refunded: 0,
    application: null,
    application_fee: null,
    application_fee_amount: null,
    balance_transaction: args.status === 'succeeded' ? newId('txn') : null,
    billing_details: args.billing,
    calculated_statement_descriptor: 'TILL',
    captured: args.status === 'succeeded',
    created: args.created,
    currency: args.currency,
    customer: null,
    description: null,
    disputed: false,
    failure_balance_transaction: null,
    failure_code: null,
    failure_message: null,
    fraud_details: {},
    livemode: false,
    metadata: {},
    on_behalf_of: null,
    outcome: {
      advice_code: null,
      network_advice_code: null,
      network_decline_code: null,
      network_status: 'approved_by_network',
      reason: null,
      risk_level: 'normal',
      risk_score: 20,
      seller_message: 'Payment complete.',
      type: 'authorized',
    },
    paid: args.status === 'succeeded',
    payment_intent: args.paymentIntentId,
    payment_method: args.paymentMethodId,
    payment_method_details: args.kind === 'card' ? cardDetails(args.last4) : bankDetails(),
    receipt_email: args.receiptEmail,
    receipt_number: null,
    receipt_url: null,
    refunded: false,
    refunds: { object: 'list', data: [], has_more: false, url: `/v1/charges/${id}/refunds` },
    review: null,
    shipping: args.shipping,
    source: null,
    source_transfer: null,
    statement_descriptor: null,
    statement_descriptor_suffix: null,
    status: args.status,
    transfer_data: null,
    transfer_group: null,
  }
}

export function buildRefund(args: {
  created: number
  amount: number
  charge: Stripe.Charge
  reason: Stripe.Refund.Reason | null
  metadata: Record<string, string>
}): Stripe.Refund {
  return {
    id: newId('re'),
    object: 'refund',
    amount: args.amount,
    balance_transaction: newId('txn'),
    charge: args.charge.id,
    created: args.created,
    currency: args.charge.currency,
    customer: null,
    customer_account: null,
    destination_details: { type: 'card', card: { reference_status: 'pending', reference_type: 'acquirer_reference_number', type: 'refund' } } as Stripe.Refund.DestinationDetails,
    metadata: args.metadata,
    payment_intent: typeof args.charge.payment_intent === 'string' ? args.charge.payment_intent : (args.charge.payment_intent?.id ?? null),
    payment_method: args.charge.payment_method,
    reason: args.reason,
    receipt_number: null,
    source_transfer_reversal: null,
    status: 'succeeded',
    transfer_reversal: null,
  }
}

export function buildDispute(args: { created: number; charge: Stripe.Charge; amount: number; reason: string }): Stripe.Dispute {
  const nullEvidence = {
    access_activity_log: null,
    billing_address: null,
    cancellation_policy: null,
    cancellation_policy_disclosure: null,
    cancellation_rebuttal: null,
    customer_communication: null,
    customer_email_address: null,
    customer_name: null,
    customer_purchase_ip: null,
    customer_signature: null,
    duplicate_charge_documentation: null,
    duplicate_charge_explanation: null,
    duplicate_charge_id: null,
    enhanced_evidence: {},
    product_description: null,
    receipt: null,
    refund_policy: null,
    refund_policy_disclosure: null,
    refund_refusal_explanation: null,
    service_date: null,
    service_documentation: null,
    shipping_address: null,
    shipping_carrier: null,
    shipping_date: null,
    shipping_documentation: null,
    shipping_tracking_number: null,
    uncategorized_file: null,
    uncategorized_text: null,
  }
  return {
    id: newId('dp'),
    object: 'dispute',
    amount: args.amount,
    balance_transactions: [],
    charge: args.charge.id,
    created: args.created,
    currency: args.charge.currency,
    enhanced_eligibility_types: [],
    evidence: nullEvidence,
    evidence_details: {
      due_by: args.created + 7 * 86400,
      enhanced_eligibility: {},
      has_evidence: false,
      past_due: false,
      submission_count: 0,
      submission_method: null,
    } as unknown as Stripe.Dispute.EvidenceDetails,
    intended_submission_method: null,
    is_charge_refundable: false,
    livemode: false,
    metadata: {},
    payment_intent: typeof args.charge.payment_intent === 'string' ? args.charge.payment_intent : (args.charge.payment_intent?.id ?? null),
    reason: args.reason,
    status: 'needs_response',
  }
}

export type EmulatedEvent = {
  id: string
  object: 'event'
  api_version: string
  created: number
  data: { object: unknown; previous_attributes?: Record<string, unknown> }
  livemode: false
  pending_webhooks: number
  request: { id: string | null; idempotency_key: string | null }
  type: string
}

export function buildCoupon(args: {
  id: string
  created: number
  percentOff: number | null
  amountOff: number | null
  currency: string | null
  duration: Stripe.Coupon.Duration
  durationInMonths: number | null
  maxRedemptions: number | null
  metadata: Record<string, string>
  name: string | null
  redeemBy: number | null
  appliesTo: string[] | null
}): Stripe.Coupon {
  return {
    id: args.id,
    object: 'coupon',
    amount_off: args.amountOff,
    ...(args.appliesTo ? { applies_to: { products: args.appliesTo } } : {}),
    created: args.created,
    currency: args.currency,
    duration: args.duration,
    duration_in_months: args.durationInMonths,
    livemode: false,
    max_redemptions: args.maxRedemptions,
    metadata: args.metadata,
    name: args.name,
    percent_off: args.percentOff,
    redeem_by: args.redeemBy,
    times_redeemed: 0,
    valid: true,
  }
}

export function buildPromotionCode(args: {
  created: number
  code: string
  coupon: string
  active: boolean
  customer: string | null
  expiresAt: number | null
  maxRedemptions: number | null
  metadata: Record<string, string>
  firstTimeTransaction: boolean
  minimumAmount: number | null
  minimumAmountCurrency: string | null
}): Stripe.PromotionCode {
  return {
    id: newId('promo'),
    object: 'promotion_code',
    active: args.active,
    code: args.code,
    created: args.created,
    customer: args.customer,
    customer_account: null,
    expires_at: args.expiresAt,
    livemode: false,
    max_redemptions: args.maxRedemptions,
    metadata: args.metadata,
    promotion: { type: 'coupon', coupon: args.coupon },
    restrictions: {
      first_time_transaction: args.firstTimeTransaction,
      minimum_amount: args.minimumAmount,
      minimum_amount_currency: args.minimumAmountCurrency,
    },
    times_redeemed: 0,
  }
}

export function buildDiscount(args: { created: number; sessionId: string; coupon: string; promotionCode: string | null }): Stripe.Discount {
  return {
    id: newId('di'),
    object: 'discount',
    checkout_session: args.sessionId,
    customer: null,
    customer_account: null,
    end: null,
    invoice: null,
    invoice_item: null,
    promotion_code: args.promotionCode,
    source: { coupon: args.coupon, type: 'coupon' },
    start: args.created,
    subscription: null,
    subscription_item: null,
  }
}

// The name each country's tax goes by on a receipt; anything unlisted is a VAT.
const TAX_TYPES: Record<string, { type: Stripe.TaxRate.TaxType; name: string }> = {
  US: { type: 'sales_tax', name: 'Sales Tax' },
  CA: { type: 'gst', name: 'GST' },
  AU: { type: 'gst', name: 'GST' },
  NZ: { type: 'gst', name: 'GST' },
  SG: { type: 'gst', name: 'GST' },
  IN: { type: 'gst', name: 'GST' },
  JP: { type: 'jct', name: 'JCT' },
}

export function buildTaxRate(args: { created: number; country: string; percentage: number; isInclusive: boolean }): Stripe.TaxRate {
  const kind = TAX_TYPES[args.country] ?? { type: 'vat', name: 'VAT' }
  return {
    id: newId('txr'),
    object: 'tax_rate',
    active: true,
    country: args.country,
    created: args.created,
    description: null,
    display_name: kind.name,
    effective_percentage: args.percentage,
    flat_amount: null,
    inclusive: args.isInclusive,
    jurisdiction: args.country,
    jurisdiction_level: 'country',
    livemode: false,
    metadata: {},
    percentage: args.percentage,
    rate_type: 'percentage',
    state: null,
    tax_type: kind.type,
  }
}

export function list<T>(data: T[], hasMore: boolean, url: string): Stripe.ApiList<T> {
  return { object: 'list', data, has_more: hasMore, url }
}

export function buildCustomer(args: { id: string; created: number; email: string | null; name: string | null; description: string | null; metadata: Record<string, string>; shipping: Stripe.Customer.Shipping | null; phone: string | null }): Stripe.Customer {
  return {
    id: args.id,
    object: 'customer',
    address: null,
    balance: 0,
    created: args.created,
    currency: null,
    default_source: null,
    delinquent: false,
    description: args.description,
    discount: null,
    email: args.email,
    invoice_prefix: args.id.slice(4, 12).toUpperCase(),
    invoice_settings: { custom_fields: null, default_payment_method: null, footer: null, rendering_options: null },
    livemode: false,
    metadata: args.metadata,
    name: args.name,
    next_invoice_sequence: 1,
    phone: args.phone,
    preferred_locales: [],
    shipping: args.shipping,
    tax_exempt: 'none',
    test_clock: null,
  }
}
