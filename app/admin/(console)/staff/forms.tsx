'use client'

import { StateField, StateForm } from '../../_components/state-form'
import { buttonDark, input, label } from '../../_components/styles'
import { inviteAction, refundLimitAction } from './actions'

export function InviteForm() {
  return (
    <StateForm action={inviteAction} testId="invite-form" className="space-y-3">
      {(state) => (
        <>
          <StateField state={state} id="email" label="Email" type="email" autoComplete="off" required maxLength={254} />
          <div>
            <label htmlFor="role" className={label}>Role</label>
            <select id="role" name="role" defaultValue={state.values.role ?? 'staff'} key={state.values.role ?? 'staff'} className={input}>
              <option value="staff">Staff: orders, shipping, stock, products</option>
              <option value="owner">Owner: everything</option>
            </select>
          </div>
          <button type="submit" className={buttonDark}>Send invitation</button>
        </>
      )}
    </StateForm>
  )
}

export function RefundLimitForm({ current }: { current: string }) {
  return (
    <StateForm action={refundLimitAction} testId="refund-limit-form" className="space-y-3">
      {(state) => (
        <>
          <StateField state={{ ...state, values: { limit: state.values.limit ?? current } }} id="limit" label="Largest refund staff may send" inputMode="decimal" required maxLength={20} />
          <button type="submit" className={buttonDark}>Save limit</button>
        </>
      )}
    </StateForm>
  )
}
