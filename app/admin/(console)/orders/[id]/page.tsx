import type { Metadata } from 'next'
import Link from 'next/link'
import { DataTable } from '../../../_components/data-table'
import { ActionForm, CheckboxField, Field, TextAreaField } from '../../../_components/action-form'
import { PageTitle, Flash, StatusBadge, badge, buttonDark, card, td, when, found, type SearchParams } from '../../../_components/ui'
import { addNoteAction, fulfilAction, refundAction, resendConfirmationAction } from './actions'
import { formatAddress } from '@/lib/addresses'
import * as adminAuth from '@/lib/admin-auth'
import * as downloads from '@/lib/downloads'
import * as formNonce from '@/lib/request/form-nonce'
import { decimalAmount, formatMoney, moneyHint } from '@/lib/money'
import * as orderNotes from '@/lib/orders/notes'
import * as orderTimeline from '@/lib/orders/timeline'
import * as orders from '@/lib/orders'

export const metadata: Metadata = { title: 'Order' }

export default async function OrderPage({ params, searchParams }: { params: Promise<{ id: string }>; searchParams: Promise<SearchParams> }) {
  await adminAuth.requireAdmin()
  const [{ id }, query] = await Promise.all([params, searchParams])
  const order = await found(id, orders.findById)
  const money = (cents: number) => formatMoney(cents, order.currency)
  const dashboard = orderTimeline.stripeDashboardBase()
  const events = await orderTimeline.forOrder(order)
  const notes = await orderNotes.forOrder(order.id)
  const links = await downloads.linksFor(order)
  const refundable = order.totalCents - order.refundedCents
  const a = order.shippingAddress
  const hasDiscount = order.discountCents > 0 || order.lines.some((l) => l.discountCents > 0)
  const hasTax = order.taxCents > 0 || order.lines.some((l) => l.taxCents > 0)
  return (
    <>
      <PageTitle>
        Order #{String(order.id).padStart(5, '0')} <StatusBadge status={order.status} />
      </PageTitle>
      <Flash params={query} />
      {order.isOversold || order.isDisputed ? (
        <p className="mb-4 rounded-xl border border-red-300 bg-red-50 px-4 py-3 text-sm font-semibold text-red-900" role="alert" data-testid="order-flags">
          {order.isOversold ? 'Oversold: its units ran out before they could be kept for this order. ' : ''}
          {order.isDisputed ? 'Disputed: the customer opened a chargeback.' : ''}
        </p>
      ) : null}
      <div className="grid gap-6 lg:grid-cols-2">
        <section className={card} aria-labelledby="lines-heading">
          <h2 id="lines-heading" className="mb-3 text-lg font-semibold">Items</h2>
          <DataTable
            label="Order lines"
            columns={[
              'Item',
              { label: 'Qty', numeric: true },
              { label: 'Price', numeric: true },
              { label: 'Total', numeric: true },
              'SKU',
              // a line's share of the discount and tax, as Stripe split them, when there are any
              ...(hasDiscount ? [{ label: 'Before discount', numeric: true }, { label: 'Discount', numeric: true }] : []),
              ...(hasTax ? [{ label: 'Tax', numeric: true }] : []),
            ]}
          >
            {order.lines.map((l) => (
              <tr key={l.id} data-testid="order-line">
                <td className={td}>{l.title}{l.restockedQuantity ? <span className="block text-xs text-stone-600">{l.restockedQuantity} restocked</span> : null}</td>
                <td className={`${td} text-right tabular-nums`} data-label="Qty">{l.quantity}</td>
                <td className={`${td} text-right tabular-nums`} data-label="Price">{money(l.unitAmountCents)}</td>
                <td className={`${td} text-right tabular-nums`} data-label="Total">{money(l.totalCents)}</td>
                <td className={`${td} [overflow-wrap:anywhere]`} data-label="SKU">{l.sku ?? '—'}</td>
                {hasDiscount ? (
                  <>
                    <td className={`${td} text-right tabular-nums`} data-label="Before discount">{money(orders.lineAmountOf(l))}</td>
                    <td className={`${td} text-right tabular-nums`} data-label="Discount">{l.discountCents ? money(-l.discountCents) : '—'}</td>
                  </>
                ) : null}
                {hasTax ? <td className={`${td} text-right tabular-nums`} data-label="Tax">{l.taxCents ? money(l.taxCents) : '—'}</td> : null}
              </tr>
            ))}
          </DataTable>
          <dl className="mt-4 space-y-1 text-sm">
            {orders.totalsOf(order).map((row) => (
              <div key={row.kind} className={`flex justify-between${orders.isBoldTotal(row) ? ' font-semibold' : ''}`} data-testid={`admin-order-${row.kind}`}>
                <dt>{row.label}</dt>
                <dd className="tabular-nums">{money(row.cents)}</dd>
              </div>
            ))}
          </dl>
        </section>
        <section className={card} aria-labelledby="customer-heading">
          <h2 id="customer-heading" className="mb-3 text-lg font-semibold">Customer and shipping</h2>
          <p className="break-all text-sm">{order.customerName ?? '—'} · {order.email ?? 'no email'}</p>
          {a ? (
            <address className="mt-2 text-sm not-italic text-stone-700">
              {formatAddress(a).map((l, i) => <span key={i} className="block">{l}</span>)}
            </address>
          ) : <p className="mt-2 text-sm">No shipping address.</p>}
          <p className="mt-2 text-sm">Method: {order.shippingRateName ?? '—'}</p>
          {order.trackingNumber ? <p className="mt-2 text-sm" data-testid="admin-tracking">Tracking: {order.carrier} {order.trackingNumber}</p> : null}
          <h3 className="mt-4 text-sm font-semibold">Stripe</h3>
          <ul className="mt-1 space-y-1 break-all text-sm">
            <li>Checkout session: <a className="underline underline-offset-4" href={`${dashboard}/checkout/sessions/${order.stripeCheckoutSessionId}`} rel="noreferrer" target="_blank">{order.stripeCheckoutSessionId}</a></li>
            {order.stripePaymentIntentId ? <li>Payment: <a className="underline underline-offset-4" href={`${dashboard}/payments/${order.stripePaymentIntentId}`} rel="noreferrer" target="_blank">{order.stripePaymentIntentId}</a></li> : null}
          </ul>
          <p className="mt-2 text-sm"><Link className="underline underline-offset-4" href={`/orders/${order.publicToken}`}>Customer&apos;s order page</Link></p>
          <p className="mt-1 text-sm"><Link className="underline underline-offset-4" href={`/admin/orders/${order.id}/packing-slip`}>Packing slip</Link></p>
          {order.email && orders.isConfirmable(order.status, order.disputeStatus) ? (
            <ActionForm action={resendConfirmationAction} className="mt-3" testId="resend-form">
              <input type="hidden" name="orderId" value={order.id} />
              {/* one email per rendered form, however often it is sent */}
              <input type="hidden" name="nonce" value={formNonce.create()} />
              <button type="submit" className={buttonDark}>Resend the confirmation email</button>
            </ActionForm>
          ) : null}
        </section>
        {orders.isShippable(order) ? (
          <section className={card} aria-labelledby="fulfil-heading">
            <h2 id="fulfil-heading" className="mb-3 text-lg font-semibold">Mark fulfilled</h2>
            <ActionForm action={fulfilAction} className="space-y-3" testId="fulfil-form">
              <input type="hidden" name="orderId" value={order.id} />
              <Field name="carrier" label="Carrier" required maxLength={60} />
              <Field name="trackingNumber" label="Tracking number" hint="Letters, digits, spaces, dots, dashes or slashes." required maxLength={100} />
              <button type="submit" className={buttonDark}>Mark fulfilled and email the customer</button>
            </ActionForm>
          </section>
        ) : null}
        {order.stripePaymentIntentId && refundable > 0 && order.status !== 'awaiting_payment' && order.status !== 'payment_failed' ? (
          <section className={card} aria-labelledby="refund-heading">
            <h2 id="refund-heading" className="mb-3 text-lg font-semibold">Refund</h2>
            <ActionForm action={refundAction} className="space-y-3" testId="refund-form">
              <input type="hidden" name="orderId" value={order.id} />
              {/* one refund per rendered form, however often it is sent */}
              <input type="hidden" name="nonce" value={formNonce.create()} />
              <Field name="amount" label={<>Amount ({order.currency.toUpperCase()}, at most {money(refundable)})</>} inputMode="decimal" required defaultValue={decimalAmount(refundable, order.currency)} hint={moneyHint(order.currency)} />
              <CheckboxField name="restock" label="Put units back in stock" />
              {order.lines.filter((l) => l.variantId && l.quantity > l.restockedQuantity).map((l) => (
                <Field key={l.id} name={`restock-${l.id}`} label={<>Units of {l.title} to restock</>} type="number" min={0} max={l.quantity - l.restockedQuantity} defaultValue={0} />
              ))}
              <button type="submit" className={buttonDark}>Refund through Stripe</button>
            </ActionForm>
          </section>
        ) : null}
      </div>
      {links.length ? (
        <section className={`${card} mt-6`} aria-labelledby="downloads-heading">
          <h2 id="downloads-heading" className="mb-1 text-lg font-semibold">Downloads</h2>
          {/* no link here: opening one from the admin would spend one of the customer's downloads */}
          <p className="mb-3 text-sm text-stone-600">The customer&apos;s links, from their order page and confirmation email.</p>
          <DataTable label="Download links" columns={['Item', 'File', { label: 'Downloads', numeric: true }, 'Expires', 'State']}>
            {links.map((link) => (
              <tr key={link.orderLineId} data-testid="admin-download" data-state={link.state}>
                <td className={td}>{order.lines.find((l) => l.id === link.orderLineId)?.title ?? '—'}</td>
                <td className={`${td} [overflow-wrap:anywhere]`} data-label="File">{link.fileName ?? '—'}</td>
                <td className={`${td} text-right tabular-nums`} data-label="Downloads" data-testid="admin-download-count">{link.used} of {link.limit}</td>
                <td className={`${td} tabular-nums`} data-label="Expires">{when(link.expiresAt)}</td>
                <td className={td} data-label="State" data-testid="admin-download-state">{LINK_STATES[link.state]}</td>
              </tr>
            ))}
          </DataTable>
        </section>
      ) : null}
      <section className={`${card} mt-6`} aria-labelledby="notes-heading">
        <h2 id="notes-heading" className="mb-3 text-lg font-semibold">Notes <span className="text-sm font-normal text-stone-600" data-testid="notes-count">({notes.length})</span></h2>
        <p className="mb-3 text-sm text-stone-600">For the shop only: the customer never sees them.</p>
        <ol className="mb-4 space-y-3 text-sm" data-testid="notes">
          {notes.map((n) => (
            <li key={n.id} data-testid="note">
              <p className="text-stone-600"><span className="tabular-nums">{when(n.createdAt)}</span> · {n.adminEmail}</p>
              <p className="whitespace-pre-wrap [overflow-wrap:anywhere]">{n.body}</p>
            </li>
          ))}
        </ol>
        <ActionForm action={addNoteAction} className="space-y-3" testId="note-form">
          <input type="hidden" name="orderId" value={order.id} />
          <TextAreaField name="body" label="New note" rows={3} maxLength={orderNotes.BODY_MAX} hint={`At most ${orderNotes.BODY_MAX} characters.`} />
          <button type="submit" className={buttonDark}>Add note</button>
        </ActionForm>
      </section>
      <section className={`${card} mt-6`} aria-labelledby="timeline-heading">
        <h2 id="timeline-heading" className="mb-3 text-lg font-semibold">Timeline</h2>
        <ol className="space-y-2 text-sm" data-testid="timeline">
          {events.map((e, i) => (
            <li key={i} className="flex flex-wrap gap-x-3">
              <span className="tabular-nums text-stone-600">{when(e.at)}</span>
              <span className="font-medium">{e.what}</span>
              {e.detail ? <span className="text-stone-700">{e.detail}</span> : null}
              {e.isError ? <span className={`${badge} bg-red-100 text-red-900`}>error</span> : null}
            </li>
          ))}
        </ol>
      </section>
    </>
  )
}

const LINK_STATES: Record<downloads.LinkState, string> = {
  ready: 'Ready',
  used_up: 'Used up',
  expired: 'Expired',
  revoked: 'Withdrawn: refunded or disputed',
  withdrawn: 'File no longer offered',
}
