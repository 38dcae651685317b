import type { PromotionInput } from '@/lib/discounts'

/** The admin's new-code form as posted: a 20%-off SPRING20 with no restrictions, and a fresh nonce. */
export function promotionForm(overrides: Partial<PromotionInput> = {}): PromotionInput {
  return {
    code: 'SPRING20',
    kind: 'percent',
    amount: '20',
    expiresOn: '',
    maxRedemptions: '',
    minimumAmount: '',
    isFirstOrderOnly: false,
    nonce: `nonce-${Math.random().toString(36).slice(2)}-${Date.now().toString(36)}`,
    ...overrides,
  }
}
