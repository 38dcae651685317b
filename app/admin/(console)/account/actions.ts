'use server'

import { done, fail } from '../../_components/redirect'
import * as adminAuth from '@/lib/admin-auth'
import { InvalidInput } from '@/lib/errors'

export async function changePasswordAction(formData: FormData): Promise<void> {
  const admin = await adminAuth.requireAdmin()
  const current = formData.get('current')
  const next = formData.get('next')
  const confirm = formData.get('confirm')
  if (typeof current !== 'string' || typeof next !== 'string' || typeof confirm !== 'string') fail('/admin/account', 'Fill in all three fields.')
  if (next !== confirm) fail('/admin/account', 'The two new passwords differ.')
  try {
    await adminAuth.changePassword(admin, current, next)
  } catch (err) {
    if (err instanceof InvalidInput) fail('/admin/account', err.message)
    throw err
  }
  done('/admin/account', 'Password changed. Other sessions are signed out.')
}
