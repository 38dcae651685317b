import Stripe from 'stripe'
import { cardDeclined, invalid, noSuch } from './errors'
import { isEmail } from './params'
import { newId } from './ids'
import {
  buildCharge,
  buildDispute,
  buildLineItem,
  buildPaymentIntent,
  buildPrice,
  buildProduct,
  buildRefund,
  buildSession,
  buildShippingRate,
  publicSession,
  type Address,
  type EmulatedEvent,
  type SessionInput,
  type StoredSession,
} from './objects'
import { attach, attachedRefusal, computeTotals, couponRefusal, detach, findPromotionCode, orderContext, promotionRefusal, redeem, reprice, type Refusal, type Totals } from './promotions'
import { Store } from './store'
import { EmulatorControl } from './controls'
import { WebhookDeliveries } from './deliveries'

// A Stripe-compatible payments emulator: Checkout Sessions, a hosted payment page, payment
// intents, charges, refunds, disputes and events, with signed webhooks delivered from a
// durable queue with Stripe's at-least-once retries (deliveries.ts). This file is the payment
// state machine and its background tick; the test controls are controls.ts. Framework-free:
// `serve(emulator, Request)` serves /v1/* (the API the official SDK calls) and /emulator/*
// (hosted pages, test controls).

export type EmulatorLog = {
  info(message: string, context?: Record<string, unknown>): void
  warn(message: string, context?: Record<string, unknown>): void
  error(message: string, context?: Record<string, unknown>): void
}

export type EmulatorOptions = {
  /** The emulator's own SQLite file; never the store's database. */
  dbFile: string
  secretKey: string
  webhookSecret: string
  /** Where events are POSTed; without one, events are recorded but not delivered. */
  webhookUrl?: string | null
  /** Origin that serves /emulator/* (used for session.url). */
  publicBaseUrl: string
  /** The business name the hosted page shows, as Stripe shows the account's public name. */
  businessName?: string
  /** How long a "pay later" bank transfer takes to settle (default 4000 ms). */
  asyncDelayMs?: number
  /** Wait before retry n (ms); after the last one a delivery is marked failed. */
  retrySchedule?: number[]
  /** A webhook attempt that takes longer fails (default 10 s). */
  webhookTimeoutMs?: number
  /** Background loop period (default 200 ms). */
  tickMs?: number
  maxConcurrentDeliveries?: number
  apiVersion?: string
  log?: EmulatorLog
  /**
   * Automatic tax: a flat percentage per two-letter country code (e.g. { GB: 20 }). A country
   * not listed is one the account does not collect tax in. Default DEFAULT_TAX_RATES.
   */
  taxRates?: Record<string, number>
}

const DEFAULT_TAX_RATES: Readonly<Record<string, number>> = { US: 0, CA: 5, GB: 20, DE: 19, FR: 20, NL: 21, AU: 10 }

export type RequestContext = { id: string | null; idempotencyKey: string | null }
const NO_REQUEST: RequestContext = { id: null, idempotencyKey: null }

export type PayInput = {
  card?: string | null
  email?: string | null
  name?: string | null
  address?: Partial<Address> | null
  /** Index into session.shipping_options (default 0). */
  shippingRateIndex?: number | null
  /** Settle later like a bank transfer; the outcome arrives as an async_payment_* event. */
  payLater?: boolean
  /** The promotions box, when the session collects consent (consent_collection[promotions]=auto). */
  promotionsConsent?: boolean | null
  asyncOutcome?: 'succeeded' | 'failed' | null
}

export type ForeignSessionInput = {
  line_items: { name: string; unit_amount: number; quantity?: number; description?: string; metadata?: Record<string, string>; variant_id?: string | number }[]
  currency?: string
  email?: string
  name?: string
  address?: Partial<Address>
  shipping?: { display_name?: string; amount: number } | null
  metadata?: Record<string, string>
  client_reference_id?: string | null
  payment_link?: string | null
  card?: string
  asyncOutcome?: 'succeeded' | 'failed' | null
  /** A discount the link carried: a coupon id or a promotion code id (not both). */
  coupon?: string
  promotion_code?: string
  /** Tax at the address country's flat rate, prices exclusive. */
  automatic_tax?: boolean
}

const silentLog: EmulatorLog = { info() {}, warn() {}, error() {} }

type CardOutcome = { kind: 'ok'; last4: string } | { kind: 'declined'; code: 'generic_decline' | 'insufficient_funds' | 'incorrect_number' } | { kind: 'async_fail' }

// https://docs.stripe.com/testing#cards
const SUCCEEDING_CARDS: Record<string, string> = { '4242424242424242': '4242', '5555555555554444': '4444', '4000056655665556': '5556' }

function luhn(digits: string): boolean {
  let sum = 0
  for (let i = 0; i < digits.length; i++) {
    let d = Number(digits[digits.length - 1 - i])
    if (i % 2 === 1) {
      d *= 2
      if (d > 9) d -= 9
    }
    sum += d
  }
  return sum % 10 === 0
}

function classifyCard(raw: string | null | undefined): CardOutcome {
  const digits = (raw ?? '').replace(/[\s-]/g, '')
  if (!/^\d{12,19}$/.test(digits) || !luhn(digits)) return { kind: 'declined', code: 'incorrect_number' }
  const last4 = SUCCEEDING_CARDS[digits]
  if (last4) return { kind: 'ok', last4 }
  if (digits === '4000000000009995') return { kind: 'declined', code: 'insufficient_funds' }
  if (digits === '4000000000000341') return { kind: 'async_fail' }
  // 4000000000000002 and any card that is not a Stripe test card.
  return { kind: 'declined', code: 'generic_decline' }
}

function emptyAddress(): Address {
  return { line1: null, line2: null, city: null, state: null, postal_code: null, country: null }
}

function cleanAddress(raw: Partial<Address> | null | undefined): Address {
  const a = emptyAddress()
  if (!raw) return a
  for (const key of Object.keys(a) as (keyof Address)[]) {
    const v = raw[key]
    a[key] = typeof v === 'string' && v.trim() !== '' ? v.trim() : null
  }
  if (a.country) a.country = a.country.toUpperCase()
  return a
}

function sessionIndex(session: StoredSession) {
  return {
    status: session.status,
    paymentIntent: typeof session.payment_intent === 'string' ? session.payment_intent : (session.payment_intent?.id ?? null),
    expiresAt: session.expires_at,
  }
}

function chargeIndex(charge: Stripe.Charge) {
  return { status: charge.status, paymentIntent: typeof charge.payment_intent === 'string' ? charge.payment_intent : null }
}

export class Emulator {
  readonly store: Store
  readonly secretKey: string
  readonly publicBaseUrl: string
  readonly businessName: string | null
  readonly asyncDelayMs: number
  readonly apiVersion: string
  readonly log: EmulatorLog
  readonly taxRates: Readonly<Record<string, number>>
  private readonly tickMs: number
  private webhookUrlOverride: string | null | undefined
  private readonly configuredWebhookUrl: string | null
  private clockOffsetMs: number
  private timer: NodeJS.Timeout | null = null
  private isTicking = false
  private lastSweepAt = 0
  private isStopped = false
  readonly control: EmulatorControl
  readonly webhooks: WebhookDeliveries

  constructor(options: EmulatorOptions) {
    if (!options.secretKey) throw new Error('emulator: secretKey is required')
    if (!options.webhookSecret) throw new Error('emulator: webhookSecret is required')
    this.store = new Store(options.dbFile)
    this.secretKey = options.secretKey
    this.publicBaseUrl = options.publicBaseUrl.replace(/\/+$/, '')
    this.businessName = options.businessName?.trim() || null
    this.configuredWebhookUrl = options.webhookUrl ?? null
    this.asyncDelayMs = options.asyncDelayMs ?? 4000
    this.tickMs = options.tickMs ?? 200
    this.apiVersion = options.apiVersion ?? Stripe.API_VERSION
    this.log = options.log ?? silentLog
    this.taxRates = { ...(options.taxRates ?? DEFAULT_TAX_RATES) }
    for (const [country, rate] of Object.entries(this.taxRates)) {
      if (!/^[A-Z]{2}$/.test(country) || !Number.isFinite(rate) || rate < 0 || rate > 100) throw new Error(`emulator: bad tax rate ${country}=${rate}`)
    }
    this.clockOffsetMs = Number(this.store.setting('clock_offset_ms') ?? 0) || 0
    this.webhooks = new WebhookDeliveries({
      store: this.store,
      webhookSecret: options.webhookSecret,
      retrySchedule: options.retrySchedule,
      timeoutMs: options.webhookTimeoutMs,
      maxConcurrent: options.maxConcurrentDeliveries,
      log: this.log,
    })
    this.control = new EmulatorControl(this)
  }

  // ---- clock: an offset lets tests move time forward (expiry, async settlement)

  nowMs(): number {
    return Date.now() + this.clockOffsetMs
  }

  nowSeconds(): number {
    return Math.floor(this.nowMs() / 1000)
  }

  advanceClock(seconds: number): number {
    this.clockOffsetMs += seconds * 1000
    this.store.setSetting('clock_offset_ms', String(this.clockOffsetMs))
    this.sweepExpired()
    this.runDueTasks()
    this.kick()
    return this.nowSeconds()
  }

  // ---- webhook settings

  webhookUrl(): string | null {
    return this.webhookUrlOverride === undefined ? this.configuredWebhookUrl : this.webhookUrlOverride
  }

  setWebhookUrl(url: string | null): void {
    this.webhookUrlOverride = url
  }

  areWebhooksOn(): boolean {
    return this.store.setting('webhooks') !== 'off'
  }

  setWebhooks(on: boolean): void {
    this.store.setSetting('webhooks', on ? 'on' : 'off')
  }

  // ---- objects

  get<T>(id: string, type: Parameters<Store['getObject']>[1]): T | undefined {
    return this.store.getObject<T>(id, type)
  }

  /** The session, expired first if its time has passed (Stripe never shows a stale "open"). */
  getSession(id: string, param = 'session'): StoredSession {
    const session = this.store.getObject<StoredSession>(id, 'checkout.session')
    if (!session) throw noSuch('checkout session', id, param)
    if (session.status === 'open' && session.expires_at <= this.nowSeconds()) return this.expireSession(id, NO_REQUEST, { isSweep: true })
    return session
  }

  lineItems(sessionId: string): Stripe.LineItem[] {
    return this.store.children<Stripe.LineItem>(sessionId, 'item')
  }

  private saveSession(session: StoredSession): void {
    this.store.putObject('checkout.session', session, sessionIndex(session))
  }

  createSession(input: SessionInput): StoredSession {
    return this.store.write(() => {
      const created = this.nowSeconds()
      const id = newId('cs_test')
      let subtotal = 0
      const items = input.lines.map((line, i) => {
        let price: Stripe.Price
        if (line.priceId) {
          const existing = this.store.getObject<Stripe.Price>(line.priceId, 'price')
          if (!existing) throw invalid(`No such price: '${line.priceId}'`, `line_items[${i}][price]`, 'resource_missing')
          price = existing
        } else {
          let productId = line.productId
          if (productId) {
            if (!this.store.getObject(productId, 'product')) throw invalid(`No such product: '${productId}'`, `line_items[${i}][price_data][product]`, 'resource_missing')
          } else {
            const product = buildProduct(created, line)
            this.store.putObject('product', product)
            productId = product.id
          }
          price = buildPrice(created, productId, input.currency, line.unitAmount, line.taxBehavior)
          this.store.putObject('price', price)
        }
        const product = this.store.getObject<Stripe.Product>(typeof price.product === 'string' ? price.product : price.product.id, 'product')
        const item = buildLineItem(price, product?.name ?? line.name, line.quantity)
        subtotal += item.amount_subtotal
        return item
      })
      const rates = input.shippingRates.map((rate, i) => {
        if (rate.id) {
          const existing = this.store.getObject<Stripe.ShippingRate>(rate.id, 'shipping_rate')
          if (!existing) throw invalid(`No such shipping rate: '${rate.id}'`, `shipping_options[${i}][shipping_rate]`, 'resource_missing')
          return existing
        }
        const built = buildShippingRate(created, input.currency, rate)
        this.store.putObject('shipping_rate', built)
        return built
      })
      const customer = input.customer ? this.store.getObject<Stripe.Customer>(input.customer, 'customer') : null
      if (input.customer && !customer) throw noSuch('customer', input.customer, 'customer')
      const session = buildSession({ id, created, input, subtotal, shippingRates: rates, url: `${this.publicBaseUrl}/emulator/checkout/${id}`, customer })
      for (const item of items) this.store.putObject('item', item, { parent: id })
      const [wanted] = input.discounts ?? []
      if (wanted) this.attachAtCreate(session, wanted)
      reprice(this, session, { country: null, shippingIndex: 0 })
      this.saveSession(session)
      return session
    })
  }

  /** discounts[0] at creation: checked like Stripe does, a refusal is a 400 naming the param. */
  private attachAtCreate(session: StoredSession, wanted: { coupon?: string; promotionCode?: string }): void {
    const order = orderContext(this, session, null)
    if (wanted.promotionCode) {
      const param = 'discounts[0][promotion_code]'
      const promo = this.store.getObject<Stripe.PromotionCode>(wanted.promotionCode, 'promotion_code')
      if (!promo) throw invalid(`No such promotion code: '${wanted.promotionCode}'`, param, 'resource_missing')
      const refusal = promotionRefusal(this, promo, order)
      if (refusal) throw invalid(`This promotion code cannot be redeemed: ${refusal.message}`, param, refusal.reason === 'expired' ? 'coupon_expired' : 'promotion_code_invalid')
      const couponId = promo.promotion.coupon as string
      attach(this, session, this.store.getObject<Stripe.Coupon>(couponId, 'coupon')!, promo)
      return
    }
    const param = 'discounts[0][coupon]'
    const coupon = this.store.getObject<Stripe.Coupon>(wanted.coupon!, 'coupon')
    if (!coupon) throw invalid(`No such coupon: '${wanted.coupon}'`, param, 'resource_missing')
    const refusal = couponRefusal(this, coupon, order)
    if (refusal) throw invalid(`This coupon cannot be redeemed: ${refusal.message}`, param, refusal.reason === 'expired' ? 'coupon_expired' : 'parameter_invalid')
    attach(this, session, coupon, null)
  }

  /**
   * The shopper typed a code on the payment page of a session that allows promotion codes.
   * Applies it (replacing any code applied before) or says why not; the totals follow.
   */
  applyPromotionCode(id: string, code: string, email: string | null): Refusal | null {
    return this.store.write(() => {
      const session = this.openSession(id)
      if (!session.allow_promotion_codes) throw invalid('This Checkout Session does not accept promotion codes.', 'promotion_code')
      const text = code.trim()
      const promo = text && text.length <= 500 ? findPromotionCode(this, text) : undefined
      const refusal = promotionRefusal(this, promo, orderContext(this, session, email))
      if (refusal) return refusal
      attach(this, session, this.store.getObject<Stripe.Coupon>(promo!.promotion.coupon as string, 'coupon')!, promo!)
      reprice(this, session, { country: null, shippingIndex: session.emulator.shippingIndex ?? 0 })
      this.saveSession(session)
      return null
    })
  }

  /** The shopper removes the code they applied. */
  removePromotionCode(id: string): void {
    this.store.write(() => {
      const session = this.openSession(id)
      if (!session.allow_promotion_codes) throw invalid('This Checkout Session does not accept promotion codes.', 'promotion_code')
      detach(session)
      reprice(this, session, { country: null, shippingIndex: session.emulator.shippingIndex ?? 0 })
      this.saveSession(session)
    })
  }

  /**
   * Before paying: if the session's discount can no longer be redeemed (the code ran out or
   * expired since it was applied), it comes off and the shopper is told why, with the new
   * total, instead of paying a price they did not see.
   */
  dropStaleDiscount(id: string, email: string | null): Refusal | null {
    return this.store.write(() => {
      const session = this.openSession(id)
      const refusal = attachedRefusal(this, session, email)
      if (!refusal) return null
      detach(session)
      reprice(this, session, { country: null, shippingIndex: session.emulator.shippingIndex ?? 0 })
      this.saveSession(session)
      return refusal
    })
  }

  /** The amounts the payment page shows for a country and shipping choice (nothing is stored but tax rates). */
  quote(id: string, opts: { country: string | null; shippingIndex: number }): Totals {
    return computeTotals(this, this.getSession(id), opts)
  }

  private openSession(id: string): StoredSession {
    const session = this.getSession(id)
    if (session.status !== 'open') {
      throw invalid(session.status === 'complete' ? 'This Checkout Session is already complete.' : 'This Checkout Session has expired.', 'session', 'checkout_session_not_open')
    }
    return session
  }

  expireSession(id: string, request: RequestContext, opts: { isSweep?: boolean } = {}): StoredSession {
    return this.store.write(() => {
      const session = this.store.getObject<StoredSession>(id, 'checkout.session')
      if (!session) throw noSuch('checkout session', id, 'session')
      if (session.status !== 'open') {
        if (opts.isSweep) return session
        throw invalid(
          `Only Checkout Sessions with a status in ["open"] can be expired. This Checkout Session has a status of "${session.status}".`,
          undefined,
          'checkout_session_not_open',
        )
      }
      session.status = 'expired'
      session.url = null
      // Stripe attaches the recovery URL upon expiration; it works for 30 days.
      const recovery = session.after_expiration?.recovery
      if (recovery?.enabled) {
        recovery.url = `${this.publicBaseUrl}/emulator/recover/${session.id}`
        recovery.expires_at = this.nowSeconds() + 30 * 24 * 3600
      }
      this.saveSession(session)
      this.emit('checkout.session.expired', publicSession(session), request)
      return session
    })
  }

  /** Pays an open session as the hosted page would. Throws ApiError (402 card_error) on a decline. */
  paySession(id: string, input: PayInput, request: RequestContext = NO_REQUEST): StoredSession {
    // Expire first, in its own transaction, so a late payment attempt cannot roll it back.
    this.getSession(id)
    return this.store.write(() => {
      const session = this.getSession(id)
      if (session.status !== 'open') {
        throw invalid(
          session.status === 'complete' ? 'This Checkout Session is already complete.' : 'This Checkout Session has expired.',
          'session',
          'checkout_session_not_open',
        )
      }
      const email = (input.email ?? session.customer_email ?? session.customer_details?.email ?? '').trim()
      if (!isEmail(email)) throw invalid(email ? `Invalid email address: ${email}` : 'Missing required param: email.', 'email')
      const name = (input.name ?? '').trim()
      if (!name) throw invalid('Missing required param: name.', 'name')
      if (name.length > 200) throw invalid('Invalid name: must be at most 200 characters', 'name')
      const address = cleanAddress(input.address)
      const allowed = session.shipping_address_collection?.allowed_countries ?? null
      if (allowed) {
        for (const key of ['line1', 'city', 'postal_code', 'country'] as const) {
          if (!address[key]) throw invalid(`Missing required param: address[${key}].`, `address[${key}]`)
        }
        if (!allowed.includes(address.country as (typeof allowed)[number])) throw invalid(`Shipping to ${address.country} is not available for this checkout.`, 'address[country]')
      }
      const optionIndex = input.shippingRateIndex ?? 0
      const option = session.shipping_options.length ? session.shipping_options[optionIndex] : undefined
      if (session.shipping_options.length && !option) throw invalid(`Invalid shipping_rate_index: ${optionIndex}`, 'shipping_rate_index')

      let outcome: CardOutcome
      let asyncOutcome: 'succeeded' | 'failed' | null = null
      if (input.payLater || input.asyncOutcome) {
        const card = input.card?.replace(/[\s-]/g, '')
        asyncOutcome = input.asyncOutcome ?? (card === '4000000000000341' ? 'failed' : 'succeeded')
        outcome = { kind: 'ok', last4: '6789' }
      } else {
        outcome = classifyCard(input.card)
        // 0341 attaches but its charge fails: for an immediate payment that is a decline.
        if (outcome.kind === 'async_fail') outcome = { kind: 'declined', code: 'generic_decline' }
      }
      if (outcome.kind !== 'ok') throw cardDeclined(outcome.kind === 'declined' ? outcome.code : 'generic_decline')
      // Callers drop a stale discount first (dropStaleDiscount); this only catches a code
      // that ran out between that check and this transaction.
      const stale = attachedRefusal(this, session, email)
      if (stale) throw invalid(stale.message, 'promotion_code', stale.reason === 'expired' ? 'coupon_expired' : 'promotion_code_invalid')

      const now = this.nowSeconds()
      const totals = reprice(this, session, { country: address.country, shippingIndex: option ? optionIndex : 0 })
      const total = totals.total
      const currency = session.currency ?? 'usd'
      const isShipped = !!allowed
      const kind = asyncOutcome ? 'bank_transfer' : 'card'
      const paymentMethodId = newId('pm')
      const chargeId = newId('ch')
      const shipping = isShipped ? { address, carrier: null, name, phone: null, tracking_number: null } : null
      const intent = buildPaymentIntent({
        created: now,
        amount: total,
        currency,
        kind,
        paymentMethodId,
        chargeId,
        status: asyncOutcome ? 'processing' : 'succeeded',
        email,
        shipping,
        metadata: session.emulator.paymentIntentData.metadata,
        description: session.emulator.paymentIntentData.description,
      })
      const charge = buildCharge({
        id: chargeId,
        created: now,
        amount: total,
        currency,
        kind,
        last4: outcome.last4,
        paymentIntentId: intent.id,
        paymentMethodId,
        status: asyncOutcome ? 'pending' : 'succeeded',
        billing: { address, email, name, phone: null, tax_id: null },
        shipping,
        receiptEmail: email,
      })
      this.store.putObject('payment_intent', intent, { status: intent.status })
      this.store.putObject('charge', charge, chargeIndex(charge))

      session.status = 'complete'
      session.payment_status = asyncOutcome ? 'unpaid' : 'paid'
      session.payment_intent = intent.id
      session.url = null
      session.customer_details = { address, business_name: null, email, individual_name: null, name, phone: null, tax_exempt: 'none', tax_ids: [] }
      this.recordConsent(session, input.promotionsConsent)
      this.updateCustomer(session, { name, address, isShipped })
      session.collected_information = { business_name: null, individual_name: null, shipping_details: isShipped ? { address, name } : null }
      redeem(this, session)
      this.saveSession(session)
      this.emit('checkout.session.completed', publicSession(session), request)
      if (asyncOutcome) this.store.schedule('settle', session.id, this.nowMs() + this.asyncDelayMs, { outcome: asyncOutcome })
      return session
    })
  }

  /** consent.promotions: opt_in or opt_out when the page asked (consent_collection[promotions]=auto). */
  private recordConsent(session: StoredSession, isGiven: boolean | null | undefined): void {
    if (session.consent_collection?.promotions !== 'auto' || isGiven === undefined || isGiven === null) return
    session.consent = { promotions: isGiven ? 'opt_in' : 'opt_out', terms_of_service: null }
  }

  /** customer_update: what the shopper entered is saved onto the session's Customer. */
  private updateCustomer(session: StoredSession, entered: { name: string; address: Address; isShipped: boolean }): void {
    const update = session.emulator.customerUpdate
    const id = typeof session.customer === 'string' ? session.customer : null
    if (!id || !update) return
    const customer = this.store.getObject<Stripe.Customer>(id, 'customer')
    if (!customer) return
    if (update.name === 'auto') customer.name = entered.name
    if (update.shipping === 'auto' && entered.isShipped) customer.shipping = { address: entered.address, name: entered.name, phone: null }
    if (update.address === 'auto') customer.address = entered.address
    this.store.putObject('customer', customer)
  }

  /**
   * What the shopper typed so far on the hosted page (email, the promotions box), kept on the
   * open session as Stripe keeps it: an abandoned session expires with the email and consent
   * it had, which is what a recovery email needs.
   */
  saveDetails(id: string, input: { email: string | null; promotionsConsent: boolean | null }): StoredSession {
    return this.store.write(() => {
      const session = this.openSession(id)
      const email = input.email?.trim() ?? ''
      if (email && isEmail(email)) {
        session.customer_details = { ...(session.customer_details ?? { address: null, business_name: null, individual_name: null, name: null, phone: null, tax_exempt: 'none', tax_ids: null }), email }
      }
      this.recordConsent(session, input.promotionsConsent)
      this.saveSession(session)
      return session
    })
  }

  /**
   * A click on an expired session's recovery URL: a new open session, a copy of the expired
   * one (items, metadata, customer, shipping, URLs), with recovered_from naming it. Null when
   * the session has no recovery URL or it has expired.
   */
  recoverSession(id: string): StoredSession | null {
    const expired = this.store.getObject<StoredSession>(id, 'checkout.session')
    const recovery = expired?.after_expiration?.recovery
    const input = expired?.emulator.input
    if (!expired || expired.status !== 'expired' || !recovery?.url || !input || (recovery.expires_at ?? 0) <= this.nowSeconds()) return null
    return this.createSession({
      ...input,
      expiresAt: this.nowSeconds() + 24 * 3600,
      allowPromotionCodes: recovery.allow_promotion_codes,
      discounts: [],
      recovery: null,
      recoveredFrom: expired.id,
    })
  }

  /** The bank transfer of a "pay later" session settles (or bounces). */
  settle(sessionId: string, outcome: 'succeeded' | 'failed'): StoredSession | null {
    return this.store.write(() => {
      const session = this.store.getObject<StoredSession>(sessionId, 'checkout.session')
      if (!session || session.status !== 'complete' || session.payment_status !== 'unpaid' || typeof session.payment_intent !== 'string') return null
      const intent = this.store.getObject<Stripe.PaymentIntent>(session.payment_intent, 'payment_intent')
      const charge = intent && typeof intent.latest_charge === 'string' ? this.store.getObject<Stripe.Charge>(intent.latest_charge, 'charge') : undefined
      if (!intent || !charge || intent.status !== 'processing') return null
      if (outcome === 'succeeded') {
        intent.status = 'succeeded'
        intent.amount_received = intent.amount
        charge.status = 'succeeded'
        charge.paid = true
        charge.captured = true
        charge.amount_captured = charge.amount
        charge.balance_transaction = newId('txn')
        session.payment_status = 'paid'
      } else {
        intent.status = 'requires_payment_method'
        intent.last_payment_error = {
          type: 'invalid_request_error',
          code: 'payment_method_unactivated',
          message: 'The bank transfer could not be completed.',
          decline_code: undefined,
          doc_url: undefined,
          param: undefined,
          payment_method_type: 'us_bank_account',
        } as unknown as Stripe.PaymentIntent.LastPaymentError
        charge.status = 'failed'
        charge.paid = false
        charge.failure_code = 'account_closed'
        charge.failure_message = 'The customer’s bank account has been closed.'
        charge.outcome = { ...charge.outcome!, network_status: 'declined_by_network', type: 'issuer_declined', seller_message: 'The bank returned the payment.', reason: 'account_closed' }
      }
      this.store.putObject('payment_intent', intent, { status: intent.status })
      this.store.putObject('charge', charge, chargeIndex(charge))
      this.saveSession(session)
      this.emit(outcome === 'succeeded' ? 'checkout.session.async_payment_succeeded' : 'checkout.session.async_payment_failed', publicSession(session), NO_REQUEST)
      return session
    })
  }

  private chargeFor(args: { charge?: string; paymentIntent?: string }): Stripe.Charge {
    if (args.paymentIntent) {
      const intent = this.store.getObject<Stripe.PaymentIntent>(args.paymentIntent, 'payment_intent')
      if (!intent) throw invalid(`No such payment_intent: '${args.paymentIntent}'`, 'payment_intent', 'resource_missing')
      const chargeId = typeof intent.latest_charge === 'string' ? intent.latest_charge : intent.latest_charge?.id
      const charge = chargeId ? this.store.getObject<Stripe.Charge>(chargeId, 'charge') : undefined
      if (!charge) throw invalid(`PaymentIntent ${intent.id} does not have a successful charge to refund.`, 'payment_intent', 'charge_not_refundable')
      if (args.charge && args.charge !== charge.id) throw invalid(`Charge ${args.charge} does not belong to PaymentIntent ${intent.id}.`, 'charge')
      return charge
    }
    if (args.charge) {
      const charge = this.store.getObject<Stripe.Charge>(args.charge, 'charge')
      if (!charge) throw invalid(`No such charge: '${args.charge}'`, 'charge', 'resource_missing')
      return charge
    }
    throw invalid('One of the following params should be provided for this request: payment_intent or charge.', 'charge', 'parameter_missing')
  }

  refund(
    args: { charge?: string; paymentIntent?: string; amount?: number; reason?: Stripe.Refund.Reason | null; metadata?: Record<string, string> },
    request: RequestContext = NO_REQUEST,
  ): Stripe.Refund {
    return this.store.write(() => {
      const charge = this.chargeFor(args)
      if (charge.status !== 'succeeded') throw invalid(`Charge ${charge.id} has not succeeded, so it cannot be refunded.`, args.paymentIntent ? 'payment_intent' : 'charge', 'charge_not_refundable')
      if (charge.disputed) throw invalid(`Charge ${charge.id} has been charged back; cannot issue a refund.`, args.paymentIntent ? 'payment_intent' : 'charge', 'charge_disputed')
      const remaining = charge.amount - charge.amount_refunded
      if (remaining <= 0) throw invalid(`Charge ${charge.id} has already been refunded.`, args.paymentIntent ? 'payment_intent' : 'charge', 'charge_already_refunded')
      const amount = args.amount ?? remaining
      if (amount < 1) throw invalid('Invalid amount: must be a positive integer', 'amount')
      if (amount > remaining) {
        throw invalid(`Refund amount (${amount}) is greater than unrefunded amount on charge (${remaining})`, 'amount', 'amount_too_large')
      }
      const refund = buildRefund({ created: this.nowSeconds(), amount, charge, reason: args.reason ?? null, metadata: args.metadata ?? {} })
      const previous = { amount_refunded: charge.amount_refunded, refunded: charge.refunded }
      charge.amount_refunded += amount
      charge.refunded = charge.amount_refunded >= charge.amount
      const refunds = charge.refunds?.data ?? []
      charge.refunds = { object: 'list', data: [refund, ...refunds], has_more: false, url: `/v1/charges/${charge.id}/refunds` }
      this.store.putObject('refund', refund, { parent: charge.id, paymentIntent: refund.payment_intent as string | null, status: refund.status })
      this.store.putObject('charge', charge, chargeIndex(charge))
      this.emit('charge.refunded', charge, request, previous)
      return refund
    })
  }

  dispute(args: { charge?: string; paymentIntent?: string; amount?: number; reason?: string }): Stripe.Dispute {
    return this.store.write(() => {
      const charge = this.chargeFor(args)
      if (charge.status !== 'succeeded') throw invalid(`Charge ${charge.id} has not succeeded, so it cannot be disputed.`, 'charge')
      if (charge.disputed) throw invalid(`Charge ${charge.id} is already disputed.`, 'charge')
      const amount = args.amount ?? charge.amount
      if (!Number.isSafeInteger(amount) || amount < 1 || amount > charge.amount) throw invalid(`Invalid amount: must be between 1 and ${charge.amount}`, 'amount')
      const dispute = buildDispute({ created: this.nowSeconds(), charge, amount, reason: args.reason ?? 'fraudulent' })
      charge.disputed = true
      this.store.putObject('dispute', dispute, { parent: charge.id, paymentIntent: dispute.payment_intent as string | null, status: dispute.status })
      this.store.putObject('charge', charge, chargeIndex(charge))
      this.emit('charge.dispute.created', dispute, NO_REQUEST)
      return dispute
    })
  }

  /**
   * Ends a dispute as Stripe's card networks would: won (funds back) or lost. Accepting a
   * dispute (POST /v1/disputes/:id/close) is the same as losing it. Emits charge.dispute.closed.
   */
  closeDispute(id: string, outcome: 'won' | 'lost', request: RequestContext = NO_REQUEST): Stripe.Dispute {
    return this.store.write(() => {
      const dispute = this.store.getObject<Stripe.Dispute>(id, 'dispute')
      if (!dispute) throw noSuch('dispute', id, 'dispute')
      if (dispute.status === 'won' || dispute.status === 'lost') {
        if (request.id) throw invalid(`This dispute is already closed (${dispute.status}).`, 'dispute')
        return dispute
      }
      const previous = { status: dispute.status }
      dispute.status = outcome
      this.store.putObject('dispute', dispute, { parent: typeof dispute.charge === 'string' ? dispute.charge : dispute.charge.id, paymentIntent: dispute.payment_intent as string | null, status: dispute.status })
      this.emit('charge.dispute.closed', dispute, request, previous)
      return dispute
    })
  }

  /** A paid session the store never created (e.g. from a Payment Link). */
  foreignSession(input: ForeignSessionInput): StoredSession {
    if (!Array.isArray(input.line_items) || input.line_items.length === 0) throw invalid('Missing required param: line_items.', 'line_items')
    const currency = (input.currency ?? 'usd').toLowerCase()
    if (!/^[a-z]{3}$/.test(currency)) throw invalid(`Invalid currency: ${input.currency}`, 'currency')
    const lines = input.line_items.map((line, i) => {
      const param = `line_items[${i}]`
      if (!line || typeof line.name !== 'string' || !line.name.trim()) throw invalid(`Missing required param: ${param}[name].`, `${param}[name]`)
      if (!Number.isSafeInteger(line.unit_amount) || line.unit_amount < 0) throw invalid(`Invalid integer: ${param}[unit_amount]`, `${param}[unit_amount]`)
      const quantity = line.quantity ?? 1
      if (!Number.isSafeInteger(quantity) || quantity < 1) throw invalid(`Invalid integer: ${param}[quantity]`, `${param}[quantity]`)
      const metadata: Record<string, string> = {}
      for (const [k, v] of Object.entries(line.metadata ?? {})) metadata[k] = String(v)
      if (line.variant_id !== undefined) metadata.variant_id = String(line.variant_id)
      return { name: line.name, description: line.description ?? null, images: [], productMetadata: metadata, unitAmount: line.unit_amount, quantity }
    })
    const address = cleanAddress({ line1: '1 Test Street', city: 'Springfield', postal_code: '12345', country: 'US', ...input.address })
    if (input.shipping && (!Number.isSafeInteger(input.shipping.amount) || input.shipping.amount < 0)) throw invalid('Invalid integer: shipping[amount]', 'shipping[amount]')
    if (input.coupon && input.promotion_code) throw invalid('You may only specify one of these parameters: coupon, promotion_code.', 'coupon')
    return this.store.write(() => {
      const session = this.createSession({
        currency,
        lines,
        metadata: input.metadata ?? {},
        clientReferenceId: input.client_reference_id ?? null,
        customerEmail: null,
        allowedCountries: [address.country ?? 'US'],
        shippingRates: input.shipping ? [{ displayName: input.shipping.display_name ?? 'Shipping', amount: input.shipping.amount, deliveryEstimate: null, metadata: {} }] : [],
        expiresAt: this.nowSeconds() + 24 * 3600,
        successUrl: null,
        cancelUrl: null,
        paymentIntentData: { metadata: {}, description: null },
        paymentLink: input.payment_link ?? newId('plink'),
        locale: null,
        submitType: null,
        billingAddressCollection: null,
        isPhoneCollected: false,
        discounts: input.coupon ? [{ coupon: input.coupon }] : input.promotion_code ? [{ promotionCode: input.promotion_code }] : [],
        isAutomaticTax: input.automatic_tax === true,
      })
      return this.paySession(session.id, {
        card: input.card ?? '4242424242424242',
        email: input.email ?? 'customer@example.com',
        name: input.name ?? 'Test Customer',
        address,
        asyncOutcome: input.asyncOutcome ?? null,
      })
    })
  }

  // ---- events

  emit(type: string, object: unknown, request: RequestContext, previous?: Record<string, unknown>): EmulatedEvent {
    const url = this.webhookUrl()
    const isDelivered = !!url && this.areWebhooksOn()
    const event: EmulatedEvent = {
      id: newId('evt'),
      object: 'event',
      api_version: this.apiVersion,
      created: this.nowSeconds(),
      data: { object: JSON.parse(JSON.stringify(object)), ...(previous ? { previous_attributes: previous } : {}) },
      livemode: false,
      pending_webhooks: isDelivered ? 1 : 0,
      request: { id: request.id, idempotency_key: request.idempotencyKey },
      type,
    }
    this.store.insertEvent(event)
    if (isDelivered) this.webhooks.enqueue(event.id, url)
    this.kick()
    return event
  }

  /** The event as the API shows it now: pending_webhooks counts undelivered attempts. */
  currentEvent(event: EmulatedEvent): EmulatedEvent {
    return this.webhooks.current(event)
  }

  // ---- background work

  start(): void {
    if (this.timer || this.isStopped) return
    this.timer = setInterval(() => this.tick(), this.tickMs)
    this.timer.unref()
    this.tick()
  }

  async stop(): Promise<void> {
    this.isStopped = true
    if (this.timer) clearInterval(this.timer)
    this.timer = null
    await this.webhooks.drain()
    this.store.close()
  }

  get isRunning(): boolean {
    return !!this.timer
  }

  /** Soon, outside the caller's transaction: deliver what was just emitted. */
  kick(): void {
    if (!this.timer) return
    setImmediate(() => this.tick())
  }

  private tick(): void {
    if (this.isTicking || this.isStopped || !this.store.isOpen) return
    this.isTicking = true
    try {
      if (Date.now() - this.lastSweepAt >= 1000) {
        this.lastSweepAt = Date.now()
        this.sweepExpired()
      }
      this.runDueTasks()
      this.webhooks.startDue(false)
    } catch (err) {
      this.log.error('emulator: background tick failed', { err })
    } finally {
      this.isTicking = false
    }
  }

  /** Open sessions past expires_at become expired (and emit checkout.session.expired). */
  sweepExpired(): number {
    let count = 0
    for (const id of this.store.openSessionsDue(this.nowSeconds())) {
      this.expireSession(id, NO_REQUEST, { isSweep: true })
      count++
    }
    return count
  }

  runDueTasks(): number {
    let count = 0
    for (const task of this.store.dueTasks(this.nowMs())) {
      this.store.write(() => {
        if (!this.store.takeTask(task.id)) return
        if (task.kind === 'settle') {
          const { outcome } = JSON.parse(task.payload) as { outcome: 'succeeded' | 'failed' }
          this.settle(task.subject, outcome)
        }
        count++
      })
    }
    return count
  }
}
