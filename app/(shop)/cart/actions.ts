'use server'

import { redirect } from 'next/navigation'
import * as cart from '@/lib/cart'
import { isSlug } from '@/lib/catalog'
import * as checkout from '@/lib/checkout'
import { isExpected, NotFound } from '@/lib/errors'
import * as flash from '@/lib/request/flash'

// The cart's three verbs. Each parses its form with zod, calls lib/cart, and answers in one
// of two ways. The forms post to the `post…` actions, so without JavaScript a submit gets a
// 303 back to the page with the message in ?notice= or ?error=, signed (lib/request/flash.ts). With
// JavaScript the form's submit is taken over and calls the plain verb, which returns the
// result, so the page updates in place (optimistically, then with the server's cart).
// Every verb first abandons the cart's open checkout at Stripe (checkout.abandon): a cart
// whose session could still be paid does not change, and the shopper is told why.

export type CartActionResult = {
  ok: boolean
  message: string
  /** units in the cart after the change; null when unknown */
  count: number | null
  cart: cart.CartView | null
}

type Outcome = { result: CartActionResult; back: string }

function labelOf(line: cart.CartLine | undefined): string {
  if (!line) return 'the item'
  return line.label
}

function redirectWith({ result, back }: Outcome): never {
  redirect(flash.href(back, result.ok ? 'notice' : 'error', result.message))
}

// An action is a public endpoint: anyone can call it with any arguments, not only our forms.
// Anything but a form reads as an empty one, which the parsers then refuse with a message.
function asForm(input: unknown): FormData {
  return input instanceof FormData ? input : new FormData()
}

const failed = (message: string, view: cart.CartView | null = null): CartActionResult => ({ ok: false, message, count: view?.itemCount ?? null, cart: view })

async function add(formData: FormData): Promise<Outcome> {
  const rawSlug = formData.get('productSlug')
  const slug = typeof rawSlug === 'string' && isSlug(rawSlug) ? rawSlug : null
  const parsed = cart.parseInput(cart.AddInput, formData)
  const back = slug ? `/products/${slug}${parsed.ok ? `?variant=${parsed.data.variantId}` : ''}` : '/cart'
  if (!parsed.ok) return { result: failed(parsed.message), back }
  let result: CartActionResult
  try {
    const cartId = await cart.ensureCartId()
    await checkout.abandon(cartId)
    await cart.add(cartId, parsed.data.variantId, parsed.data.quantity)
    const view = await cart.load(cartId)
    const line = view?.lines.find((l) => l.variantId === parsed.data.variantId)
    result = { ok: true, message: `Added ${parsed.data.quantity} × ${labelOf(line)} to your cart.`, count: view?.itemCount ?? null, cart: view }
  } catch (err) {
    if (!isExpected(err)) throw err
    result = failed(err.message)
  }
  return { result, back }
}

async function changeLine(quantity: number | null, variantId: number): Promise<CartActionResult> {
  const cartId = await cart.getCartId()
  if (!cartId) return failed('Your cart is empty.')
  const before = await cart.load(cartId)
  const line = before?.lines.find((l) => l.variantId === variantId)
  try {
    await checkout.abandon(cartId)
    if (quantity === null || quantity === 0) await cart.remove(cartId, variantId)
    else await cart.setQuantity(cartId, variantId, quantity)
  } catch (err) {
    if (!isExpected(err)) throw err
    return failed(err instanceof NotFound && err.message.startsWith('Your cart') ? 'Your cart has already been checked out.' : err.message, before)
  }
  const view = await cart.load(cartId)
  const message = quantity === null || quantity === 0 ? `Removed ${labelOf(line)}.` : `Updated ${labelOf(line)} to ${quantity}.`
  return { ok: true, message, count: view?.itemCount ?? 0, cart: view }
}

async function update(formData: FormData): Promise<Outcome> {
  const parsed = cart.parseInput(cart.SetQuantityInput, formData)
  if (!parsed.ok) return { result: failed(parsed.message), back: '/cart' }
  return { result: await changeLine(parsed.data.quantity, parsed.data.variantId), back: '/cart' }
}

async function removeLine(formData: FormData): Promise<Outcome> {
  const parsed = cart.parseInput(cart.RemoveInput, formData)
  if (!parsed.ok) return { result: failed(parsed.message), back: '/cart' }
  return { result: await changeLine(null, parsed.data.variantId), back: '/cart' }
}

export async function addToCart(formData: FormData): Promise<CartActionResult> {
  return (await add(asForm(formData))).result
}

export async function updateQuantity(formData: FormData): Promise<CartActionResult> {
  return (await update(asForm(formData))).result
}

export async function removeFromCart(formData: FormData): Promise<CartActionResult> {
  return (await removeLine(asForm(formData))).result
}

export async function postAddToCart(formData: FormData): Promise<void> {
  redirectWith(await add(asForm(formData)))
}

export async function postUpdateQuantity(formData: FormData): Promise<void> {
  redirectWith(await update(asForm(formData)))
}

export async function postRemoveFromCart(formData: FormData): Promise<void> {
  redirectWith(await removeLine(asForm(formData)))
}
