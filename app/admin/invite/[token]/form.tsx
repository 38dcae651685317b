'use client'

import { StateField, StateForm } from '../../_components/state-form'
import { buttonDark } from '../../_components/styles'
import { acceptInviteAction } from './actions'

export function AcceptForm({ token, minLength }: { token: string; minLength: number }) {
  return (
    <StateForm action={acceptInviteAction} testId="accept-invite-form" className="space-y-4">
      {(state) => (
        <>
          <input type="hidden" name="token" value={token} />
          <StateField state={state} id="password" label={`Password (at least ${minLength} characters)`} type="password" autoComplete="new-password" required minLength={minLength} maxLength={500} />
          <StateField state={state} id="confirm" label="Password again" type="password" autoComplete="new-password" required maxLength={500} />
          <button type="submit" className={`${buttonDark} w-full`}>Join the admin</button>
        </>
      )}
    </StateForm>
  )
}
