'use server'

import { redirect } from 'next/navigation'
import * as accounts from '@/lib/accounts'
import * as flash from '@/lib/request/flash'
import { InvalidInput, RateLimited } from '@/lib/errors'
import * as clientAddress from '@/lib/request/client-address'

// Sign-in by email link. Plain form posts, answered with a 303 (post/redirect/get), so they
// work without JavaScript.

function back(path: string, params: Record<string, string>): never {
  const { error, ...rest } = params
  const target = `${path}?${new URLSearchParams(rest).toString()}`
  // a refusal's text travels signed (lib/request/flash.ts), so a link cannot put words on this page
  redirect(error ? flash.href(target, 'error', error) : target)
}

export async function requestSignInLink(formData: FormData): Promise<void> {
  const typed = String(formData.get('email') ?? '').slice(0, 254)
  try {
    await accounts.requestLink(typed, await clientAddress.current())
  } catch (err) {
    if (err instanceof InvalidInput || err instanceof RateLimited) back('/account/sign-in', { error: err.message, email: typed })
    throw err
  }
  // The same answer whether or not the address has an account, or was sent a link just now.
  back('/account/sign-in', { sent: '1' })
}

export async function confirmSignIn(formData: FormData): Promise<void> {
  try {
    const { token } = await accounts.signInWithLink(formData.get('token'), await accounts.cookieToken())
    await accounts.setCookie(token)
  } catch (err) {
    if (err instanceof accounts.LinkNotValid) back('/account/sign-in', { error: err.message })
    throw err
  }
  redirect('/account')
}
