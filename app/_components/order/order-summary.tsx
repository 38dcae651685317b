import { formatMoney } from '@/lib/money'
import type { OrderView } from '@/lib/orders'

const STATUS_TEXT: Record<OrderView['status'], string> = {
  awaiting_payment: 'Awaiting payment — we will confirm as soon as your bank transfer settles.',
  paid: 'Paid — we are preparing your order.',
  payment_failed: 'Payment failed — nothing was charged and the order will not ship.',
  fulfilled: 'Shipped.',
  partially_refunded: 'Partially refunded.',
  refunded: 'Refunded.',
  canceled: 'Canceled.',
}

export function OrderSummary({ order }: { order: OrderView }) {
  const money = (cents: number) => formatMoney(cents, order.currency)
  const address = order.shippingAddress
  return (
    <section aria-labelledby="order-heading" className="rounded-2xl border border-stone-200 bg-white p-6 shadow-sm">
      <h2 id="order-heading" className="text-lg font-semibold">
        Order #{String(order.id).padStart(5, '0')}
      </h2>
      <p className="mt-1 text-sm text-stone-600" data-testid="order-status" data-status={order.status}>
        {STATUS_TEXT[order.status]}
      </p>
      <ul className="mt-4 divide-y divide-stone-100" aria-label="Items">
        {order.lines.map((line) => (
          <li key={line.id} className="flex justify-between gap-4 py-2 text-sm">
            <span>
              {line.quantity} × {line.title}
            </span>
            <span className="tabular-nums">{money(line.totalCents)}</span>
          </li>
        ))}
      </ul>
      <dl className="mt-4 space-y-1 border-t border-stone-200 pt-4 text-sm">
        <div className="flex justify-between">
          <dt>Subtotal</dt>
          <dd className="tabular-nums">{money(order.subtotalCents)}</dd>
        </div>
        <div className="flex justify-between">
          <dt>Shipping</dt>
          <dd className="tabular-nums">{money(order.shippingCents)}</dd>
        </div>
        {order.refundedCents > 0 ? (
          <div className="flex justify-between text-stone-600">
            <dt>Refunded</dt>
            <dd className="tabular-nums">−{money(order.refundedCents)}</dd>
          </div>
        ) : null}
        <div className="flex justify-between text-base font-semibold">
          <dt>Total</dt>
          <dd className="tabular-nums" data-testid="order-total">
            {money(order.totalCents)}
          </dd>
        </div>
      </dl>
      {address ? (
        <div className="mt-4 text-sm">
          <h3 className="font-medium">Shipping to</h3>
          <address className="not-italic text-stone-600">
            {[address.name, address.line1, address.line2, [address.postalCode, address.city].filter(Boolean).join(' '), address.state, address.country]
              .filter(Boolean)
              .map((part, i) => (
                <span key={i} className="block">
                  {part}
                </span>
              ))}
          </address>
        </div>
      ) : null}
    </section>
  )
}
