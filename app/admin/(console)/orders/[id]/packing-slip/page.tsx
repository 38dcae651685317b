import type { Metadata } from 'next'
import { notFound } from 'next/navigation'
import { when } from '../../../../_components/ui'
import { PrintButton } from './print-button'
import './print.css'
import { formatAddress } from '@/lib/addresses'
import { getEnv } from '@/lib/env'
import * as orders from '@/lib/orders'
import * as staff from '@/lib/staff'

// What goes in the parcel: the address and the lines, no prices (the customer may be sent a
// gift). On screen a page like the others; on paper the slip alone (print.css).
export const metadata: Metadata = { title: 'Packing slip' }

export default async function PackingSlipPage({ params }: { params: Promise<{ id: string }> }) {
  await staff.requirePermission('orders')
  const { id } = await params
  const order = /^\d{1,10}$/.test(id) ? await orders.findById(Number(id)) : null
  if (!order) notFound()
  const address = order.shippingAddress
  const number = `#${String(order.id).padStart(5, '0')}`
  return (
    <article data-print-root className="max-w-2xl space-y-6 rounded-2xl border border-stone-200 bg-white p-6 text-stone-900" data-testid="packing-slip">
      <header className="flex flex-wrap items-start justify-between gap-4">
        <div>
          <p className="text-sm text-stone-600">{getEnv().storeName}</p>
          <h1 className="text-2xl font-semibold tracking-tight">Packing slip {number}</h1>
          <p className="text-sm text-stone-600">Ordered {when(order.createdAt)}</p>
        </div>
        <PrintButton />
      </header>
      <section aria-labelledby="ship-to">
        <h2 id="ship-to" className="text-sm font-semibold uppercase tracking-wide text-stone-600">Ship to</h2>
        <address className="not-italic" data-testid="slip-address">
          {(address ? formatAddress({ ...address, name: address.name ?? order.customerName }) : [order.customerName ?? ''])
            .filter(Boolean)
            .map((line) => (
              <span key={line} className="block">{line}</span>
            ))}
        </address>
      </section>
      <table className="w-full text-left text-sm">
        <thead>
          <tr className="border-b border-stone-300">
            <th className="py-2 pr-3 font-semibold">Qty</th>
            <th className="py-2 pr-3 font-semibold">Item</th>
            <th className="py-2 font-semibold">SKU</th>
          </tr>
        </thead>
        <tbody>
          {order.lines.map((line) => (
            <tr key={line.id} className="border-b border-stone-100" data-testid="slip-line">
              <td className="py-2 pr-3 align-top tabular-nums">{line.quantity}</td>
              <td className="py-2 pr-3 align-top">{line.title}</td>
              <td className="py-2 align-top font-mono text-xs">{line.sku ?? '—'}</td>
            </tr>
          ))}
        </tbody>
      </table>
      <p className="text-sm text-stone-600">{order.lines.reduce((n, l) => n + l.quantity, 0)} items. Thank you for your order.</p>
    </article>
  )
}
