import { describe, expect, it } from 'vitest'
import * as orders from '@/lib/orders'
import type { DisputeState } from '@/lib/payments'
import { checkoutFacts } from '@/lib/payments/stripe'
import { paymentIntentObject, sessionObject } from '../support/stripe-objects'

// The order's pure rules: the facts read from Stripe's objects, the order Stripe's state
// implies, and statuses that never move back. Applying them to the database is tested on both
// engines in tests/integration/orders.test.ts.

describe('checkout facts', () => {
  it('finds the codes in the breakdown of the totals when the session lists no discounts', async () => {
    const breakdown = (promotion_code: unknown) =>
      sessionObject({ discounts: [], total_details: { amount_discount: 500, amount_shipping: 500, amount_tax: 0, breakdown: { discounts: [{ amount: 500, discount: { promotion_code, source: { coupon: 'cpn_1' } } }], taxes: [] } } } as never)
    expect(checkoutFacts(breakdown({ id: 'promo_1', code: 'WELCOME5' }), []).discountCodes).toEqual(['WELCOME5'])
    // only an id: payments.readCheckout reads its code
    expect(checkoutFacts(breakdown('promo_1'), []).discountCodes).toEqual(['promo_1'])
  })

  it('tells tax inside the prices from tax on top by Stripe\'s own totals', async () => {
    const inclusive = sessionObject({ amount_subtotal: 6000, amount_total: 6500, total_details: { amount_discount: 0, amount_shipping: 500, amount_tax: 1083 } })
    expect(checkoutFacts(inclusive, [])).toMatchObject({ taxCents: 1083, isTaxInclusive: true })
    const none = sessionObject({ amount_subtotal: 6000, amount_total: 6500 })
    expect(checkoutFacts(none, [])).toMatchObject({ taxCents: 0, isTaxInclusive: false, discountCents: 0, discountCodes: [] })
    expect(orders.totalsOf({ ...checkoutFacts(inclusive, []), subtotalCents: 6000, totalCents: 6500, shippingRateName: 'Standard' }).map((r) => r.label)).toEqual(['Subtotal', 'Shipping (Standard)', 'Tax (included)', 'Total'])
  })

})

// Facts as payments makes them from Stripe's objects: a session with its payment intent and
// latest charge expanded.
function facts(opts: {
  status?: 'open' | 'complete' | 'expired'
  paymentStatus?: 'paid' | 'unpaid' | 'no_payment_required'
  intent?: 'processing' | 'succeeded' | 'requires_payment_method' | null
  amount?: number
  refunded?: number
  dispute?: DisputeState
  metadata?: Record<string, string>
  paymentLink?: string | null
}) {
  const amount = opts.amount ?? 5500
  const intent = opts.intent === null ? null : paymentIntentObject({ status: opts.intent ?? 'succeeded', amount, amountRefunded: opts.refunded ?? 0, disputed: !!opts.dispute })
  const session = sessionObject({
    status: opts.status ?? 'complete',
    payment_status: opts.paymentStatus ?? 'paid',
    amount_total: amount,
    metadata: opts.metadata ?? { cart_id: 'cart_1' },
    payment_link: opts.paymentLink ?? null,
    payment_intent: intent,
  })
  return checkoutFacts(session, [], { dispute: opts.dispute ?? null })
}

describe('orders.targetOf (the order Stripe state implies)', () => {
  it.each([
    ['open session', facts({ status: 'open', paymentStatus: 'unpaid', intent: null }), { kind: 'none', releaseHolds: false }],
    ['expired session', facts({ status: 'expired', paymentStatus: 'unpaid', intent: null }), { kind: 'none', releaseHolds: true }],
    ['paid', facts({}), { kind: 'order', status: 'paid', refundedCents: 0, dispute: null }],
    ['pay-later, not settled', facts({ paymentStatus: 'unpaid', intent: 'processing' }), { kind: 'order', status: 'awaiting_payment' }],
    ['pay-later, failed', facts({ paymentStatus: 'unpaid', intent: 'requires_payment_method' }), { kind: 'order', status: 'payment_failed' }],
    ['paid, part refunded', facts({ refunded: 1000 }), { kind: 'order', status: 'partially_refunded', refundedCents: 1000 }],
    ['paid, refunded in full', facts({ refunded: 5500 }), { kind: 'order', status: 'refunded', refundedCents: 5500 }],
    ['paid, disputed', facts({ dispute: 'open' }), { kind: 'order', status: 'paid', dispute: 'open' }],
    ['paid, dispute lost', facts({ dispute: 'lost' }), { kind: 'order', status: 'paid', dispute: 'lost' }],
    ['another app’s session', facts({ metadata: {} }), { kind: 'none', releaseHolds: false }],
    ['a Payment Link sale', facts({ metadata: {}, paymentLink: 'plink_1' }), { kind: 'order', status: 'paid' }],
    ['$0 session, not ours', facts({ metadata: {}, paymentLink: 'plink_1', paymentStatus: 'no_payment_required', intent: null, amount: 0 }), { kind: 'none', releaseHolds: false }],
    ['$0 session from our Checkout', facts({ paymentStatus: 'no_payment_required', intent: null, amount: 0 }), { kind: 'order', status: 'paid', refundedCents: 0 }],
  ])('%s', (_name, input, expected) => {
    expect(orders.targetOf(input)).toMatchObject(expected)
  })

  it('statuses never move back, whatever order targets arrive in', async () => {
    const all = ['awaiting_payment', 'paid', 'fulfilled', 'partially_refunded', 'refunded', 'payment_failed'] as const
    for (const a of all) {
      for (const b of all) {
        const ab = orders.nextStatus(orders.nextStatus('awaiting_payment', a), b)
        const ba = orders.nextStatus(orders.nextStatus('awaiting_payment', b), a)
        expect(ab).toBe(ba)
        expect(orders.nextStatus(ab, a)).toBe(ab)
      }
    }
  })
})
