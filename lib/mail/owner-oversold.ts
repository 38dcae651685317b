import 'server-only'
import { getEnv } from '@/lib/env'
import type { OrderView } from '@/lib/orders'
import { escapeHtml as escape, type Message } from './index'


/**
 * To the shop's admins: an order whose units ran out before they could be kept for it (paid
 * while sold out, or a pay-later payment whose holds expired). The owner decides: restock,
 * ship later, or refund.
 */
export function ownerOversold(order: OrderView, to: string, variantIds: number[]): Message {
  const env = getEnv()
  const number = `#${String(order.id).padStart(5, '0')}`
  const link = `${env.appUrl}/admin/orders/${order.id}`
  const short = order.lines.filter((l) => l.variantId !== null && variantIds.includes(l.variantId))
  const waiting = order.status === 'awaiting_payment'
  const lines = [
    waiting
      ? `Order ${number} is waiting for its payment to settle, and its units ran out before they could be kept for it:`
      : `Order ${number} was paid, but its units ran out before they could be taken:`,
    ...(short.length ? short : order.lines).map((l) => `- ${l.quantity} × ${l.title}${l.sku ? ` (${l.sku})` : ''}`),
    '',
    'Restock, ship it later, or refund it from the order page:',
    link,
  ]
  const text = [...lines, '', `— ${env.storeName}`].join('\n')
  const html = `<!doctype html><html><body style="font-family:system-ui,sans-serif;color:#1c1917;max-width:560px;margin:auto">
<h1 style="font-size:20px">Order ${number} is oversold</h1>
<p>${escape(lines[0]!)}</p>
<ul>${(short.length ? short : order.lines).map((l) => `<li>${l.quantity} × ${escape(l.title)}${l.sku ? ` (${escape(l.sku)})` : ''}</li>`).join('')}</ul>
<p>Restock, ship it later, or refund it from <a href="${escape(link)}">the order page</a>.</p>
</body></html>`
  return { to, subject: `${env.storeName}: order ${number} is oversold`, html, text, id: `order-${order.id}-oversold-${to.replace(/[^A-Za-z0-9]/g, '_')}` }
}
