import type { Metadata } from 'next'
import Link from 'next/link'
import { OrderSummary } from '@/app/_components/order/order-summary'
import { log } from '@/lib/log'
import * as orders from '@/lib/orders'
import * as payments from '@/lib/payments'

export const metadata: Metadata = { title: 'Thank you', robots: { index: false } }

const SESSION_ID = /^cs_[A-Za-z0-9_]{8,250}$/

export default async function CheckoutSuccessPage({ searchParams }: { searchParams: Promise<Record<string, string | string[] | undefined>> }) {
  const raw = (await searchParams).session_id
  let sessionId = typeof raw === 'string' && SESSION_ID.test(raw) ? raw : null
  let order = sessionId ? orders.findBySession(sessionId) : null
  if (sessionId && !order) {
    // The webhook has not arrived yet: build the order from Stripe ourselves (same idempotent path).
    try {
      await payments.fulfill(sessionId)
      order = orders.findBySession(sessionId)
    } catch (err) {
      if (payments.isUnknownObject(err)) sessionId = null
      else log.warn('checkout: success page could not fulfil yet', { sessionId, err })
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
  const view = order ? orders.findById(order.id) : null
  if (!view) {
    return (
      <main id="main" className="mx-auto max-w-2xl px-4 py-16">
        <meta httpEquiv="refresh" content="3" />
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
