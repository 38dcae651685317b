import type { Metadata } from 'next'
import { notFound } from 'next/navigation'
import { OrderSummary } from '@/app/_components/order/order-summary'
import * as orders from '@/lib/orders'

export const metadata: Metadata = { title: 'Your order', robots: { index: false } }

export default async function OrderStatusPage({ params }: { params: Promise<{ token: string }> }) {
  const { token } = await params
  const order = orders.findByToken(token)
  if (!order) notFound()
  return (
    <main id="main" className="mx-auto max-w-2xl px-4 py-12">
      <h1 className="mb-6 text-3xl font-semibold tracking-tight">Your order</h1>
      <OrderSummary order={order} />
      {order.trackingNumber ? (
        <p className="mt-4 rounded-2xl border border-stone-200 p-4 text-sm" data-testid="order-tracking">
          Shipped with {order.carrier}: tracking number <strong>{order.trackingNumber}</strong>
        </p>
      ) : null}
    </main>
  )
}
