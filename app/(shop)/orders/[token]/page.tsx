import type { Metadata } from 'next'
import { notFound } from 'next/navigation'
import { OrderSummary } from '@/app/_components/order/order-summary'
import * as downloads from '@/lib/downloads'
import * as orders from '@/lib/orders'

export const metadata: Metadata = { title: 'Your order', robots: { index: false } }

export default async function OrderStatusPage({ params }: { params: Promise<{ token: string }> }) {
  const { token } = await params
  const order = await orders.findByToken(token)
  if (!order) notFound()
  const links = await downloads.linksFor(order)
  const titleOf = (lineId: number) => order.lines.find((l) => l.id === lineId)?.title ?? 'Your download'
  return (
    <main id="main" className="mx-auto max-w-2xl px-4 py-12">
      <h1 className="mb-6 text-3xl font-semibold tracking-tight">Your order</h1>
      <OrderSummary order={order} />
      {links.length ? (
        <section className="mt-6 rounded-2xl border border-stone-200 p-4" aria-labelledby="downloads-heading" data-testid="order-downloads">
          <h2 id="downloads-heading" className="mb-2 text-lg font-semibold">Your downloads</h2>
          <ul className="space-y-2 text-sm">
            {links.map((link) => (
              <li key={link.orderLineId} data-testid="order-download" data-state={link.state}>
                {link.state === 'ready' ? (
                  <>
                    <a href={link.path} className="font-medium underline underline-offset-4" download>
                      Download {titleOf(link.orderLineId)}
                    </a>{' '}
                    <span className="text-stone-600">
                      ({link.remaining} {link.remaining === 1 ? 'download' : 'downloads'} left, until {new Date(link.expiresAt).toUTCString().replace(/:\d\d GMT$/, ' UTC')})
                    </span>
                  </>
                ) : (
                  <span>
                    {titleOf(link.orderLineId)}: {DOWNLOAD_STATES[link.state]}
                  </span>
                )}
              </li>
            ))}
          </ul>
        </section>
      ) : null}
      {order.trackingNumber ? (
        <p className="mt-4 rounded-2xl border border-stone-200 p-4 text-sm" data-testid="order-tracking">
          Shipped with {order.carrier}: tracking number <strong>{order.trackingNumber}</strong>
        </p>
      ) : null}
    </main>
  )
}

const DOWNLOAD_STATES: Record<Exclude<downloads.LinkState, 'ready'>, string> = {
  used_up: 'this link has been used as many times as it allows.',
  expired: 'this link has expired.',
  revoked: 'withdrawn, as the order was refunded.',
  withdrawn: 'no longer offered by the shop.',
}
