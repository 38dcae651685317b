'use client'

import { ActionForm, Field } from '../../_components/action-form'
import { buttonDark } from '../../_components/styles'
import { acceptInviteAction } from './actions'

export function AcceptForm({ token, minLength }: { token: string; minLength: number }) {
  return (
    <ActionForm action={acceptInviteAction} testId="accept-invite-form" className="space-y-4" hasSummary={false}>
      <input type="hidden" name="token" value={token} />
      <Field name="password" label={`Password (at least ${minLength} characters)`} type="password" autoComplete="new-password" required minLength={minLength} maxLength={500} />
      <Field name="confirm" label="Password again" type="password" autoComplete="new-password" required maxLength={500} />
      <button type="submit" className={`${buttonDark} w-full`}>Join the admin</button>
    </ActionForm>
  )
}
