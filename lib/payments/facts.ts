// The store's own terms for what Stripe says: payments translates Stripe's objects into these
// (./stripe), and the domain works on them alone, never on the SDK's types.

/**
 * Where the shopper asked for the order to be sent, as Stripe's page collected it. The same
 * fields as the orders row keeps (db/schema's ShippingAddress), so the order stores it as is;
 * the typecheck of lib/orders' insert holds the two together.
 */
export type ShippingAddressFacts = Record<'name' | 'line1' | 'line2' | 'city' | 'state' | 'postalCode' | 'country', string | null>

export type CheckoutLine = {
  stripeLineItemId: string
  /** the variant the store priced it from (product metadata), when it says so */
  variantId: number | null
  description: string
  quantity: number
  unitAmountCents: number
  /** Stripe's amount_subtotal: the line before its discount and any tax added */
  subtotalCents: number
  /** what Stripe charged for the line: after its discount, with any tax added */
  totalCents: number
  /** Stripe's amount_discount and amount_tax of the line */
  discountCents: number
  taxCents: number
}

export type DisputeState = null | 'open' | 'won' | 'lost'

/** The payment behind a session, as Stripe says now. */
export type PaymentFacts = {
  /** none: not attempted; processing: a pay-later payment not settled yet; succeeded; failed */
  state: 'none' | 'processing' | 'succeeded' | 'failed'
  /** what was charged */
  amountCents: number
  /** the charge's running refund total (Stripe's amount_refunded) */
  amountRefundedCents: number
  dispute: DisputeState
}

/** A Checkout Session as the store needs it; made by payments from Stripe's objects. */
export type CheckoutFacts = {
  sessionId: string
  status: 'open' | 'complete' | 'expired'
  paymentStatus: 'paid' | 'unpaid' | 'no_payment_required'
  paymentIntentId: string | null
  /** store: this store's Checkout (cart_id); payment_link: the owner's Payment Link; foreign: anything else on the account */
  origin: 'store' | 'payment_link' | 'foreign'
  cartId: string | null
  amountTotalCents: number
  amountSubtotalCents: number
  /** shipping before tax (Stripe's shipping_cost.amount_subtotal) */
  shippingCents: number
  /** total_details.amount_tax: every tax on the session, added or included */
  taxCents: number
  /** the tax was already in the prices (inclusive) rather than added on top */
  isTaxInclusive: boolean
  /** total_details.amount_discount */
  discountCents: number
  /** the promotion codes the shopper entered, as typed into Stripe's page */
  discountCodes: string[]
  currency: string
  email: string | null
  customerName: string | null
  shippingAddress: ShippingAddressFacts | null
  shippingRateName: string | null
  /** how the shopper paid, for receipts ("Visa ending 4242"); null when Stripe did not say */
  paymentMethod?: string | null
  /** epoch milliseconds */
  createdAt: number
  /** Stripe's after_expiration.recovery.url: set once an expired session can be recovered */
  recoveryUrl?: string | null
  /** consent.promotions: what the shopper said to promotional email on Stripe's page */
  promotionsConsent?: 'opt_in' | 'opt_out' | null
  /** false when the line items were not read (the order already existed) */
  hasLines: boolean
  lines: CheckoutLine[]
  payment: PaymentFacts
}

/**
 * A webhook event as the store needs it, translated from Stripe's: which object it is about
 * and, for a Checkout Session event, the event's own copy of the session (its line items not
 * read). Which events the store acts on, and how, is the domain's business (lib/orders).
 */
export type EventFacts = {
  id: string
  type: string
  /** epoch seconds, as Stripe stamps events */
  created: number
  objectId: string | null
  /** checkout.session.* events: the session as the event carries it */
  session: CheckoutFacts | null
  /** charge and dispute events: the payment they are about, when the object names it */
  paymentIntentId: string | null
  /** dispute events: the disputed charge, to find a payment intent the dispute does not name */
  chargeId: string | null
}
