'use client'

import { StateField, StateForm } from '../../_components/state-form'
import { buttonDark } from '../../_components/styles'
import { verifyCodeAction } from './actions'

export function VerifyForm() {
  return (
    <StateForm action={verifyCodeAction} testId="verify-form" className="space-y-4">
      {(state) => (
        <>
          <StateField state={state} id="code" label="Code from your app, or a recovery code" autoComplete="one-time-code" autoCapitalize="off" spellCheck={false} required maxLength={40} autoFocus />
          <button type="submit" className={`${buttonDark} w-full`}>Verify</button>
        </>
      )}
    </StateForm>
  )
}
