import { describe, expect, it } from 'vitest'
import * as discounts from '@/lib/discounts'
import { promotionForm } from '../support/promotion-form'

// The Discounts form's rules. Creating and deactivating codes at Stripe, and the store's own
// count of paid orders per code on both engines, are covered end to end
// (tests/e2e/discounts.spec.ts, tests/integration/discounts.test.ts).

const TODAY = '2026-12-01'
const form = promotionForm

describe('discounts.parsePromotion', () => {
  it('reads a percentage code with every restriction', () => {
    const parsed = discounts.parsePromotion(form({ expiresOn: '2026-12-31', maxRedemptions: '100', minimumAmount: '50', isFirstOrderOnly: true }), TODAY, 'usd')
    expect(parsed).toEqual({
      ok: true,
      data: { code: 'SPRING20', percentOff: 20, amountOffCents: null, currency: 'usd', expiresAt: Date.parse('2026-12-31T23:59:59Z') / 1000, maxRedemptions: 100, minimumAmountCents: 5000, isFirstOrderOnly: true },
    })
  })

  it('reads an amount off in the shop currency', () => {
    expect(discounts.parsePromotion(form({ kind: 'amount', amount: '5.50' }), TODAY, 'usd')).toMatchObject({ ok: true, data: { percentOff: null, amountOffCents: 550 } })
  })

  it.each([
    [{ code: 'no spaces' }, /letters, digits or dashes/],
    [{ code: 'ab' }, /3 to 40/],
    [{ amount: '0' }, /percentage from 0.01 to 100/],
    [{ amount: '120' }, /percentage from 0.01 to 100/],
    [{ amount: 'twenty' }, /percentage/],
    [{ kind: 'amount', amount: '-5' }, /amount off \(in USD\) must be digits/],
    [{ kind: 'amount', amount: '5,50' }, /decimal point/],
    [{ kind: 'amount', amount: '0' }, /more than zero/],
    [{ kind: 'free' }, /percentage or an amount/],
    [{ expiresOn: '2026-11-30' }, /expiry date has passed/],
    [{ expiresOn: 'tomorrow' }, /as a date/],
    [{ maxRedemptions: '0' }, /whole number from 1/],
    [{ maxRedemptions: '2.5' }, /whole number from 1/],
    [{ minimumAmount: 'lots' }, /minimum order \(in USD, or empty for none\) must be digits/],
    [{ kind: 'amount', amount: '10', minimumAmount: '5' }, /at least the amount off \(\$10\.00\)/],
  ])('refuses %j with a message the owner can act on', (overrides, message) => {
    const parsed = discounts.parsePromotion(form(overrides as Partial<discounts.PromotionInput>), TODAY, 'usd')
    expect(parsed.ok).toBe(false)
    expect(parsed.ok ? '' : parsed.message).toMatch(message)
  })

  it('describes coupons in words', () => {
    expect(discounts.describeCoupon({ percentOff: 20, amountOffCents: null, currency: null })).toBe('20% off')
    expect(discounts.describeCoupon({ percentOff: null, amountOffCents: 550, currency: 'usd' })).toBe('$5.50 off')
  })

  it('accepts only nonces it could have made', () => {
    expect(discounts.isNonce(discounts.newNonce())).toBe(true)
    expect(discounts.isNonce('short')).toBe(false)
    expect(discounts.isNonce('x'.repeat(20) + '/')).toBe(false)
  })
})
