'use client'

import { Link } from '@/app/_components/shop-link'
import { useOptimistic, useState, useTransition } from 'react'
import { postRemoveFromCart, postUpdateQuantity, removeFromCart, updateQuantity, type CartActionResult } from './actions'
import { useCart } from '@/app/_components/cart/cart-provider'
import { FlashMessage, type Flash } from '@/app/_components/flash-message'
import { UploadImage } from '@/app/_components/ui/upload-image'
import type { CartLine, CartView } from '@/lib/cart'
import { formatMoney } from '@/lib/money'

type Props = { initial: CartView | null; flash: Flash | null; checkout: React.ReactNode; notes: string[] }
type Change = { variantId: number; quantity: number }

/** The cart as it will look once a change lands: quantity 0 removes the line. */
function applyChange(cart: CartView | null, change: Change): CartView | null {
  if (!cart) return cart
  const lines = cart.lines
    .map((l) => (l.variantId === change.variantId ? { ...l, quantity: change.quantity, lineTotalCents: l.priceCents * change.quantity } : l))
    .filter((l) => l.quantity > 0)
  return {
    ...cart,
    lines,
    subtotalCents: lines.reduce((sum, l) => sum + l.lineTotalCents, 0),
    itemCount: lines.reduce((sum, l) => sum + l.quantity, 0),
  }
}


const PROBLEM_TEXT: Record<NonNullable<CartLine['problem']>, (line: CartLine) => string> = {
  unavailable: () => 'No longer available. Please remove it to check out.',
  sold_out: () => 'Sold out since you added it. Please remove it to check out.',
  short: (line) => `Only ${line.available} left since you added it. Lower the quantity to check out.`,
}

/**
 * Each line's forms post to a server action, so they work without JavaScript (the action
 * redirects back with ?notice= or ?error=). With JavaScript the submit is taken over: the
 * line changes at once (useOptimistic), and the server's cart replaces it when it answers;
 * if the server refuses, the line goes back and the message says why.
 */
export function CartContents({ initial, flash, checkout, notes }: Props) {
  const header = useCart()
  const [cart, setCart] = useState(initial)
  const [seenInitial, setSeenInitial] = useState(initial)
  if (initial !== seenInitial) {
    // a navigation brought a newer cart from the server
    setSeenInitial(initial)
    setCart(initial)
  }
  const [shown, applyOptimistic] = useOptimistic(cart, applyChange)
  const [message, setMessage] = useState<Flash | null>(flash)
  const [isPending, startTransition] = useTransition()

  function submit(action: (form: FormData) => Promise<CartActionResult>, isRemove = false) {
    return (event: React.FormEvent<HTMLFormElement>) => {
      event.preventDefault()
      const submitter = (event.nativeEvent as SubmitEvent).submitter
      const form = new FormData(event.currentTarget, submitter)
            const variantId = Number(form.get('variantId'))
      const raw = form.get('quantity')
      const quantity = isRemove ? 0 : Number(raw)
      const line = shown?.lines.find((l) => l.variantId === variantId)
      startTransition(async () => {
        if (line && Number.isInteger(quantity) && quantity >= 0 && quantity < 100) {
          applyOptimistic({ variantId, quantity })
          header.addOptimistic(quantity - line.quantity)
        }
        const result = await action(form)
        if (result.cart) setCart(result.cart.status === 'converted' ? null : result.cart)
        if (result.count !== null) header.setCount(result.count)
        setMessage({ kind: result.ok ? 'notice' : 'error', text: result.message })
      })
    }
  }

  const lines = shown?.lines ?? []
  return (
    <div className="mt-8">
      <div aria-live="polite" aria-atomic="true" className="mb-6 empty:mb-0" data-testid="cart-messages">
        {message ? <FlashMessage flash={message} /> : null}
      </div>

      {lines.length === 0 ? (
        <div className="rounded-3xl bg-stone-50 px-6 py-16 text-center">
          <h2 className="text-xl font-semibold">Your cart is empty</h2>
          <p className="mt-2 text-stone-600">Find something you like; it will wait for you here.</p>
          <Link href="/products" className="mt-6 inline-flex rounded-full bg-stone-900 px-6 py-3 text-sm font-semibold text-white hover:bg-stone-700">
            Start shopping
          </Link>
        </div>
      ) : (
        <div className="grid gap-10 lg:grid-cols-12">
          <section aria-labelledby="items-heading" className="lg:col-span-8">
            <h2 id="items-heading" className="sr-only">
              Items
            </h2>
            <ul className="divide-y divide-stone-200 border-y border-stone-200" data-testid="cart-lines">
              {lines.map((line) => (
                <li key={line.variantId} className="flex gap-4 py-6 sm:gap-6" data-testid="cart-line" data-variant-id={line.variantId}>
                  {/* Not prefetched: right after the product was added from its page, Next
                      answered the prefetch of each of that page's segments with 404 (the cached
                      entry had no per-segment data yet), and every 404 showed in the console. */}
                  <Link href={`/products/${line.productSlug}?variant=${line.variantId}`} prefetch={false} className="shrink-0" tabIndex={-1} aria-hidden="true">
                    <UploadImage path={line.imagePath} alt="" width={160} height={160} sizes="128px" className="size-24 rounded-2xl bg-stone-100 object-cover sm:size-32" />
                  </Link>
                  <div className="flex min-w-0 flex-1 flex-col gap-3">
                    <div className="flex flex-wrap items-start justify-between gap-x-4 gap-y-1">
                      <div className="min-w-0">
                        <h3 className="font-medium">
                          <Link href={`/products/${line.productSlug}?variant=${line.variantId}`} prefetch={false} className="hover:underline">
                            {line.productTitle}
                          </Link>
                        </h3>
                        {line.variantTitle && line.variantTitle !== 'Default' ? <p className="text-sm text-stone-600">{line.variantTitle}</p> : null}
                        <p className="text-sm text-stone-600">{formatMoney(line.priceCents, line.currency)} each</p>
                      </div>
                      <p className="font-medium tabular-nums" data-testid="line-total">
                        {formatMoney(line.lineTotalCents, line.currency)}
                      </p>
                    </div>
                    {line.problem ? (
                      <p className="rounded-lg bg-amber-50 px-3 py-2 text-sm text-amber-950" data-testid="line-problem" data-problem={line.problem}>
                        {PROBLEM_TEXT[line.problem](line)}
                      </p>
                    ) : null}
                    <div className="flex flex-wrap items-center gap-4">
                      <form action={postUpdateQuantity} onSubmit={submit(updateQuantity)} className="flex items-center" aria-label={`Quantity of ${line.label}`}>
                        <input type="hidden" name="variantId" value={line.variantId} />
                        <div className="inline-flex items-center rounded-full border border-stone-300">
                          <button type="submit" name="quantity" value={line.quantity - 1} className="size-10 rounded-full text-lg hover:bg-stone-100" aria-label={`Decrease quantity of ${line.label}`}>
                            −
                          </button>
                          <span className="min-w-8 text-center text-sm font-medium tabular-nums" data-testid="line-quantity">
                            {line.quantity}
                          </span>
                          <button
                            type="submit"
                            name="quantity"
                            value={line.quantity + 1}
                            className="size-10 rounded-full text-lg hover:bg-stone-100"
                            aria-label={`Increase quantity of ${line.label}`}
                          >
                            +
                          </button>
                        </div>
                      </form>
                      {line.problem === 'short' ? (
                        <form action={postUpdateQuantity} onSubmit={submit(updateQuantity)}>
                          <input type="hidden" name="variantId" value={line.variantId} />
                          <button type="submit" name="quantity" value={line.available} className="text-sm font-medium underline underline-offset-4">
                            Lower to {line.available}
                          </button>
                        </form>
                      ) : null}
                      <form action={postRemoveFromCart} onSubmit={submit(removeFromCart, true)}>
                        <input type="hidden" name="variantId" value={line.variantId} />
                        <button type="submit" className="text-sm text-stone-600 underline underline-offset-4 hover:text-stone-900" aria-label={`Remove ${line.label}`}>
                          Remove
                        </button>
                      </form>
                    </div>
                  </div>
                </li>
              ))}
            </ul>
          </section>

          <section aria-labelledby="summary-heading" className="lg:col-span-4">
            <div className="rounded-3xl bg-stone-50 p-6 lg:sticky lg:top-24">
              <h2 id="summary-heading" className="text-lg font-semibold">
                Summary
              </h2>
              <dl className="mt-4 space-y-2 text-sm">
                <div className="flex justify-between">
                  <dt className="text-stone-600">Items</dt>
                  <dd className="tabular-nums">{shown?.itemCount ?? 0}</dd>
                </div>
                <div className="flex justify-between text-base font-semibold">
                  <dt>Subtotal</dt>
                  <dd className="tabular-nums" data-testid="cart-subtotal">
                    {formatMoney(shown?.subtotalCents ?? 0, shown?.currency ?? 'usd')}
                  </dd>
                </div>
              </dl>
              {notes.map((note) => (
                <p key={note} className="mt-2 text-xs text-stone-600" data-testid="cart-note">
                  {note}
                </p>
              ))}
              {shown?.hasProblems ? (
                <p className="mt-4 rounded-lg bg-amber-50 px-3 py-2 text-sm text-amber-950" role="note">
                  Some items changed since you added them. Update them before you check out.
                </p>
              ) : null}
              <div className="mt-6" aria-busy={isPending || undefined}>
                {checkout}
              </div>
              <Link href="/products" className="mt-4 block text-center text-sm text-stone-600 underline underline-offset-4 hover:text-stone-900">
                Continue shopping
              </Link>
            </div>
          </section>
        </div>
      )}
    </div>
  )
}
