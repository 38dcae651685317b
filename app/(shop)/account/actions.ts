'use server'

import { redirect } from 'next/navigation'
import * as accounts from '@/lib/accounts'
import * as cart from '@/lib/cart'
import * as checkout from '@/lib/checkout'
import * as flash from '@/lib/request/flash'
import { CheckoutOpen } from '@/lib/errors'

// The account page's verbs: plain form posts answered with a 303 (post/redirect/get). Each
// checks the session itself: an action is reachable without its page.

function back(path: string, key: 'notice' | 'error', message: string): never {
  redirect(flash.href(path, key, message))
}

async function signedIn(): Promise<accounts.Account> {
  const account = await accounts.current()
  if (!account) back('/account/sign-in', 'error', 'Please sign in first.')
  return account
}

export async function signOut(): Promise<void> {
  await accounts.endSession(await accounts.cookieToken())
  await accounts.clearCookie()
  back('/account/sign-in', 'notice', 'Signed out.')
}

export async function signOutEverywhere(): Promise<void> {
  const account = await signedIn()
  await accounts.endAllSessions(account.id)
  await accounts.clearCookie()
  back('/account/sign-in', 'notice', 'Signed out on every device.')
}

export async function buyAgain(formData: FormData): Promise<void> {
  const account = await signedIn()
  const raw = String(formData.get('orderId') ?? '')
  const order = /^[1-9]\d{0,9}$/.test(raw) ? await accounts.orderOf(account, Number(raw)) : null
  if (!order) back('/account', 'error', 'That order was not found in your account.')
  const cartId = await cart.ensureCartId()
  let result: cart.AgainResult
  try {
    await checkout.abandon(cartId)
    result = await cart.addAgain(cartId, order.lines)
  } catch (err) {
    if (err instanceof CheckoutOpen) back('/account', 'error', err.message)
    throw err
  }
  if (result.added.length === 0) back('/account', 'error', `None of the items of that order can be bought right now${result.skipped.length ? ` (${result.skipped.join(', ')})` : ''}.`)
  const skipped = result.skipped.length ? ` Not available now: ${result.skipped.join(', ')}.` : ''
  back('/cart', 'notice', `Added ${result.added.join(', ')} to your cart.${skipped}`)
}

export async function deleteAccount(formData: FormData): Promise<void> {
  const account = await signedIn()
  if (formData.get('confirm') !== 'yes') back('/account', 'error', 'Tick the box to confirm that you want your account deleted.')
  await accounts.deleteAccount(account.id)
  await accounts.clearCookie()
  back('/account/sign-in', 'notice', 'Your account was deleted. Your orders are kept for the shop’s books, without an account.')
}
