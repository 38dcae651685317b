'use client'

import { Link } from '@/app/_components/shop-link'
import { useEffect, useRef, useState, useTransition } from 'react'
import { addToCart, postAddToCart } from '../../cart/actions'
import { useCart } from '@/app/_components/cart/cart-provider'
import { FlashMessage, type Flash } from '@/app/_components/flash-message'
import { buttonPrimary } from '@/app/_components/ui/styles'

type Props = { variantId: number; productSlug: string; isSoldOut: boolean; flash: Flash | null; title: string; priceLabel: string }

/**
 * Without JavaScript this is a plain form post to the server action, which redirects back
 * here with ?notice= or ?error=. With it, the submit is taken over: the header count goes
 * up at once (useOptimistic) and the server's answer replaces it.
 */
export function AddToCartForm({ variantId, productSlug, isSoldOut, flash, title, priceLabel }: Props) {
  const formRef = useRef<HTMLFormElement>(null)
  const isPastForm = useScrolledPast(formRef)
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
    <>
    <form ref={formRef} id={`add-to-cart-${variantId}`} action={postAddToCart} onSubmit={onSubmit} className="space-y-4" data-testid="add-to-cart-form">
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
            className="qty-input"
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
    {isPastForm ? (
      // On a phone the form is a screen or more down the page; once it has scrolled away this
      // bar keeps the price and the button in reach. Its button submits the same form.
      <div className="sticky-buy" role="region" aria-label="Quick add to cart" data-testid="sticky-add-to-cart">
        <div className="mx-auto flex max-w-xl items-center gap-3">
          <div className="min-w-0 flex-1">
            <p className="truncate text-sm font-medium">{title}</p>
            <p className="text-sm tabular-nums text-stone-600">{priceLabel}</p>
          </div>
          <button type="submit" form={`add-to-cart-${variantId}`} disabled={isSoldOut || isPending} className={`${buttonPrimary} h-11 shrink-0 px-5`}>
            {isSoldOut ? 'Sold out' : isPending ? 'Adding…' : 'Add to cart'}
          </button>
        </div>
      </div>
    ) : null}
    </>
  )
}

/** True once the element has scrolled up out of view (not while it is still below the fold). */
function useScrolledPast(ref: React.RefObject<HTMLElement | null>): boolean {
  const [isPast, setIsPast] = useState(false)
  useEffect(() => {
    const el = ref.current
    if (!el) return
    // A scroll listener rather than an IntersectionObserver: a fast fling (or a jump) from
    // below the form to past it never intersects it, and the observer would not fire.
    let frame = 0
    const check = () => {
      frame = 0
      setIsPast(el.getBoundingClientRect().bottom < 0)
    }
    const schedule = () => {
      if (!frame) frame = requestAnimationFrame(check)
    }
    check()
    window.addEventListener('scroll', schedule, { passive: true })
    window.addEventListener('resize', schedule, { passive: true })
    return () => {
      cancelAnimationFrame(frame)
      window.removeEventListener('scroll', schedule)
      window.removeEventListener('resize', schedule)
    }
  }, [ref])
  return isPast
}
