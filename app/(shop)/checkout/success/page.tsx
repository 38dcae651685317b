import type { Metadata } from 'next'
import { Link } from '@/app/_components/shop-link'
import { OrderSummary } from '@/app/_components/order/order-summary'
import { RateLimited } from '@/lib/errors'
import * as inventory from '@/lib/inventory'
import { log } from '@/lib/log'
import * as orders from '@/lib/orders'
import * as payments from '@/lib/payments'
import * as clientAddress from '@/lib/request/client-address'
import * as rateLimit from '@/lib/request/rate-limit'

export const metadata: Metadata = { title: 'Thank you', robots: { index: false } }

// Stripe's Checkout Session ids: cs_test_… or cs_live_… and base62. Anything else never
// reaches Stripe.
const SESSION_ID = /^cs_(test|live)_[A-Za-z0-9]{16,200}$/
// While the payment is being confirmed the page reloads itself every few seconds, at most
// this many times (about a minute); then it stops and offers a link.
const POLL_SECONDS = 3
const MAX_POLLS = 20

function pollCount(raw: string | string[] | undefined): number {
  if (typeof raw !== 'string' || !/^\d+$/.test(raw)) return 0
  return raw.length > 3 ? MAX_POLLS : Math.min(Number(raw), MAX_POLLS)
}

export default async function CheckoutSuccessPage({ searchParams }: { searchParams: Promise<Record<string, string | string[] | undefined>> }) {
  const query = await searchParams
  const raw = query.session_id
  const polls = pollCount(query.poll)
  let sessionId = typeof raw === 'string' && SESSION_ID.test(raw) ? raw : null
  let order = sessionId ? await orders.findBySession(sessionId) : null
  if (sessionId && !order) {
    // The webhook has not arrived yet: build the order from Stripe ourselves (same idempotent path).
    try {
      // A session no checkout here started costs a Stripe call that finds nothing (or
      // someone else's checkout): such look-ups are limited per client address.
      if (!(await inventory.hasSession(sessionId))) await rateLimit.takeSessionLookup(await clientAddress.current())
      await orders.syncSession(sessionId)
      order = await orders.findBySession(sessionId)
    } catch (err) {
      if (err instanceof RateLimited) {
        return (
          <main id="main" className="mx-auto max-w-2xl px-4 py-16">
            <h1 className="text-2xl font-semibold">Too many look-ups</h1>
            <p className="mt-2 text-stone-600" data-testid="lookup-limited">
              {err.message} If you paid, your confirmation email has a link to your order.
            </p>
          </main>
        )
      }
      if (payments.isUnknownObject(err)) sessionId = null
      else log.warn('checkout: success page could not record the order yet', { sessionId, err })
    }
  }
  if (!sessionId) {
    return (
      <main id="main" className="mx-auto max-w-2xl px-4 py-16">
        <h1 className="text-2xl font-semibold">We could not find that checkout</h1>
        <p className="mt-2 text-stone-600">The link is incomplete. If you paid, your confirmation email has a link to your order.</p>
      </main>
    )
  }
  const view = order ? await orders.findById(order.id) : null
  if (!view) {
    const again = (poll: number) => `/checkout/success?${new URLSearchParams({ session_id: sessionId, poll: String(poll) })}`
    if (polls >= MAX_POLLS) {
      return (
        <main id="main" className="mx-auto max-w-2xl px-4 py-16">
          <h1 className="text-2xl font-semibold">Still confirming your payment</h1>
          <p className="mt-2 text-stone-600" role="status" data-testid="polling-stopped">
            This is taking longer than usual. You will not be charged twice, and your confirmation email has a link to your order.
          </p>
          <p className="mt-6">
            <Link className="font-medium underline" href={again(MAX_POLLS)} data-testid="check-again">
              Check again
            </Link>
          </p>
        </main>
      )
    }
    return (
      <main id="main" className="mx-auto max-w-2xl px-4 py-16">
        <meta httpEquiv="refresh" content={`${POLL_SECONDS};url=${again(polls + 1)}`} />
        <h1 className="text-2xl font-semibold">Confirming your payment…</h1>
        <p className="mt-2 text-stone-600" role="status">
          This page refreshes by itself. You will not be charged twice.
        </p>
      </main>
    )
  }
  return (
    <main id="main" className="mx-auto max-w-2xl px-4 py-12">
      <h1 className="text-3xl font-semibold tracking-tight">Thank you{view.customerName ? `, ${view.customerName.split(' ')[0]}` : ''}!</h1>
      <p className="mt-2 text-stone-600">{view.email ? `A confirmation is on its way to ${view.email}.` : 'Your order is confirmed.'}</p>
      <div className="mt-8">
        <OrderSummary order={view} />
      </div>
      <p className="mt-6 text-sm">
        Keep this private link to check your order later:{' '}
        <Link className="font-medium underline" href={`/orders/${view.publicToken}`} data-testid="order-link">
          your order status
        </Link>
      </p>
    </main>
  )
}
