'use server'

import { done, fail } from '../../_components/redirect'
import * as discounts from '@/lib/discounts'
import { InvalidInput, PaymentProviderError } from '@/lib/errors'
import * as staff from '@/lib/staff'

// The Discounts forms: parse, check the session, call lib/discounts (which talks to Stripe
// and audits), answer with a redirect carrying the message.

const text = (v: FormDataEntryValue | null) => (typeof v === 'string' ? v : '')

// The fields that go back to the form after a refusal, so nothing typed is lost.
const KEPT = ['code', 'kind', 'amount', 'expiresOn', 'maxRedemptions', 'minimumAmount'] as const

export async function createPromotionCodeAction(formData: FormData): Promise<void> {
  const admin = await staff.requirePermission('discounts')
  const input: discounts.PromotionInput = {
    code: text(formData.get('code')),
    kind: text(formData.get('kind')),
    amount: text(formData.get('amount')),
    expiresOn: text(formData.get('expiresOn')),
    maxRedemptions: text(formData.get('maxRedemptions')),
    minimumAmount: text(formData.get('minimumAmount')),
    isFirstOrderOnly: formData.get('isFirstOrderOnly') === 'on',
    nonce: text(formData.get('nonce')),
  }
  let created
  try {
    created = await discounts.create(admin, input)
  } catch (err) {
    if (err instanceof InvalidInput || err instanceof PaymentProviderError) {
      const kept = new URLSearchParams()
      for (const key of KEPT) if (input[key]) kept.set(key, input[key].slice(0, 100))
      if (input.isFirstOrderOnly) kept.set('isFirstOrderOnly', 'on')
      fail(`/admin/discounts?${kept}`, err.message)
    }
    throw err
  }
  done('/admin/discounts', `Promotion code ${created.code} created; shoppers can enter it at checkout.`)
}

export async function deactivatePromotionCodeAction(formData: FormData): Promise<void> {
  const admin = await staff.requirePermission('discounts')
  let code
  try {
    code = await discounts.deactivate(admin, text(formData.get('promotionCodeId')))
  } catch (err) {
    if (err instanceof InvalidInput || err instanceof PaymentProviderError) fail('/admin/discounts', err.message)
    throw err
  }
  done('/admin/discounts', `Promotion code ${code.code} deactivated; shoppers can no longer use it.`)
}
