import type Stripe from 'stripe'
import type { StripeServer } from './stripe-server'

// Paid Checkout Sessions with a promotion code and automatic tax, made the way a live shop
// makes them (the SDK's create with `discounts` and `automatic_tax`, then a payment at
// Stripe), for the storm and reconciliation tests to mix in with plain ones.

export type Mix = { discounted: boolean; taxed: boolean }

/** Round-robin over plain, discounted, taxed, and both. */
export function mixOf(i: number): Mix {
  return { discounted: i % 2 === 1, taxed: i % 4 >= 2 }
}

/** A 20%-off coupon with a code that never runs out, for `paidSession`. */
export async function promotionCode(stripe: Stripe, code: string): Promise<string> {
  const coupon = await stripe.coupons.create({ percent_off: 20, duration: 'once' })
  return (await stripe.promotionCodes.create({ promotion: { type: 'coupon', coupon: coupon.id }, code })).id
}

/**
 * A store session (cart_id metadata, variant_id on the product) paid at Stripe: discounted
 * with `promotionCodeId` and taxed (shipped to GB, where the emulator charges tax) as `mix`
 * says. Nothing here tells the store; webhooks and reconciliation do.
 */
export async function paidSession(
  server: StripeServer,
  stripe: Stripe,
  input: { mix: Mix; promotionCodeId: string; variantId: number; unitAmount: number; quantity: number; appUrl?: string },
): Promise<Stripe.Checkout.Session> {
  const appUrl = input.appUrl ?? 'http://127.0.0.1:3999'
  const session = await stripe.checkout.sessions.create({
    mode: 'payment',
    line_items: [
      {
        quantity: input.quantity,
        price_data: {
          currency: 'usd',
          unit_amount: input.unitAmount,
          ...(input.mix.taxed ? { tax_behavior: 'exclusive' as const } : {}),
          product_data: { name: 'Storm Mug', metadata: { variant_id: String(input.variantId) }, ...(input.mix.taxed ? { tax_code: 'txcd_99999999' } : {}) },
        },
      },
    ],
    metadata: { cart_id: `cart-mix-${Math.random().toString(36).slice(2)}` },
    shipping_address_collection: { allowed_countries: ['GB', 'US'] },
    shipping_options: [{ shipping_rate_data: { display_name: 'Standard', type: 'fixed_amount', fixed_amount: { amount: 500, currency: 'usd' }, ...(input.mix.taxed ? { tax_behavior: 'exclusive' as const } : {}) } }],
    ...(input.mix.discounted ? { discounts: [{ promotion_code: input.promotionCodeId }] } : {}),
    ...(input.mix.taxed ? { automatic_tax: { enabled: true } } : {}),
    success_url: `${appUrl}/checkout/success?session_id={CHECKOUT_SESSION_ID}`,
  })
  const address = input.mix.taxed ? { line1: '10 Downing Street', city: 'London', postal_code: 'SW1A 2AA', country: 'GB' } : { line1: '1 Harbour Street', city: 'Portland', postal_code: '04101', country: 'US' }
  return server.emulator.control.pay({ session: session.id, address }) as Stripe.Checkout.Session
}

/** Each session's money as Stripe has it now, by session id. */
export async function moneyOf(stripe: Stripe, ids: string[]): Promise<Map<string, { totalCents: number; discountCents: number; taxCents: number }>> {
  const out = new Map<string, { totalCents: number; discountCents: number; taxCents: number }>()
  for (const id of ids) {
    const s = await stripe.checkout.sessions.retrieve(id)
    out.set(id, { totalCents: s.amount_total ?? 0, discountCents: s.total_details?.amount_discount ?? 0, taxCents: s.total_details?.amount_tax ?? 0 })
  }
  return out
}
