'use server'

import { refused, type FormState } from '../../_components/form-state'
import { done, fail } from '../../_components/redirect'
import * as adminAuth from '@/lib/admin-auth'
import { InvalidInput, NotFound } from '@/lib/errors'
import * as staff from '@/lib/staff'

// Accepting an invitation: no session yet, so the link's token is the key. A cross-site post
// is refused all the same, and an unknown, used, withdrawn or expired link leads to sign-in
// with the reason.

export async function acceptInviteAction(previous: FormState, formData: FormData): Promise<FormState> {
  await adminAuth.assertSameOrigin()
  // A post that is not this form (no fields at all) is an invalid link like any other.
  const field = (name: string) => {
    const value = formData instanceof FormData ? formData.get(name) : null
    return typeof value === 'string' ? value : ''
  }
  const token = field('token')
  if (!(await staff.findInvite(token))) fail('/admin/sign-in', staff.INVITE_INVALID)
  const password = field('password')
  if (password !== field('confirm')) return refused(previous, formData, { confirm: 'The two passwords differ. Type the same password twice.' })
  let email: string
  try {
    email = (await staff.acceptInvite(token, password)).email
  } catch (err) {
    if (err instanceof NotFound) fail('/admin/sign-in', staff.INVITE_INVALID)
    if (err instanceof InvalidInput) return refused(previous, formData, { password: err.message })
    throw err
  }
  done('/admin/sign-in', `Welcome! Sign in as ${email} with your new password.`)
}
