'use server'

import { cookies } from 'next/headers'
import { redirect } from 'next/navigation'
import { refused, type FormState } from '../../_components/form-state'
import { done, fail } from '../../_components/redirect'
import * as adminAuth from '@/lib/admin-auth'
import { InvalidInput } from '@/lib/errors'
import * as twoFactor from '@/lib/two-factor'

// The second step of sign-in: the challenge cookie (set once the password was right) and a
// code from the app or a recovery code. A cross-site post is refused like every admin post.

export async function verifyCodeAction(previous: FormState, formData: FormData): Promise<FormState> {
  await adminAuth.assertSameOrigin()
  const jar = await cookies()
  const challenge = jar.get(adminAuth.CHALLENGE_COOKIE)?.value
  // A post that is not this form (no fields at all) is a wrong code like any other.
  const raw = formData instanceof FormData ? formData.get('code') : null
  const code = typeof raw === 'string' ? raw.slice(0, 100) : ''
  let verified: twoFactor.Verified
  try {
    verified = await twoFactor.verifyChallenge(challenge, code, await adminAuth.clientAddress())
  } catch (err) {
    if (err instanceof twoFactor.ChallengeGone) {
      jar.delete({ name: adminAuth.CHALLENGE_COOKIE, path: '/admin' })
      fail('/admin/sign-in', err.message)
    }
    if (err instanceof InvalidInput || err instanceof adminAuth.RateLimited) return refused(previous, formData, { code: err.message })
    throw err
  }
  await adminAuth.endSession(jar.get(adminAuth.COOKIE)?.value)
  jar.delete({ name: adminAuth.CHALLENGE_COOKIE, path: '/admin' })
  jar.set(adminAuth.COOKIE, verified.token, adminAuth.cookieOptions())
  if (verified.usedRecoveryCode) {
    done('/admin/account', `Signed in with a recovery code; ${verified.recoveryCodesLeft} left. Each works once.`)
  }
  redirect('/admin')
}
