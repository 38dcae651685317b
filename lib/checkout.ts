import 'server-only'
import crypto from 'node:crypto'
import { and, asc, eq } from 'drizzle-orm'
import { all, get, read, transaction, type Steps, type Tables, type Writer } from '@/db/tx'
import * as cart from './cart'
import { itemLabel, variantPictures } from './catalog'
import * as downloads from './downloads'
import { getEnv } from './env'
import * as accounts from './accounts'
import { CartEmpty, CheckoutOpen, NotFound, PaymentProviderError } from './errors'
import * as inventory from './inventory'
import { log } from './log'
import * as orders from './orders'
import * as payments from './payments'
import * as rateLimit from '@/lib/request/rate-limit'

// Checkout: hold stock in one immediate transaction, then (outside it) ask Stripe for a
// Checkout Session priced from our database, then tag the holds with the session id.
// If Stripe fails, the holds go back at once.
//
// Each of those is a transaction on either engine (db/tx.ts, decision 047); the calls to
// Stripe happen between them, never inside one. The reservation and the tagging take the
// cart's turn (cart.takingTurn), as the cart's changes do: on PostgreSQL, under READ COMMITTED
// with several app servers, two checkouts of one cart would otherwise both find no open
// session and no hold to release, and hold the same units twice for one cart; and a tagging
// could land between a reservation's check for open sessions and its release of untagged
// holds. Holds of one variant take inventory's turns (holdTurns), so the last units are held
// once.
//
// A session's holds go back only once Stripe says the session can no longer be paid: a
// cart with an open session is abandoned (abandon(): expire at Stripe, then release) before
// it changes or checks out again. Should the expire fail, or the session turn out to be
// paid already, the holds stay and the shopper is told; the cart does not change.

export const CHECKOUT_STILL_OPEN =
  'Your cart has a checkout open at our payment provider and we could not close it just now, so your cart was not changed. Please try again in a moment.'
export const CHECKOUT_ALREADY_PAID =
  'This cart has already been paid for (or its payment is on its way), so it can no longer be changed. Your order confirmation will follow.'

/**
 * Ends the cart's open checkouts at Stripe, then releases their holds. Network first, then
 * one write per session: nothing waits on Stripe inside a transaction. Throws CheckoutOpen
 * (holds kept) when a session could not be expired or was already completed.
 */
export async function abandon(cartId: string): Promise<{ released: number }> {
  let released = 0
  for (const sessionId of await read((db, t) => inventory.openSessionsIn(db, t, cartId))) {
    let ending: 'expired' | 'complete'
    try {
      ending = await payments.closeCheckoutSession(sessionId)
    } catch (err) {
      log.warn('checkout: could not expire an open session; its holds stay', { sessionId, err: String(err) })
      throw new CheckoutOpen(CHECKOUT_STILL_OPEN)
    }
    if (ending === 'complete') {
      // Paid (or paying later): record the order now rather than wait for the webhook; the
      // cart is converted with it. The holds stay for the order either way.
      await orders.syncSession(sessionId).catch((err: unknown) => log.warn('checkout: could not record a completed session yet', { sessionId, err: String(err) }))
      throw new CheckoutOpen(CHECKOUT_ALREADY_PAID)
    }
    released += await transaction((tx, t) => inventory.releasingForSession(tx, t, sessionId))
  }
  return { released }
}

export type StartResult = { url: string; sessionId: string }

/**
 * What the cart says about the rest of the price: shipping, codes and (only when Stripe Tax
 * is on) tax are all settled on Stripe's page. With tax off nothing is said about tax, since
 * no tax is charged and claiming the prices exclude it would be untrue.
 */
export function priceNotes(): string[] {
  const env = getEnv()
  const notes = ['Shipping is chosen and added at checkout.', 'Have a discount code? Enter it at checkout.']
  if (env.isStripeTaxEnabled) notes.push(env.stripeTaxBehavior === 'inclusive' ? 'Prices include tax.' : 'Tax calculated at checkout.')
  return notes
}

type Reserved = {
  version: number
  holdIds: number[]
  /** false when every line is a download: Stripe's page then asks for no address and offers no rates */
  isShipped: boolean
  lines: { variantId: number; quantity: number; priceCents: number; currency: string; title: string; variantTitle: string; sku: string; description: string; taxCode: string | null }[]
}

/** The signed-in shopper checking out, if any: their Stripe Customer makes Checkout prefill. */
export type Shopper = Pick<accounts.Account, 'id' | 'email' | 'stripeCustomerId'>

/**
 * The account's Stripe Customer, created on its first checkout. The idempotency key is the
 * account's, so two checkouts at once make one; the first id stored is kept.
 */
async function customerOf(shopper: Shopper): Promise<string> {
  if (shopper.stripeCustomerId) return shopper.stripeCustomerId
  const created = await payments.createCustomer({ email: shopper.email, accountId: shopper.id }, `customer:account:${shopper.id}`)
  return accounts.setStripeCustomer(shopper.id, created)
}

/**
 * Holds the cart's units for a checkout, in one transaction: the cart's turn, its lines priced
 * from the database, the release of its holds no open session pays for, then one hold per line
 * (OutOfStock, HoldLimit). Refuses a cart another checkout opened a session for meanwhile.
 */
export function* reserving(tx: Writer, t: Tables, cartId: string, expiresAt: number, visitor: inventory.VisitorBound): Steps<Reserved> {
  yield* cart.takingTurn(cartId)
  const row = yield* get(tx.select({ status: t.carts.status, version: t.carts.version }).from(t.carts).where(eq(t.carts.id, cartId)))
  if (!row || row.status === 'converted') throw new NotFound('Your cart')
  const lines = yield* all(
    tx
      .select({
        variantId: t.cartLines.variantId,
        productId: t.variants.productId,
        quantity: t.cartLines.quantity,
        priceCents: t.variants.priceCents,
        currency: t.variants.currency,
        title: t.products.title,
        variantTitle: t.variants.title,
        sku: t.variants.sku,
        description: t.products.description,
        taxCode: t.products.taxCode,
      })
      .from(t.cartLines)
      .innerJoin(t.variants, eq(t.variants.id, t.cartLines.variantId))
      .innerJoin(t.products, and(eq(t.products.id, t.variants.productId), eq(t.products.status, 'active')))
      .where(eq(t.cartLines.cartId, cartId))
      .orderBy(asc(t.cartLines.id)),
  )
  if (lines.length === 0) throw new CartEmpty()
  // A second checkout of the same cart replaces the first: abandon() expired its session at
  // Stripe and released its holds. Holds of a session that opened since then stay (that
  // checkout is live); holds never tagged with a session go back, so the same units are never
  // held twice for one cart.
  if ((yield* inventory.openSessionsIn(tx, t, cartId)).length > 0) throw new CheckoutOpen(CHECKOUT_STILL_OPEN)
  // The variants' turns before the release: its mark takes the change lock (inventory.holdTurns)
  yield* inventory.holdTurns(lines.map((l) => l.variantId))
  yield* inventory.releasingUnboundForCart(tx, t, cartId)
  const holdIds = yield* inventory.placingHolds(tx, t, {
    cartId,
    expiresAt,
    visitor,
    lines: lines.map((l) => ({ variantId: l.variantId, quantity: l.quantity, label: itemLabel(l.title, l.variantTitle) })),
  })
  return { version: row.version, holdIds, isShipped: !(yield* downloads.areAllDownloadsIn(tx, t, lines.map((l) => l.productId))), lines }
}

/** Tags the reserved holds with Stripe's session in the cart's turn; how many were still active (fewer: another checkout of the cart released them meanwhile). */
export function* attaching(tx: Writer, t: Tables, cartId: string, holdIds: number[], sessionId: string): Steps<number> {
  yield* cart.takingTurn(cartId)
  return yield* inventory.attachingSession(tx, t, holdIds, sessionId)
}

export async function start(cartId: string, clientAddress: string | null = null, shopper: Shopper | null = null): Promise<StartResult> {
  await rateLimit.takeCheckoutStart(cartId, clientAddress)
  const env = getEnv()
  await abandon(cartId)
  let customer: string | null = null
  try {
    customer = shopper ? await customerOf(shopper) : null
  } catch (err) {
    // Prefilling is a comfort: a shopper whose Customer could not be made still checks out.
    log.warn('checkout: could not create the Stripe Customer; checking out without it', { accountId: shopper?.id, err: String(err) })
  }
  // Stripe wants expires_at at least 30 minutes out when it receives the request; a minute
  // of slack covers the time to get there. The hold outlives the session by a few minutes,
  // so a payment that completes at the last second still finds its units.
  const sessionExpiresAt = Date.now() + (inventory.HOLD_MINUTES * 60 + 60) * 1000
  const expiresAt = sessionExpiresAt + 5 * 60 * 1000
  const visitor = { clientKey: clientAddress ? rateLimit.hashKey('holds-client', clientAddress) : null, maxSharePercent: env.holdMaxSharePercent }
  const reserved = await transaction((tx, t) => reserving(tx, t, cartId, expiresAt, visitor))

  const content = reserved.lines.map((l) => `${l.variantId}x${l.quantity}@${l.priceCents}`).join(',')
  const idempotencyKey = crypto.createHash('sha256').update(`checkout:${cartId}:v${reserved.version}:${content}:h${reserved.holdIds[0]}:c${customer ?? ''}`).digest('hex')
  const currency = reserved.lines[0]!.currency
  // Stripe's page shows each line's picture; it fetches them itself, so the URLs are absolute.
  const pictures = await variantPictures(reserved.lines.map((l) => l.variantId))
  const imagesOf = (variantId: number) => {
    const picture = pictures.get(variantId)?.path
    return picture ? [`${env.appUrl}/uploads/${picture.split('/').map(encodeURIComponent).join('/')}`] : []
  }
  // Stripe Tax, when on: Stripe works out the tax from the shipping address, each product's
  // tax code and whether the prices include it. Off: nothing about tax is sent at all.
  const tax = env.isStripeTaxEnabled ? { behavior: env.stripeTaxBehavior, defaultCode: env.stripeTaxCode } : null
  let session
  try {
    session = await payments.createCheckoutSession(
      {
        mode: 'payment',
        line_items: reserved.lines.map((l) => ({
          quantity: l.quantity,
          price_data: {
            currency: l.currency,
            unit_amount: l.priceCents,
            ...(tax ? { tax_behavior: tax.behavior } : {}),
            product_data: {
              name: itemLabel(l.title, l.variantTitle),
              ...(l.description ? { description: l.description.slice(0, 500) } : {}),
              images: imagesOf(l.variantId),
              metadata: { variant_id: String(l.variantId), sku: l.sku },
              ...(tax ? { tax_code: l.taxCode ?? tax.defaultCode } : {}),
            },
          },
        })),
        // Codes are entered on Stripe's page and checked by Stripe as the shopper pays
        // (docs/decisions/021-discounts-and-tax-at-checkout.md).
        allow_promotion_codes: true,
        // Abandoned checkouts (lib/checkout-reminders.ts): a session that expires gets a URL
        // that reopens it, and Stripe's page asks whether the shopper wants offers by email.
        ...(env.areCheckoutRemindersEnabled
          ? { after_expiration: { recovery: { enabled: true, allow_promotion_codes: true } }, consent_collection: { promotions: 'auto' as const } }
          : {}),
        ...(tax ? { automatic_tax: { enabled: true } } : {}),
        metadata: { cart_id: cartId, cart_version: String(reserved.version) },
        // Signed in: Checkout starts from the Customer (email, name, the last shipping address)
        // and saves what the shopper enters for next time. Stripe keeps the card details.
        ...(customer ? { customer, customer_update: { shipping: 'auto' as const, name: 'auto' as const } } : {}),
        client_reference_id: cartId,
        // A cart of downloads only ships nothing: no address is asked and no rate offered.
        ...(reserved.isShipped
          ? {
              shipping_address_collection: { allowed_countries: env.shippingCountries as ('US' | 'GB')[] },
              shipping_options: env.shippingRates.map((rate) => ({
                shipping_rate_data: {
                  display_name: rate.name,
                  type: 'fixed_amount' as const,
                  fixed_amount: { amount: rate.amountCents, currency },
                  ...(tax ? { tax_behavior: tax.behavior } : {}),
                  delivery_estimate: { minimum: { unit: 'business_day' as const, value: rate.minDays }, maximum: { unit: 'business_day' as const, value: rate.maxDays } },
                },
              })),
            }
          : {}),
        expires_at: Math.floor(sessionExpiresAt / 1000),
        success_url: `${env.appUrl}/checkout/success?session_id={CHECKOUT_SESSION_ID}`,
        cancel_url: `${env.appUrl}/checkout/cancel`,
      },
      idempotencyKey,
    )
  } catch (err) {
    await transaction((tx, t) => inventory.releasingHolds(tx, t, reserved.holdIds))
    log.error('checkout: session create failed', { cartId, err })
    throw new PaymentProviderError('We could not start the payment. Nothing was charged; please try again in a moment.', err)
  }
  const attached = await transaction((tx, t) => attaching(tx, t, cartId, reserved.holdIds, session.id))
  if (attached < reserved.holdIds.length) {
    // Another checkout of this cart released these holds while Stripe was creating the
    // session: a session without its holds must not be paid, so it is expired now.
    await payments.expireCheckoutSession(session.id).catch((err) => log.warn('checkout: could not expire a superseded session', { sessionId: session.id, err: String(err) }))
    throw new CheckoutOpen('Your cart changed while the payment page was being prepared; please check out again.')
  }
  if (!session.url) throw new PaymentProviderError('The payment page is not available; please try again.')
  return { url: session.url, sessionId: session.id }
}

/**
 * The shopper came back from Stripe without paying: expire the open session at Stripe so it
 * can no longer be paid, then give the held units back. Should Stripe not confirm that, the
 * units stay held (the cart says why when the shopper next changes it).
 */
export async function cancel(cartId: string): Promise<{ released: number }> {
  try {
    return await abandon(cartId)
  } catch (err) {
    if (err instanceof CheckoutOpen) return { released: 0 }
    throw err
  }
}
