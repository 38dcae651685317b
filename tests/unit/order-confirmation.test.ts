import { describe, expect, it } from 'vitest'
import { orderConfirmation } from '@/lib/mail/order-confirmation'
import type { OrderView } from '@/lib/orders'

// The confirmation email is a pure function of the order: built here from a plain order.

function order(overrides: Partial<OrderView> = {}): OrderView {
  return {
    id: 42,
    stripeCheckoutSessionId: 'cs_test_mail',
    stripePaymentIntentId: 'pi_test_mail',
    publicToken: 'tok_abcdefghijklmnopqrstuvwx',
    status: 'paid',
    isOversold: false,
    isDisputed: false,
    totalCents: 6400,
    subtotalCents: 5900,
    shippingCents: 500,
    taxCents: 0,
    isTaxInclusive: false,
    discountCents: 0,
    discountCodes: [],
    refundedCents: 0,
    currency: 'usd',
    email: 'sam@example.com',
    customerName: 'Sam Shopper',
    shippingAddress: { name: 'Sam Shopper', line1: '100 King St W', line2: null, city: 'Toronto', state: 'ON', postalCode: 'M5V 2T6', country: 'CA' },
    shippingRateName: 'Standard',
    paymentMethod: 'Visa ending 4242',
    cartId: null,
    paidAt: 1_764_547_200_000,
    fulfilledAt: null,
    canceledAt: null,
    disputeStatus: null,
    stockTakenAt: null,
    carrier: null,
    trackingNumber: null,
    createdAt: 1_764_547_200_000,
    updatedAt: 1_764_547_200_000,
    lines: [{ id: 1, orderId: 42, variantId: 7, stripeLineItemId: 'li_1', sku: 'TEE-NAVY-M', title: 'Tee — Navy / M', quantity: 2, unitAmountCents: 2950, totalCents: 5900, subtotalCents: 5900, discountCents: 0, taxCents: 0, restockedQuantity: 0 }],
    ...overrides,
  }
}

describe('order confirmation email', () => {
  it('names the shipping method in the text and the HTML', () => {
    const message = orderConfirmation(order())
    expect(message.text).toContain('Shipping method: Standard')
    expect(message.text).toContain('Shipping (Standard): $5.00')
    expect(message.html).toContain('<h2 style="font-size:16px">Shipping method</h2><p>Standard</p>')
  })

  it('writes the address the way the country writes it, with the country named', () => {
    const message = orderConfirmation(order())
    expect(message.text).toContain(['Shipping to:', 'Sam Shopper', '100 King St W', 'Toronto ON  M5V 2T6', 'Canada'].join('\n'))
    expect(message.html).toContain('Toronto ON  M5V 2T6<br>Canada')
    expect(message.text).not.toMatch(/^CA$/m)
  })

  it('says how the order was paid', () => {
    const message = orderConfirmation(order())
    expect(message.text).toContain('Paid with: Visa ending 4242')
    expect(message.html).toContain('<h2 style="font-size:16px">Payment</h2><p>Visa ending 4242</p>')
  })

  it('leaves the shipping method out when Stripe did not say', () => {
    const message = orderConfirmation(order({ shippingRateName: null }))
    expect(message.text).not.toContain('Shipping method')
    expect(message.text).toContain('Shipping: $5.00')
  })

  it('shows the discount with its code, and the tax, as Stripe reported them', () => {
    const line = { ...order().lines[0]!, subtotalCents: 5900, discountCents: 1180, taxCents: 472, totalCents: 5192 }
    const message = orderConfirmation(order({ subtotalCents: 5900, discountCents: 1180, discountCodes: ['SPRING20'], shippingCents: 500, taxCents: 522, totalCents: 5742, lines: [line] }))
    // the line shows its price, so the lines add up to the subtotal under them
    expect(message.text).toContain('2 × Tee — Navy / M (TEE-NAVY-M)  $59.00')
    expect(message.text).toContain(['Subtotal: $59.00', 'Discount (SPRING20): −$11.80', 'Shipping (Standard): $5.00', 'Tax: $5.22', 'Total: $57.42'].join('\n'))
    expect(message.html).toContain('Discount (SPRING20)')
    expect(message.html).toContain('−$11.80')
  })

  it('has no tax or discount line when Stripe charged neither', () => {
    const message = orderConfirmation(order())
    expect(message.text).not.toMatch(/^Tax/m)
    expect(message.text).not.toContain('Discount')
  })

  it('marks tax that was included in the prices', () => {
    const message = orderConfirmation(order({ taxCents: 983, isTaxInclusive: true }))
    expect(message.text).toContain('Tax (included): $9.83')
    expect(message.text).toContain('Total: $64.00')
  })
})
