import 'server-only'
import Stripe from 'stripe'
import { getEnv } from '@/lib/env'
import type { CheckoutFacts, CheckoutLine, ShippingAddressFacts } from '@/lib/orders'

// Every call this store makes to Stripe's API, and the translation of what Stripe answers
// into the store's own terms. Nothing else in the app imports the SDK: the domain works on
// CheckoutFacts, so how Stripe spells a thing is decided here once.

// One client per process. With STRIPE_API_BASE (or the built-in emulator) the same official
// SDK talks to a Stripe-compatible server instead, so every code path is the one that runs
// against Stripe.
const globalForStripe = globalThis as unknown as { tillStripe?: Stripe }

export function client(): Stripe {
  if (!globalForStripe.tillStripe) {
    const env = getEnv()
    const base = env.stripeApiBase ? new URL(env.stripeApiBase) : null
    globalForStripe.tillStripe = new Stripe(env.stripeSecretKey, {
      maxNetworkRetries: 2,
      timeout: 20_000,
      telemetry: false,
      ...(base
        ? { host: base.hostname, port: base.port || (base.protocol === 'https:' ? 443 : 80), protocol: base.protocol === 'https:' ? 'https' : 'http' }
        : {}),
    })
  }
  return globalForStripe.tillStripe
}

/** Tests point the process at their own Stripe-compatible server. */
export function setClient(stripe: Stripe | undefined): void {
  globalForStripe.tillStripe = stripe
}

export type StripeEvent = Stripe.Event
export type CheckoutSessionCreateParams = Stripe.Checkout.SessionCreateParams

/** Stripe answered that the object does not exist (a mistyped or foreign link). */
export function isUnknownObject(err: unknown): boolean {
  return typeof err === 'object' && err !== null && (err as { code?: string }).code === 'resource_missing'
}

// ---------------------------------------------------------------------------------------
// Checkout Sessions

/** A session and every one of its line items (paginated past 100), as CheckoutFacts. */
export async function readCheckout(sessionId: string): Promise<CheckoutFacts> {
  const stripe = client()
  // The charge says how the shopper paid (card brand and last digits) for the receipts.
  const session = await stripe.checkout.sessions.retrieve(sessionId, { expand: ['shipping_cost.shipping_rate', 'payment_intent.latest_charge'] })
  const lineItems: Stripe.LineItem[] = []
  if (session.status === 'complete') {
    for await (const item of stripe.checkout.sessions.listLineItems(sessionId, { limit: 100, expand: ['data.price.product'] })) lineItems.push(item)
  }
  return checkoutFacts(session, lineItems)
}

export async function createCheckoutSession(params: CheckoutSessionCreateParams, idempotencyKey: string): Promise<{ id: string; url: string | null }> {
  const session = await client().checkout.sessions.create(params, { idempotencyKey })
  return { id: session.id, url: session.url }
}

/** Expires an open session so it can no longer be paid. */
export async function expireCheckoutSession(sessionId: string): Promise<void> {
  await client().checkout.sessions.expire(sessionId)
}

/** The Checkout Session that created a payment intent, or null when none did. */
export async function checkoutSessionIdForPaymentIntent(paymentIntentId: string): Promise<string | null> {
  const sessions = await client().checkout.sessions.list({ payment_intent: paymentIntentId, limit: 1 })
  return sessions.data[0]?.id ?? null
}

/** Every completed session created at or after `sinceSeconds`, newest first. */
export async function completedCheckoutSessionIds(sinceSeconds: number): Promise<{ id: string; amountTotalCents: number | null }[]> {
  const out: { id: string; amountTotalCents: number | null }[] = []
  for await (const session of client().checkout.sessions.list({ status: 'complete', created: { gte: sinceSeconds }, limit: 100 })) {
    out.push({ id: session.id, amountTotalCents: session.amount_total })
  }
  return out
}

// ---------------------------------------------------------------------------------------
// Charges, disputes, events

export type ChargeFacts = { id: string; paymentIntentId: string | null; amountRefundedCents: number }

export async function readCharge(chargeId: string): Promise<ChargeFacts> {
  const charge = await client().charges.retrieve(chargeId)
  return { id: charge.id, paymentIntentId: idOf(charge.payment_intent), amountRefundedCents: charge.amount_refunded }
}

/** Every event of these types created at or after `sinceSeconds`, newest first as Stripe lists them. */
export async function listEvents(types: readonly string[], sinceSeconds: number): Promise<Stripe.Event[]> {
  const out: Stripe.Event[] = []
  for await (const event of client().events.list({ types: [...types], created: { gte: sinceSeconds }, limit: 100 })) out.push(event)
  return out
}

export function constructEvent(payload: string, signature: string, secret: string, toleranceSeconds: number): Stripe.Event {
  return client().webhooks.constructEvent(payload, signature, secret, toleranceSeconds)
}

// ---------------------------------------------------------------------------------------
// Translation

export function idOf(ref: string | { id: string } | null | undefined): string | null {
  return typeof ref === 'string' ? ref : (ref?.id ?? null)
}

/** Stripe may add values to an enum; anything this store does not know reads as `fallback`. */
function oneOf<T extends string>(value: string | null | undefined, known: readonly T[], fallback: T): T {
  return (known as readonly string[]).includes(value ?? '') ? (value as T) : fallback
}

function variantIdOf(item: Stripe.LineItem): number | null {
  const product = item.price?.product
  const raw = product && typeof product === 'object' && 'metadata' in product ? product.metadata?.variant_id : undefined
  const id = Number(raw)
  return raw && Number.isSafeInteger(id) && id > 0 ? id : null
}

function shippingOf(session: Stripe.Checkout.Session): ShippingAddressFacts | null {
  const details = session.collected_information?.shipping_details
  const address = details?.address ?? session.customer_details?.address
  if (!address) return null
  return {
    name: details?.name ?? session.customer_details?.name ?? null,
    line1: address.line1 ?? null,
    line2: address.line2 ?? null,
    city: address.city ?? null,
    state: address.state ?? null,
    postalCode: address.postal_code ?? null,
    country: address.country ?? null,
  }
}

/** What the store needs of a session, in its own terms. Pure: tests feed it built objects. */
export function checkoutFacts(session: Stripe.Checkout.Session, lineItems: Stripe.LineItem[]): CheckoutFacts {
  const rate = session.shipping_cost?.shipping_rate
  const lines: CheckoutLine[] = lineItems.map((item) => {
    const quantity = item.quantity ?? 1
    return {
      stripeLineItemId: item.id,
      variantId: variantIdOf(item),
      description: item.description ?? 'Item',
      quantity,
      unitAmountCents: item.price?.unit_amount ?? Math.round(item.amount_subtotal / quantity),
      totalCents: item.amount_total,
    }
  })
  return {
    sessionId: session.id,
    status: oneOf(session.status, ['open', 'complete', 'expired'], 'open'),
    paymentStatus: oneOf(session.payment_status, ['paid', 'unpaid', 'no_payment_required'], 'unpaid'),
    paymentIntentId: idOf(session.payment_intent),
    cartId: session.metadata?.cart_id ?? session.client_reference_id ?? null,
    amountTotalCents: session.amount_total ?? 0,
    amountSubtotalCents: session.amount_subtotal ?? 0,
    shippingCents: session.shipping_cost?.amount_total ?? 0,
    taxCents: session.total_details?.amount_tax ?? 0,
    currency: session.currency ?? 'usd',
    email: session.customer_details?.email ?? session.customer_email ?? null,
    customerName: session.customer_details?.name ?? null,
    shippingAddress: shippingOf(session),
    shippingRateName: rate && typeof rate === 'object' ? (rate.display_name ?? null) : null,
    paymentMethod: paymentMethodOf(session),
    createdAt: (session.created ?? Math.floor(Date.now() / 1000)) * 1000,
    lines,
  }
}

const CARD_BRANDS: Record<string, string> = {
  amex: 'American Express',
  cartes_bancaires: 'Cartes Bancaires',
  diners: 'Diners Club',
  discover: 'Discover',
  eftpos_au: 'eftpos',
  jcb: 'JCB',
  link: 'Link',
  mastercard: 'Mastercard',
  unionpay: 'UnionPay',
  visa: 'Visa',
}

/** How the shopper paid, in words for receipts, from the charge when the session was read with it expanded. */
export function describePaymentMethod(details: Stripe.Charge.PaymentMethodDetails | null | undefined): string | null {
  if (!details) return null
  if (details.type === 'card' && details.card) {
    const brand = CARD_BRANDS[details.card.brand ?? ''] ?? 'Card'
    return details.card.last4 ? `${brand} ending ${details.card.last4}` : brand
  }
  const bank = details.us_bank_account ?? details.sepa_debit ?? details.bacs_debit ?? details.au_becs_debit ?? details.acss_debit
  if (bank) return bank.last4 ? `Bank account ending ${bank.last4}` : 'Bank account'
  if (details.type === 'customer_balance') return 'Bank transfer'
  const words = details.type.replace(/_/g, ' ')
  return words.charAt(0).toUpperCase() + words.slice(1)
}

function paymentMethodOf(session: Stripe.Checkout.Session): string | null {
  const intent = session.payment_intent
  const charge = intent && typeof intent === 'object' ? intent.latest_charge : null
  return charge && typeof charge === 'object' ? describePaymentMethod(charge.payment_method_details) : null
}
