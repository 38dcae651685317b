'use server'

import { answered, refused, type FormState } from '../../_components/form-state'
import { done, fail } from '../../_components/redirect'
import * as adminAuth from '@/lib/admin-auth'
import { InvalidInput } from '@/lib/errors'
import * as twoFactor from '@/lib/two-factor'

// Passwords never come back to the page (form-state.ts leaves them out); the message does.
// requireSession: one who must still set up a second factor may change their password first.
export async function changePasswordAction(previous: FormState, formData: FormData): Promise<FormState> {
  const admin = await adminAuth.requireSession()
  const current = formData.get('current')
  const next = formData.get('next')
  const confirm = formData.get('confirm')
  if (typeof current !== 'string' || !current) return refused(previous, formData, { current: 'Enter your current password.' })
  if (typeof next !== 'string' || !next) return refused(previous, formData, { next: 'Enter a new password.' })
  if (next !== confirm) return refused(previous, formData, { confirm: 'The two new passwords differ.' })
  try {
    await adminAuth.changePassword(admin, current, next)
  } catch (err) {
    if (err instanceof InvalidInput) return refused(previous, formData, { [err.field ?? '']: err.message })
    throw err
  }
  done('/admin/account', 'Password changed. Other sessions are signed out.')
}

export async function startTwoFactorAction(): Promise<void> {
  const admin = await adminAuth.requireSession()
  try {
    await twoFactor.beginEnrolment(admin)
  } catch (err) {
    if (err instanceof InvalidInput) fail('/admin/account', err.message)
    throw err
  }
  done('/admin/account', 'Scan the QR code with your authenticator app, then enter the code it shows.')
}

export async function confirmTwoFactorAction(previous: FormState, formData: FormData): Promise<FormState> {
  const admin = await adminAuth.requireSession()
  const code = formData.get('code')
  let codes: string[]
  try {
    codes = await twoFactor.confirmEnrolment(admin, typeof code === 'string' ? code.slice(0, 100) : '')
  } catch (err) {
    if (err instanceof InvalidInput) return refused(previous, formData, { code: err.message })
    throw err
  }
  // No revalidation here: the page would re-render without this form, and the codes with it.
  return answered(previous, formData, 'Two-factor sign-in is on. Save these recovery codes now: they are shown only once.', { values: {}, shownOnce: codes })
}
