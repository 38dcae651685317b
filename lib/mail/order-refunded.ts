import 'server-only'
import { getEnv } from '@/lib/env'
import { formatMoney } from '@/lib/money'
import type { OrderView } from '@/lib/orders'
import { escapeHtml as escape, type Message } from './index'


/**
 * The shopper's refund notice: how much came back, the order's charged total, refunds and
 * net, and when the money reaches their card. What the shop did with the goods (restocking)
 * is its own business and is not mentioned. `refundedCents` is the running total this
 * notice is for (it is sent once per increase), `amountCents` this refund's part of it.
 */
export function orderRefunded(order: OrderView, refund: { amountCents: number; refundedCents: number }): Message {
  const env = getEnv()
  const money = (cents: number) => formatMoney(cents, order.currency)
  const link = `${env.appUrl}/orders/${order.publicToken}`
  const number = `#${String(order.id).padStart(5, '0')}`
  const isFull = refund.refundedCents >= order.totalCents
  const lines = [
    `We have refunded ${money(refund.amountCents)} for your order ${number}${isFull ? ' (the whole order)' : ''}.`,
    'It goes back to the card or account you paid with. Banks usually show it within 5 to 10 business days.',
    '',
    `Total charged: ${money(order.totalCents)}`,
    `Refunded: −${money(refund.refundedCents)}`,
    `Net: ${money(Math.max(0, order.totalCents - refund.refundedCents))}`,
  ]
  const text = [...lines, '', `Your order: ${link}`, '', `— ${env.storeName}`].join('\n')
  const html = `<!doctype html><html><body style="font-family:system-ui,sans-serif;color:#1c1917;max-width:560px;margin:auto">
<h1 style="font-size:20px">Refund for your order ${number}</h1>
<p>${escape(lines[0]!)}</p>
<p>${escape(lines[1]!)}</p>
<p>${lines.slice(3).map(escape).join('<br>')}</p>
<p><a href="${escape(link)}">View your order</a></p>
<p style="color:#78716c">— ${escape(env.storeName)}</p>
</body></html>`
  return { to: order.email ?? '', subject: `Your ${env.storeName} refund for order ${number}`, html, text, id: `order-${order.id}-refund-${refund.refundedCents}` }
}
