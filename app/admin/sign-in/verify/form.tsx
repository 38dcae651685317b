'use client'

import { ActionForm, Field } from '../../_components/action-form'
import { buttonDark } from '../../_components/styles'
import { verifyCodeAction } from './actions'

export function VerifyForm() {
  return (
    <ActionForm action={verifyCodeAction} testId="verify-form" className="space-y-4" hasSummary={false}>
      <Field name="code" label="Code from your app, or a recovery code" autoComplete="one-time-code" autoCapitalize="off" spellCheck={false} required maxLength={40} autoFocus />
      <button type="submit" className={`${buttonDark} w-full`}>Verify</button>
    </ActionForm>
  )
}
