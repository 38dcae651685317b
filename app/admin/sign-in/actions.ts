'use server'

import { cookies } from 'next/headers'
import { redirect } from 'next/navigation'
import { z } from 'zod'
import { done } from '../_components/redirect'
import { refused, type FormState } from '../_components/form-state'
import * as adminAuth from '@/lib/admin-auth'
import * as audit from '@/lib/audit'
import { InvalidInput } from '@/lib/errors'

const SignIn = z.object({ email: z.string().trim().min(3).max(254), password: z.string().min(1).max(500) })

// A refusal keeps the email (never the password) and says why beside the form.
export async function signInAction(previous: FormState, formData: FormData): Promise<FormState> {
  // No session to check yet, but a sign-in from another site is refused all the same.
  await adminAuth.assertSameOrigin()
  const parsed = SignIn.safeParse({ email: formData.get('email'), password: formData.get('password') })
  if (!parsed.success) return refused(previous, formData, { [parsed.error.issues[0]!.path[0] === 'password' ? 'password' : 'email']: 'Enter your email and password.' })
  const jar = await cookies()
  let token: string
  let secondFactor: boolean
  try {
    const result = await adminAuth.signIn(parsed.data.email, parsed.data.password, await adminAuth.clientAddress())
    token = result.token
    secondFactor = result.secondFactor
  } catch (err) {
    if (err instanceof adminAuth.RateLimited || err instanceof InvalidInput) return refused(previous, formData, { '': err.message })
    throw err
  }
  if (secondFactor) {
    // the password was right; the code is asked on the next page, for a few minutes
    jar.set(adminAuth.CHALLENGE_COOKIE, token, { ...adminAuth.cookieOptions(), maxAge: Math.floor(adminAuth.CHALLENGE_MS / 1000) })
    redirect('/admin/sign-in/verify')
  }
  // A new token at every sign-in; whatever session this browser had before ends now.
  await adminAuth.endSession(jar.get(adminAuth.COOKIE)?.value)
  jar.set(adminAuth.COOKIE, token, adminAuth.cookieOptions())
  redirect('/admin')
}

export async function signOutAction(): Promise<void> {
  // requireSession: one who must still set up a second factor can sign out all the same
  const admin = await adminAuth.requireSession()
  await audit.note(admin, 'admin.sign_out', `admin:${admin.id}`)
  const jar = await cookies()
  await adminAuth.endSession(jar.get(adminAuth.COOKIE)?.value)
  jar.delete({ name: adminAuth.COOKIE, path: '/admin' })
  done('/admin/sign-in', 'Signed out.')
}
