'use client'

import Link from 'next/link'
import { StateField, StateForm } from '../../_components/state-form'
import { buttonDark } from '../../_components/styles'
import { confirmTwoFactorAction } from './actions'

/** Confirms enrolment with a first code; then shows the recovery codes, once. */
export function ConfirmTwoFactorForm() {
  return (
    <StateForm action={confirmTwoFactorAction} testId="two-factor-confirm" className="space-y-3">
      {(state) =>
        state.shownOnce ? (
          <>
            <ol className="grid grid-cols-2 gap-2 rounded-xl border border-stone-300 bg-stone-50 p-3 font-mono text-sm" data-testid="recovery-codes">
              {state.shownOnce.map((code) => (
                <li key={code}>{code}</li>
              ))}
            </ol>
            <Link href="/admin/account" className="text-sm font-medium underline underline-offset-4">
              I have saved them
            </Link>
          </>
        ) : (
          <>
            <StateField state={state} id="code" label="Six-digit code from the app" inputMode="numeric" autoComplete="one-time-code" required maxLength={10} />
            <button type="submit" className={buttonDark}>Turn on two-factor sign-in</button>
          </>
        )
      }
    </StateForm>
  )
}
