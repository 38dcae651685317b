'use server'

import { refused, type FormState } from '../../_components/form-state'
import { done } from '../../_components/redirect'
import * as adminAuth from '@/lib/admin-auth'
import { InvalidInput } from '@/lib/errors'

// Passwords never come back to the page (form-state.ts leaves them out); the message does.
export async function changePasswordAction(previous: FormState, formData: FormData): Promise<FormState> {
  const admin = await adminAuth.requireAdmin()
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
