import 'server-only'
import { AsyncLocalStorage } from 'node:async_hooks'
import Stripe from 'stripe'
import { getEnv } from '@/lib/env'
import { InvalidSignature } from '@/lib/errors'
import { log } from '@/lib/log'
import type { CheckoutFacts, CheckoutLine, DisputeState, EventFacts, PaymentFacts, ShippingAddressFacts } from './facts'
import { keys, resetKeys } from './keys'

// Every call this store makes to Stripe's API, and the translation of what Stripe answers
// into the store's own terms. Nothing else in the app imports the SDK: the domain works on
// CheckoutFacts, so how Stripe spells a thing is decided here once.

// One client per process. With STRIPE_API_BASE (or the built-in emulator) the same official
// SDK talks to a Stripe-compatible server instead, so every code path is the one that runs
// against Stripe.
const globalForStripe = globalThis as unknown as { tillStripe?: Stripe; tillStripeInProcess?: InProcessServer }

/** A Stripe-compatible server living in this very process, answering fetch-style requests. */
export type InProcessServer = (request: Request) => Promise<Response>

/**
 * With the built-in emulator the API is served by this process itself. Its requests are then
 * handed to the emulator directly instead of going out over a socket to this same server and
 * through Next's router to app/v1, which made every read on the webhook path cost a second
 * full request. The SDK, the request it builds and the emulator code that answers it are the
 * same; only the transport is skipped. Boot calls this; a remote API (real Stripe, or an
 * emulator at STRIPE_API_BASE) keeps the network.
 */
export function serveInProcess(server: InProcessServer | undefined): void {
  globalForStripe.tillStripeInProcess = server
  globalForStripe.tillStripe = undefined
}

function client(): Stripe {
  if (!globalForStripe.tillStripe) {
    const env = getEnv()
    const base = env.stripeApiBase ? new URL(env.stripeApiBase) : null
    globalForStripe.tillStripe = counted(
      new Stripe(keys().secretKey, {
        maxNetworkRetries: 2,
        timeout: 20_000,
        telemetry: false,
        // Names the store in the User-Agent, so a Stripe-side request log can tell its calls apart.
        appInfo: { name: 'Till' },
        ...(globalForStripe.tillStripeInProcess ? { httpClient: Stripe.createFetchHttpClient(inProcessFetch(globalForStripe.tillStripeInProcess)) } : {}),
        ...(base
          ? { host: base.hostname, port: base.port || (base.protocol === 'https:' ? 443 : 80), protocol: base.protocol === 'https:' ? 'https' : 'http' }
          : {}),
      }),
    )
  }
  return globalForStripe.tillStripe
}

function inProcessFetch(server: InProcessServer): typeof fetch {
  return (input, init) => server(new Request(input, init))
}

/** Tests point the process at their own Stripe-compatible server. */
export function setClient(stripe: Stripe | undefined): void {
  globalForStripe.tillStripe = stripe ? counted(stripe) : undefined
  resetKeys()
}

// Every API request (each page of a list, each retry) is counted per `countCalls` scope, so
// reconciliation can say what a run cost even while webhooks are being handled at the same
// time in the same process.
const callScope = new AsyncLocalStorage<{ calls: number }>()
const countedClients = new WeakSet<Stripe>()

function counted(stripe: Stripe): Stripe {
  if (countedClients.has(stripe)) return stripe
  countedClients.add(stripe)
  stripe.on('request', () => {
    const scope = callScope.getStore()
    if (scope) scope.calls++
  })
  return stripe
}

/** Runs `fn` and counts the Stripe API requests made on its behalf. */
export async function countCalls<T>(fn: () => Promise<T>): Promise<{ result: T; calls: number }> {
  const scope = { calls: 0 }
  const result = await callScope.run(scope, fn)
  return { result, calls: scope.calls }
}

export type CheckoutSessionCreateParams = Stripe.Checkout.SessionCreateParams

/** Stripe answered that the object does not exist (a mistyped or foreign link). */
export function isUnknownObject(err: unknown): boolean {
  return typeof err === 'object' && err !== null && (err as { code?: string }).code === 'resource_missing'
}

// ---------------------------------------------------------------------------------------
// Checkout Sessions

/**
 * A session and its payment as Stripe says now, as CheckoutFacts, in as few requests as
 * possible: one retrieve brings the session, its payment intent and latest charge (with the
 * running amount_refunded) and, when `withLines`, the first page of line items. More line
 * items, and the dispute's status when the charge is disputed, cost one request more each.
 * Without `withLines` (the order already exists, so its lines are known) `lines` is empty
 * and `hasLines` false.
 */
export async function readCheckout(sessionId: string, opts: { withLines?: boolean } = {}): Promise<CheckoutFacts> {
  const stripe = client()
  // The charge says how the shopper paid (card brand and last digits) for the receipts.
  const withLines = opts.withLines ?? true
  const expand = ['shipping_cost.shipping_rate', 'payment_intent.latest_charge']
  // A new order also records the promotion codes used, as the shopper typed them: expanded
  // here, in the same request, from the session's discounts and, where Stripe lists a code
  // entered on its page only there, the breakdown of its totals.
  if (withLines) expand.push('line_items.data.price.product', 'discounts.promotion_code', 'total_details.breakdown')
  const session = await stripe.checkout.sessions.retrieve(sessionId, { expand })
  const lineItems: Stripe.LineItem[] = []
  if (withLines && session.status === 'complete') {
    const first = session.line_items
    lineItems.push(...(first?.data ?? []))
    if (!first || first.has_more) {
      const after = lineItems.at(-1)?.id
      for await (const item of stripe.checkout.sessions.listLineItems(sessionId, { limit: 100, expand: ['data.price.product'], ...(after ? { starting_after: after } : {}) })) {
        lineItems.push(item)
      }
    }
  }
  const charge = latestCharge(session)
  const dispute = charge?.disputed ? await disputeStateOf(charge.id) : null
  const facts = checkoutFacts(session, lineItems, { hasLines: withLines, dispute })
  // A code known only by its id (the breakdown cannot expand that deep) is read once, while
  // its order is being created; codes themselves never contain "_", so an id cannot be one.
  if (withLines) facts.discountCodes = await Promise.all(facts.discountCodes.map(async (code) => (code.startsWith('promo_') ? (await stripe.promotionCodes.retrieve(code)).code : code)))
  return facts
}

function latestCharge(session: Stripe.Checkout.Session): Stripe.Charge | null {
  const intent = session.payment_intent
  const charge = intent && typeof intent === 'object' ? intent.latest_charge : null
  return charge && typeof charge === 'object' ? charge : null
}

/** The charge's dispute, in the store's terms: open until Stripe closes it won or lost. */
async function disputeStateOf(chargeId: string): Promise<DisputeState> {
  const page = await client().disputes.list({ charge: chargeId, limit: 10 })
  // A charge is disputed at most once at a time; the newest dispute is the one that counts.
  return disputeState(page.data[0]?.status)
}

function disputeState(status: string | null | undefined): DisputeState {
  if (!status) return null
  if (status === 'lost') return 'lost'
  // warning_closed: an inquiry that never became a chargeback; prevented: resolved before one.
  if (status === 'won' || status === 'warning_closed' || status === 'prevented') return 'won'
  return 'open'
}

export async function createCheckoutSession(params: CheckoutSessionCreateParams, idempotencyKey: string): Promise<{ id: string; url: string | null }> {
  const session = await client().checkout.sessions.create(params, { idempotencyKey })
  return { id: session.id, url: session.url }
}

/**
 * A Stripe Customer for a shopper's account, so Checkout prefills what they entered before.
 * The key makes two checkouts racing for the first one end with the same Customer.
 */
export async function createCustomer(input: { email: string; accountId: number }, idempotencyKey: string): Promise<string> {
  const customer = await client().customers.create({ email: input.email, metadata: { account_id: String(input.accountId) } }, { idempotencyKey })
  return customer.id
}

/** Expires an open session so it can no longer be paid. */
export async function expireCheckoutSession(sessionId: string): Promise<void> {
  await client().checkout.sessions.expire(sessionId)
}

/**
 * Makes sure a session can no longer be paid, and says how it ended: 'expired' (it can never
 * be paid now) or 'complete' (the shopper already paid, or started a payment that settles
 * later). Throws when Stripe could not be reached or the session is still open.
 */
export async function closeCheckoutSession(sessionId: string): Promise<'expired' | 'complete'> {
  try {
    await client().checkout.sessions.expire(sessionId)
    return 'expired'
  } catch (err) {
    // A session that does not exist can never be paid.
    if (isUnknownObject(err)) return 'expired'
    // Refused: most likely it is not open any more. Ask what it is now.
    let status: string
    try {
      status = (await client().checkout.sessions.retrieve(sessionId)).status ?? 'open'
    } catch {
      throw err
    }
    if (status === 'expired' || status === 'complete') return status
    throw err
  }
}

/** The Checkout Session that created a payment intent (as listed, with its origin), or null when none did. */
export async function checkoutSessionForPaymentIntent(paymentIntentId: string): Promise<ListedSession | null> {
  const sessions = await client().checkout.sessions.list({ payment_intent: paymentIntentId, limit: 1 })
  const session = sessions.data[0]
  return session ? listedSession(session) : null
}

/** What a session list shows of one session, enough to tell whether its order is in step. */
export type ListedSession = {
  id: string
  origin: CheckoutFacts['origin']
  paymentStatus: CheckoutFacts['paymentStatus']
  amountTotalCents: number | null
}

function listedSession(session: Stripe.Checkout.Session): ListedSession {
  return {
    id: session.id,
    origin: originOf(session),
    paymentStatus: oneOf(session.payment_status, ['paid', 'unpaid', 'no_payment_required'], 'unpaid'),
    amountTotalCents: session.amount_total,
  }
}

/** A list walked to its end, or stopped at `maxPages` (then `isCapped`, and `items` is a prefix). */
export type Walked<T> = { items: T[]; isCapped: boolean }

async function walk<T, U>(list: Stripe.ApiListPromise<T>, map: (item: T) => U, maxPages: number, pageSize: number): Promise<Walked<U>> {
  const items: U[] = []
  for await (const item of list) {
    if (items.length >= maxPages * pageSize) return { items, isCapped: true }
    items.push(map(item))
  }
  return { items, isCapped: false }
}

/** Every completed session created at or after `sinceSeconds`, newest first, up to `maxPages` pages. */
export async function completedCheckoutSessions(sinceSeconds: number, maxPages: number): Promise<Walked<ListedSession>> {
  return walk(client().checkout.sessions.list({ status: 'complete', created: { gte: sinceSeconds }, limit: 100 }), listedSession, maxPages, 100)
}

// ---------------------------------------------------------------------------------------
// Charges, disputes, events

export type ChargeFacts = { id: string; paymentIntentId: string | null; amountRefundedCents: number }

export async function readCharge(chargeId: string): Promise<ChargeFacts> {
  const charge = await client().charges.retrieve(chargeId)
  return { id: charge.id, paymentIntentId: idOf(charge.payment_intent), amountRefundedCents: charge.amount_refunded }
}

/** Every event of these types created at or after `sinceSeconds`, newest first as Stripe lists them, up to `maxPages` pages. */
export async function listEvents(types: readonly string[], sinceSeconds: number, maxPages: number): Promise<Walked<EventFacts>> {
  return walk(client().events.list({ types: [...types], created: { gte: sinceSeconds }, limit: 100 }), eventFacts, maxPages, 100)
}

/** One event as Stripe has it now (an admin replays a recorded event through the handler). */
export async function retrieveEvent(eventId: string): Promise<EventFacts> {
  return eventFacts(await client().events.retrieve(eventId))
}

/**
 * Refunds part or all of a payment. The idempotency key makes a repeated submit (a double
 * click, a retried request) return the first refund instead of refunding twice.
 */
export async function createRefund(input: { paymentIntentId: string; amountCents: number; idempotencyKey: string; reason?: 'requested_by_customer' | 'duplicate' | 'fraudulent' }): Promise<{ id: string; amountCents: number; status: string | null; chargeId: string | null }> {
  const refund = await client().refunds.create(
    { payment_intent: input.paymentIntentId, amount: input.amountCents, ...(input.reason ? { reason: input.reason } : {}) },
    { idempotencyKey: input.idempotencyKey },
  )
  return { id: refund.id, amountCents: refund.amount, status: refund.status, chargeId: idOf(refund.charge) }
}

// ---------------------------------------------------------------------------------------
// Coupons and promotion codes (the admin's Discounts section)

/** A coupon: how much it takes off. */
export type CouponFacts = {
  id: string
  name: string | null
  percentOff: number | null
  amountOffCents: number | null
  currency: string | null
  isValid: boolean
  timesRedeemed: number
  createdAt: number
}

/** A promotion code: the text a shopper types, its coupon and its restrictions. */
export type PromotionCodeFacts = {
  id: string
  code: string
  couponId: string | null
  isActive: boolean
  /** epoch milliseconds, or null when it never expires */
  expiresAt: number | null
  maxRedemptions: number | null
  timesRedeemed: number
  minimumAmountCents: number | null
  minimumAmountCurrency: string | null
  isFirstOrderOnly: boolean
  createdAt: number
}

function couponFacts(coupon: Stripe.Coupon): CouponFacts {
  return {
    id: coupon.id,
    name: coupon.name,
    percentOff: coupon.percent_off,
    amountOffCents: coupon.amount_off,
    currency: coupon.currency,
    isValid: coupon.valid,
    timesRedeemed: coupon.times_redeemed,
    createdAt: coupon.created * 1000,
  }
}

function promotionCodeFacts(code: Stripe.PromotionCode): PromotionCodeFacts {
  return {
    id: code.id,
    code: code.code,
    couponId: idOf(code.promotion?.coupon),
    isActive: code.active,
    expiresAt: code.expires_at ? code.expires_at * 1000 : null,
    maxRedemptions: code.max_redemptions,
    timesRedeemed: code.times_redeemed,
    minimumAmountCents: code.restrictions?.minimum_amount ?? null,
    minimumAmountCurrency: code.restrictions?.minimum_amount_currency ?? null,
    isFirstOrderOnly: code.restrictions?.first_time_transaction ?? false,
    createdAt: code.created * 1000,
  }
}

/** Every coupon on the account, newest first, up to `maxPages` pages. */
export async function listCoupons(maxPages: number): Promise<Walked<CouponFacts>> {
  return walk(client().coupons.list({ limit: 100 }), couponFacts, maxPages, 100)
}

/** Every promotion code on the account, newest first, up to `maxPages` pages. */
export async function listPromotionCodes(maxPages: number): Promise<Walked<PromotionCodeFacts>> {
  return walk(client().promotionCodes.list({ limit: 100 }), promotionCodeFacts, maxPages, 100)
}

export type NewPromotionCode = {
  code: string
  percentOff: number | null
  amountOffCents: number | null
  currency: string
  /** epoch seconds */
  expiresAt: number | null
  maxRedemptions: number | null
  minimumAmountCents: number | null
  isFirstOrderOnly: boolean
}

// The promotion code's metadata key for the form that made it: a second submit of that form
// finds its own code and gets it back; any other form finds the code taken.
const FORM_KEY = 'till_form'

/**
 * Creates a one-time coupon and the promotion code shoppers type for it. Both requests carry
 * keys derived from `idempotencyKey`, so a repeated submit of the same form gets the same
 * coupon and code back instead of making a second pair. Expiry, redemption limit, minimum and
 * first-order-only sit on the code, where Stripe checks them when the shopper enters it.
 * A code already active (Stripe compares codes whatever the case) is answered `taken`, and
 * no coupon is left behind for it.
 */
export async function createPromotionCode(input: NewPromotionCode, idempotencyKey: string): Promise<{ ok: true; coupon: CouponFacts; promotionCode: PromotionCodeFacts } | { ok: false; taken: string }> {
  const stripe = client()
  // Asked first, so a taken code makes no coupon at all.
  const existing = (await stripe.promotionCodes.list({ code: input.code, active: true, limit: 1 })).data[0]
  if (existing && existing.metadata?.[FORM_KEY] !== idempotencyKey) return { ok: false, taken: existing.code }
  const coupon = await stripe.coupons.create(
    {
      name: input.code,
      duration: 'once',
      ...(input.percentOff !== null ? { percent_off: input.percentOff } : { amount_off: input.amountOffCents ?? 0, currency: input.currency }),
    },
    { idempotencyKey: `${idempotencyKey}-coupon` },
  )
  const restrictions: Stripe.PromotionCodeCreateParams.Restrictions = {}
  if (input.isFirstOrderOnly) restrictions.first_time_transaction = true
  if (input.minimumAmountCents !== null) {
    restrictions.minimum_amount = input.minimumAmountCents
    restrictions.minimum_amount_currency = input.currency
  }
  let promotionCode: Stripe.PromotionCode
  try {
    promotionCode = await stripe.promotionCodes.create(
      {
        promotion: { type: 'coupon', coupon: coupon.id },
        code: input.code,
        metadata: { [FORM_KEY]: idempotencyKey },
        ...(input.expiresAt !== null ? { expires_at: input.expiresAt } : {}),
        ...(input.maxRedemptions !== null ? { max_redemptions: input.maxRedemptions } : {}),
        ...(Object.keys(restrictions).length ? { restrictions } : {}),
      },
      { idempotencyKey: `${idempotencyKey}-code` },
    )
  } catch (err) {
    // Refused for what it asked (the code taken in the moment since the check): the coupon
    // made for it would be left behind, one more with every retry, so it goes. After a
    // network error the code may exist, and a retry of the same form finds both by their
    // keys, so the coupon stays.
    if (invalidRequestMessage(err) !== null) {
      await stripe.coupons.del(coupon.id).catch((cleanup: unknown) => log.warn('payments: could not delete the coupon of a refused promotion code', { coupon: coupon.id, err: String(cleanup) }))
    }
    if (isAlreadyExists(err)) return { ok: false, taken: input.code }
    throw err
  }
  return { ok: true, coupon: couponFacts(coupon), promotionCode: promotionCodeFacts(promotionCode) }
}

/** Turns a promotion code off: shoppers can no longer enter it. Safe to repeat. */
export async function deactivatePromotionCode(id: string): Promise<PromotionCodeFacts> {
  return promotionCodeFacts(await client().promotionCodes.update(id, { active: false }))
}

/** Stripe refused an idempotency key reused with other parameters (a form sent again after an edit). */
export function isIdempotencyConflict(err: unknown): boolean {
  return stripeErrorType(err) === 'StripeIdempotencyError'
}

/**
 * A Stripe error's class, by the name the SDK gives it (err.type), not by instanceof: Next
 * bundles the SDK more than once, the client is shared through globalThis, and an error made
 * by one copy is no instance of another copy's class (a taken code then read as "Stripe could
 * not be reached").
 */
function stripeErrorType(err: unknown): string | null {
  const type = typeof err === 'object' && err !== null ? (err as { type?: unknown }).type : undefined
  return typeof type === 'string' && type.startsWith('Stripe') ? type : null
}

/** Stripe refused to create something because one like it exists (a promotion code taken). */
function isAlreadyExists(err: unknown): boolean {
  return stripeErrorType(err) !== null && (err as { code?: unknown }).code === 'resource_already_exists'
}

/** Whether Stripe refused a request for its content (a code already taken, a bad amount), with its message. */
export function invalidRequestMessage(err: unknown): string | null {
  return stripeErrorType(err) === 'StripeInvalidRequestError' ? (err as Error).message : null
}

/** Whether the configured key is a live one (for links to the Stripe dashboard). */
export function isLiveMode(): boolean {
  return keys().secretKey.includes('_live_')
}

const WEBHOOK_TOLERANCE_SECONDS = 300

/** The signature check: a webhook body Stripe signed, in the store's terms; InvalidSignature otherwise. */
export function verify(payload: string, signature: string | null): EventFacts {
  if (!signature) throw new InvalidSignature('Missing Stripe-Signature header.')
  let event: Stripe.Event
  try {
    event = client().webhooks.constructEvent(payload, signature, keys().webhookSecret, WEBHOOK_TOLERANCE_SECONDS)
  } catch (err) {
    throw new InvalidSignature(err instanceof Error ? err.message : 'Invalid signature.')
  }
  return eventFacts(event)
}

// ---------------------------------------------------------------------------------------
// Translation

/**
 * An event in the store's terms. A Checkout Session event carries its own copy of the session
 * (translated here, line items not read); a charge or dispute event names its payment.
 */
export function eventFacts(event: Stripe.Event): EventFacts {
  const object = event.data.object as { id?: string }
  const facts: EventFacts = { id: event.id, type: event.type, created: event.created, objectId: object.id ?? null, session: null, paymentIntentId: null, chargeId: null }
  if (event.type.startsWith('checkout.session.')) facts.session = checkoutFacts(object as Stripe.Checkout.Session, [], { hasLines: false })
  else if (event.type.startsWith('charge.dispute.')) {
    const dispute = object as Stripe.Dispute
    facts.paymentIntentId = idOf(dispute.payment_intent)
    facts.chargeId = idOf(dispute.charge)
  } else if (event.type.startsWith('charge.')) facts.paymentIntentId = idOf((object as Stripe.Charge).payment_intent)
  return facts
}

function idOf(ref: string | { id: string } | null | undefined): string | null {
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
  // A session that collected no address (a cart of downloads) may still carry an empty one.
  if (!address || !Object.values(address).some(Boolean)) return null
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

/**
 * Whose session this is. The store's own Checkout tags every session with its cart; a
 * Payment Link sale is the owner's too (its products name the variants). Anything else on the
 * account (another app's Checkout, say) is not this store's and never becomes an order.
 */
function originOf(session: Pick<Stripe.Checkout.Session, 'metadata' | 'payment_link'>): CheckoutFacts['origin'] {
  if (session.metadata?.cart_id) return 'store'
  if (session.payment_link) return 'payment_link'
  return 'foreign'
}

/** The payment behind a session, from the session and its expanded payment intent and charge. */
function paymentFacts(session: Stripe.Checkout.Session, dispute: DisputeState = null): PaymentFacts {
  const intent = session.payment_intent && typeof session.payment_intent === 'object' ? session.payment_intent : null
  const charge = latestCharge(session)
  const amountCents = charge?.amount ?? intent?.amount ?? session.amount_total ?? 0
  let state: PaymentFacts['state'] = 'none'
  if (session.payment_status === 'paid' || session.payment_status === 'no_payment_required' || intent?.status === 'succeeded') state = 'succeeded'
  else if (intent?.status === 'processing' || intent?.status === 'requires_action' || intent?.status === 'requires_confirmation') state = 'processing'
  else if (session.status === 'complete' && (intent?.status === 'requires_payment_method' || intent?.status === 'canceled' || charge?.status === 'failed')) state = 'failed'
  else if (session.status === 'complete') state = 'processing'
  return { state, amountCents, amountRefundedCents: charge?.amount_refunded ?? 0, dispute: charge?.disputed ? (dispute ?? 'open') : null }
}

/** What the store needs of a session, in its own terms. Pure: tests feed it built objects. */
export function checkoutFacts(
  session: Stripe.Checkout.Session,
  lineItems: Stripe.LineItem[],
  opts: { hasLines?: boolean; dispute?: DisputeState } = {},
): CheckoutFacts {
  const rate = session.shipping_cost?.shipping_rate
  const lines: CheckoutLine[] = lineItems.map((item) => {
    const quantity = item.quantity ?? 1
    return {
      stripeLineItemId: item.id,
      variantId: variantIdOf(item),
      description: item.description ?? 'Item',
      quantity,
      unitAmountCents: item.price?.unit_amount ?? Math.round(item.amount_subtotal / quantity),
      subtotalCents: item.amount_subtotal,
      totalCents: item.amount_total,
      discountCents: item.amount_discount ?? 0,
      taxCents: item.amount_tax ?? 0,
    }
  })
  const amountTotalCents = session.amount_total ?? 0
  const amountSubtotalCents = session.amount_subtotal ?? 0
  const discountCents = session.total_details?.amount_discount ?? 0
  const taxCents = session.total_details?.amount_tax ?? 0
  // Shipping before tax, so that a tax added on top of it is shown once, in the tax line.
  const shippingCents = session.shipping_cost?.amount_subtotal ?? session.shipping_cost?.amount_total ?? 0
  return {
    sessionId: session.id,
    status: oneOf(session.status, ['open', 'complete', 'expired'], 'open'),
    paymentStatus: oneOf(session.payment_status, ['paid', 'unpaid', 'no_payment_required'], 'unpaid'),
    paymentIntentId: idOf(session.payment_intent),
    origin: originOf(session),
    cartId: session.metadata?.cart_id ?? null,
    amountTotalCents,
    amountSubtotalCents,
    shippingCents,
    taxCents,
    // Stripe's totals add exclusive tax on top and leave inclusive tax inside the prices; the
    // session says which by whether its total already balances without the tax. Nothing is
    // recomputed: the order keeps Stripe's amounts either way.
    isTaxInclusive: taxCents > 0 && amountSubtotalCents - discountCents + shippingCents === amountTotalCents,
    discountCents,
    discountCodes: discountCodesOf(session),
    currency: session.currency ?? 'usd',
    email: session.customer_details?.email ?? session.customer_email ?? null,
    customerName: session.customer_details?.name ?? null,
    shippingAddress: shippingOf(session),
    shippingRateName: rate && typeof rate === 'object' ? (rate.display_name ?? null) : null,
    paymentMethod: paymentMethodOf(session),
    createdAt: (session.created ?? Math.floor(Date.now() / 1000)) * 1000,
    recoveryUrl: session.after_expiration?.recovery?.url ?? null,
    promotionsConsent: session.consent?.promotions === 'opt_in' ? 'opt_in' : session.consent?.promotions === 'opt_out' ? 'opt_out' : null,
    hasLines: opts.hasLines ?? true,
    lines,
    payment: paymentFacts(session, opts.dispute ?? null),
  }
}

/**
 * The promotion codes of a session as the shopper typed them (read with
 * `discounts.promotion_code` expanded). A discount the store applied without a code (a coupon
 * on a Payment Link, say) is named by its coupon.
 */
function discountCodesOf(session: Pick<Stripe.Checkout.Session, 'discounts' | 'total_details'>): string[] {
  const applied: { promotion_code: string | Stripe.PromotionCode | null; coupon: string | Stripe.Coupon | null }[] = [...(session.discounts ?? [])]
  if (applied.length === 0) {
    for (const { discount } of session.total_details?.breakdown?.discounts ?? []) applied.push({ promotion_code: discount.promotion_code, coupon: discount.source?.coupon ?? null })
  }
  const codes: string[] = []
  for (const { promotion_code: promotion, coupon } of applied) {
    const code = promotion && typeof promotion === 'object' ? promotion.code : (promotion ?? (coupon && typeof coupon === 'object' ? (coupon.name ?? coupon.id) : coupon))
    if (code && !codes.includes(code)) codes.push(code)
  }
  return codes
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
function describePaymentMethod(details: Stripe.Charge.PaymentMethodDetails | null | undefined): string | null {
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
