'use client'

import Link from 'next/link'
import { useState, useTransition } from 'react'
import { addToCart, postAddToCart } from '../../cart/actions'
import { useCart } from '@/app/_components/cart/cart-provider'
import { FlashMessage, type Flash } from '@/app/_components/flash-message'
import { buttonPrimary } from '@/app/_components/ui/styles'

type Props = { variantId: number; productSlug: string; isSoldOut: boolean; flash: Flash | null }

/**
 * Without JavaScript this is a plain form post to the server action, which redirects back
 * here with ?notice= or ?error=. With it, the submit is taken over: the header count goes
 * up at once (useOptimistic) and the server's answer replaces it.
 */
export function AddToCartForm({ variantId, productSlug, isSoldOut, flash }: Props) {
  const cart = useCart()
  const [message, setMessage] = useState<Flash | null>(flash)
  const [isPending, startTransition] = useTransition()

  function onSubmit(event: React.FormEvent<HTMLFormElement>) {
    event.preventDefault()
    const form = new FormData(event.currentTarget)
    const quantity = Number(form.get('quantity'))
    startTransition(async () => {
      if (Number.isInteger(quantity) && quantity > 0 && quantity < 100) cart.addOptimistic(quantity)
      const result = await addToCart(form)
      if (result.count !== null) cart.setCount(result.count)
      setMessage({ kind: result.ok ? 'notice' : 'error', text: result.message })
    })
  }

  return (
    <form action={postAddToCart} onSubmit={onSubmit} className="space-y-4" data-testid="add-to-cart-form">
      <input type="hidden" name="variantId" value={variantId} />
      <input type="hidden" name="productSlug" value={productSlug} />
      <div className="flex items-stretch gap-3">
        <div className="flex flex-col">
          <label htmlFor="quantity" className="sr-only">
            Quantity
          </label>
          <input
            id="quantity"
            name="quantity"
            type="number"
            inputMode="numeric"
            min={1}
            max={99}
            step={1}
            defaultValue={1}
            required
            disabled={isSoldOut}
            className="h-12 w-20 rounded-full border border-stone-300 bg-white text-center text-base tabular-nums focus:border-stone-900 disabled:bg-stone-100 disabled:text-stone-500"
          />
        </div>
        <button type="submit" disabled={isSoldOut || isPending} className={`${buttonPrimary} h-12 flex-1`} aria-disabled={isPending || undefined}>
          {isSoldOut ? 'Sold out' : isPending ? 'Adding…' : 'Add to cart'}
        </button>
      </div>
      <div aria-live="polite" aria-atomic="true" className="min-h-0">
        {message ? (
          <FlashMessage flash={message}>
            {message.kind === 'notice' ? (
              <Link href="/cart" className="font-semibold underline underline-offset-4">
                View cart
              </Link>
            ) : null}
          </FlashMessage>
        ) : null}
      </div>
    </form>
  )
}
