'use server'

import { refused, type FormState } from '../../_components/form-state'
import { done, fail } from '../../_components/redirect'
import * as discounts from '@/lib/discounts'
import { InvalidInput, PaymentProviderError } from '@/lib/errors'
import * as staff from '@/lib/staff'

// The Discounts forms: parse, check the session, call lib/discounts (which talks to Stripe
// and audits), answer with a redirect carrying the message, or with what was typed and why
// it was refused (form-state.ts).

const text = (v: FormDataEntryValue | null) => (typeof v === 'string' ? v : '')

export async function createPromotionCodeAction(previous: FormState, formData: FormData): Promise<FormState> {
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
      const answer = refused(previous, formData, { [err instanceof InvalidInput && err.field ? err.field : '']: err.message })
      // the corrected form is a new request to Stripe, under a new idempotency key
      return { ...answer, values: { ...answer.values, nonce: discounts.newNonce() } }
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
