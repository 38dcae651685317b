'use client'

import { Link } from '@/app/_components/shop-link'
import { usePathname } from 'next/navigation'
import { createContext, use, useEffect, useOptimistic, useState } from 'react'
import { BagIcon } from '../ui/icons'

// The header's cart count, fetched from /cart/count in the browser so that no page has to
// read the cart cookie on the server (catalog pages stay cacheable). Forms that change the
// cart call `addOptimistic` inside their transition and `setCount` with the server's answer.

type CartContextValue = {
  /** null until the first fetch (and always, without JavaScript) */
  count: number | null
  /** call inside the same transition as addOptimistic, with the server's count */
  setCount: (count: number) => void
  /** call inside a transition; reverts when it ends unless setCount confirmed it */
  addOptimistic: (delta: number) => void
}

type OptimisticUpdate = { kind: 'add'; delta: number } | { kind: 'set'; count: number }

const CartContext = createContext<CartContextValue | null>(null)

async function fetchCount(signal?: AbortSignal): Promise<number | null> {
  try {
    const res = await fetch('/cart/count', { cache: 'no-store', credentials: 'same-origin', signal })
    if (!res.ok) return null
    const body = (await res.json()) as { count?: unknown }
    return typeof body.count === 'number' ? body.count : null
  } catch {
    return null // offline or aborted: keep what we have
  }
}

export function useCart(): CartContextValue {
  const value = use(CartContext)
  if (!value) throw new Error('useCart must be used inside <CartProvider>')
  return value
}

export function CartProvider({ children }: { children: React.ReactNode }) {
  const [count, setCountState] = useState<number | null>(null)
  // While a transition is pending React replays its optimistic updates on top of every new
  // base count. A bare "+n" replayed on the server's answer (which already includes the n)
  // counted the item twice until the transition ended, so the answer is queued as an
  // optimistic "set" too: replayed last, it wins.
  const [optimisticCount, dispatchOptimistic] = useOptimistic(count, (current: number | null, update: OptimisticUpdate) =>
    update.kind === 'set' ? update.count : Math.max(0, (current ?? 0) + update.delta),
  )
  const pathname = usePathname()

  // On load, on every navigation (a redirect after a no-JS post lands here too) and when
  // the tab comes back (another tab may have changed the cart).
  useEffect(() => {
    const controller = new AbortController()
    void fetchCount(controller.signal).then((n) => n !== null && setCountState(n))
    return () => controller.abort()
  }, [pathname])
  useEffect(() => {
    const onVisible = () => {
      if (document.visibilityState === 'visible') void fetchCount().then((n) => n !== null && setCountState(n))
    }
    document.addEventListener('visibilitychange', onVisible)
    return () => document.removeEventListener('visibilitychange', onVisible)
  }, [])

  const value: CartContextValue = {
    count: optimisticCount,
    setCount: (n) => {
      setCountState(n)
      dispatchOptimistic({ kind: 'set', count: n })
    },
    addOptimistic: (delta) => dispatchOptimistic({ kind: 'add', delta }),
  }
  return <CartContext value={value}>{children}</CartContext>
}

export function CartLink() {
  const { count } = useCart()
  const label = count === null ? 'Cart' : `Cart, ${count} ${count === 1 ? 'item' : 'items'}`
  return (
    <Link href="/cart" aria-label={label} className="cart-link" data-testid="cart-link">
      <BagIcon />
      <span className="hidden sm:inline">Cart</span>
      <span
        className={count ? 'cart-count' : 'cart-count invisible'}
        data-testid="cart-count"
        aria-hidden="true"
      >
        {count ?? 0}
      </span>
    </Link>
  )
}
