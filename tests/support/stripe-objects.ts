import type Stripe from 'stripe'

// Builders for the shapes Stripe sends, for unit tests of the transactional half of
// fulfilment (applyingSession). Integration tests get real objects from the local
// Stripe-compatible server through the real SDK instead.

let seq = 0
const id = (prefix: string) => `${prefix}_test_${Date.now().toString(36)}${(++seq).toString(36).padStart(4, '0')}`

export function sessionObject(overrides: Partial<Stripe.Checkout.Session> = {}): Stripe.Checkout.Session {
  return {
    id: id('cs'),
    object: 'checkout.session',
    status: 'complete',
    payment_status: 'paid',
    amount_total: 0,
    amount_subtotal: 0,
    currency: 'usd',
    created: Math.floor(Date.now() / 1000),
    metadata: {},
    client_reference_id: null,
    customer_details: { email: 'shopper@example.com', name: 'Sam Shopper', address: null, phone: null, tax_exempt: 'none', tax_ids: [] },
    payment_intent: id('pi'),
    shipping_cost: { amount_total: 500, amount_subtotal: 500, amount_tax: 0, shipping_rate: null },
    total_details: { amount_discount: 0, amount_shipping: 500, amount_tax: 0 },
    collected_information: {
      shipping_details: { name: 'Sam Shopper', address: { line1: '1 Harbour St', line2: null, city: 'Portland', state: 'ME', postal_code: '04101', country: 'US' } },
    },
    ...overrides,
  } as unknown as Stripe.Checkout.Session
}

export function lineItemObject(input: { variantId: number | null; quantity: number; unitAmount: number; description?: string }): Stripe.LineItem {
  return {
    id: id('li'),
    object: 'item',
    amount_subtotal: input.unitAmount * input.quantity,
    amount_total: input.unitAmount * input.quantity,
    amount_discount: 0,
    amount_tax: 0,
    currency: 'usd',
    description: input.description ?? 'Item',
    quantity: input.quantity,
    price: {
      id: id('price'),
      object: 'price',
      unit_amount: input.unitAmount,
      currency: 'usd',
      product: { id: id('prod'), object: 'product', name: input.description ?? 'Item', metadata: input.variantId === null ? {} : { variant_id: String(input.variantId) } },
    },
  } as unknown as Stripe.LineItem
}

/**
 * A payment intent as a session retrieve expands it (`payment_intent.latest_charge`), with
 * the charge's running refund total and dispute flag.
 */
export function paymentIntentObject(input: {
  status?: Stripe.PaymentIntent.Status
  amount: number
  amountRefunded?: number
  disputed?: boolean
  chargeStatus?: Stripe.Charge.Status
}): Stripe.PaymentIntent {
  const piId = id('pi')
  return {
    id: piId,
    object: 'payment_intent',
    amount: input.amount,
    currency: 'usd',
    status: input.status ?? 'succeeded',
    latest_charge: {
      id: id('ch'),
      object: 'charge',
      amount: input.amount,
      amount_refunded: input.amountRefunded ?? 0,
      refunded: (input.amountRefunded ?? 0) >= input.amount,
      disputed: input.disputed ?? false,
      payment_intent: piId,
      status: input.chargeStatus ?? (input.status === 'processing' ? 'pending' : input.status === 'requires_payment_method' ? 'failed' : 'succeeded'),
    },
  } as unknown as Stripe.PaymentIntent
}
