'use client'

import { ActionForm, ChoiceField, Field } from '../../_components/action-form'
import { buttonDark } from '../../_components/styles'
import { inviteAction, refundLimitAction } from './actions'

const ROLE_CHOICES = [
  ['staff', 'Staff: orders, shipping, stock, products'],
  ['owner', 'Owner: everything'],
] as const

export function InviteForm() {
  return (
    <ActionForm action={inviteAction} testId="invite-form" className="space-y-3">
      <Field name="email" label="Email" type="email" autoComplete="off" required maxLength={254} />
      <ChoiceField name="role" label="Role" defaultValue="staff" options={ROLE_CHOICES} />
      <button type="submit" className={buttonDark}>Send invitation</button>
    </ActionForm>
  )
}

export function RefundLimitForm({ current }: { current: string }) {
  return (
    <ActionForm action={refundLimitAction} testId="refund-limit-form" className="space-y-3" hasSummary={false}>
      <Field name="limit" label="Largest refund staff may send" inputMode="decimal" required maxLength={20} defaultValue={current} />
      <button type="submit" className={buttonDark}>Save limit</button>
    </ActionForm>
  )
}
