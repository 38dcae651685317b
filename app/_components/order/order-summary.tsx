import { Link } from '@/app/_components/shop-link'
import { UploadImage } from '../ui/upload-image'
import { formatAddress } from '@/lib/addresses'
import * as catalog from '@/lib/catalog'
import { formatMoney } from '@/lib/money'
import * as orders from '@/lib/orders'
import type { OrderView } from '@/lib/orders'

export const STATUS_TEXT: Record<OrderView['status'], string> = {
  awaiting_payment: 'Awaiting payment — we will confirm as soon as your bank transfer settles.',
  paid: 'Paid — we are preparing your order.',
  payment_failed: 'Payment failed — nothing was charged and the order will not ship.',
  fulfilled: 'Shipped.',
  partially_refunded: 'Partially refunded.',
  refunded: 'Refunded.',
  canceled: 'Canceled.',
}

// Orders are placed from anywhere; the date is given in UTC and says so, rather than in the
// server's own zone.
const orderDate = new Intl.DateTimeFormat('en-US', { dateStyle: 'long', timeZone: 'UTC' })

export async function OrderSummary({ order }: { order: OrderView }) {
  const money = (cents: number) => formatMoney(cents, order.currency)
  const address = order.shippingAddress
  const pictures = await catalog.variantPictures(order.lines.map((l) => l.variantId).filter((id): id is number => id !== null))
  const placed = new Date(order.createdAt)
  return (
    <section aria-labelledby="order-heading" className="rounded-2xl border border-stone-200 bg-white p-6 shadow-sm">
      <div className="flex flex-wrap items-baseline justify-between gap-x-4 gap-y-1">
        <h2 id="order-heading" className="text-lg font-semibold">
          Order #{String(order.id).padStart(5, '0')}
        </h2>
        <p className="text-sm text-stone-600">
          Placed <time dateTime={placed.toISOString()} data-testid="order-date">{orderDate.format(placed)}</time>
        </p>
      </div>
      <p className="mt-1 text-sm text-stone-600" data-testid="order-status" data-status={order.status}>
        {STATUS_TEXT[order.status]}
      </p>
      <ul className="mt-4 divide-y divide-stone-100" aria-label="Items">
        {order.lines.map((line) => {
          const picture = line.variantId !== null ? pictures.get(line.variantId) : undefined
          const thumbnail = <UploadImage path={picture?.path ?? null} alt="" width={112} height={112} sizes="56px" className="size-14 shrink-0 rounded-xl bg-stone-100 object-cover" />
          return (
            <li key={line.id} className="flex items-center gap-4 py-3 text-sm" data-testid="order-line">
              {picture ? (
                // not prefetched, like the cart's product links: see cart-contents.tsx
                <Link href={`/products/${picture.productSlug}?variant=${picture.variantId}`} prefetch={false} tabIndex={-1} aria-hidden="true" className="shrink-0">
                  {thumbnail}
                </Link>
              ) : (
                thumbnail
              )}
              <span className="min-w-0 flex-1">
                <span className="block font-medium">{line.title}</span>
                <span className="block text-stone-600">Qty {line.quantity}</span>
              </span>
              <span className="tabular-nums">{money(orders.lineAmountOf(line))}</span>
            </li>
          )
        })}
      </ul>
      <dl className="mt-4 space-y-1 border-t border-stone-200 pt-4 text-sm">
        {orders.totalsOf(order).map((row) => {
          // The money rows a shopper reads as amounts carry the test id on the amount; the
          // others on the whole row, label included ("Discount (CODE) −$5.00").
          const isAmount = row.kind === 'total' || row.kind === 'refunded' || row.kind === 'net'
          return (
            <div key={row.kind} className={`flex justify-between${orders.isBoldTotal(row) ? ' text-base font-semibold' : row.kind === 'refunded' ? ' text-stone-600' : ''}`} data-testid={isAmount ? undefined : `order-${row.kind}`}>
              <dt>{row.label}</dt>
              <dd className="tabular-nums" data-testid={isAmount ? `order-${row.kind}` : undefined}>
                {money(row.cents)}
              </dd>
            </div>
          )
        })}
      </dl>
      <dl className="mt-6 grid gap-x-6 gap-y-4 border-t border-stone-200 pt-4 text-sm sm:grid-cols-2">
        {address ? (
          <div>
            <dt className="font-medium">Shipping to</dt>
            <dd>
              <address className="not-italic text-stone-600" data-testid="shipping-address">
                {formatAddress(address).map((part, i) => (
                  <span key={i} className="block">
                    {part}
                  </span>
                ))}
              </address>
            </dd>
          </div>
        ) : null}
        <div className="space-y-4">
          {order.shippingRateName ? (
            <div>
              <dt className="font-medium">Shipping method</dt>
              <dd className="text-stone-600" data-testid="shipping-method">
                {order.shippingRateName}
              </dd>
            </div>
          ) : null}
          {order.paymentMethod ? (
            <div>
              <dt className="font-medium">Payment</dt>
              <dd className="text-stone-600" data-testid="payment-method">
                {order.paymentMethod}
              </dd>
            </div>
          ) : null}
          {order.email ? (
            <div>
              <dt className="font-medium">Contact</dt>
              <dd className="break-all text-stone-600">{order.email}</dd>
            </div>
          ) : null}
        </div>
      </dl>
    </section>
  )
}
