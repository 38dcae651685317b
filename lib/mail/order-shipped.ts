import 'server-only'
import { getEnv } from '@/lib/env'
import { formatMoney } from '@/lib/money'
import type { OrderView } from '@/lib/orders'
import { escapeHtml as escape, type Message } from './index'


export function orderShipped(order: OrderView): Message {
  const env = getEnv()
  const link = `${env.appUrl}/orders/${order.publicToken}`
  const number = `#${String(order.id).padStart(5, '0')}`
  const tracking = `${order.carrier ?? 'Carrier'}: ${order.trackingNumber ?? '—'}`
  // A partly refunded order still ships; the email says what was refunded, so the shopper
  // is not left to wonder whether the parcel holds what they were refunded for.
  const refunded = order.refundedCents > 0 ? `Already refunded: ${formatMoney(order.refundedCents, order.currency)} of the ${formatMoney(order.totalCents, order.currency)} you paid.` : null
  const text = [
    `Your order ${number} is on its way.`,
    '',
    ...order.lines.map((l) => `${l.quantity} × ${l.title}`),
    '',
    `Tracking — ${tracking}`,
    ...(refunded ? [refunded] : []),
    `Follow your order: ${link}`,
    '',
    `— ${env.storeName}`,
  ].join('\n')
  const html = `<!doctype html><html><body style="font-family:system-ui,sans-serif;color:#1c1917;max-width:560px;margin:auto">
<h1 style="font-size:20px">Your order ${number} is on its way</h1>
<ul>${order.lines.map((l) => `<li>${l.quantity} × ${escape(l.title)}</li>`).join('')}</ul>
<p><strong>Tracking</strong> — ${escape(tracking)}</p>
${refunded ? `<p data-refund>${escape(refunded)}</p>\n` : ''}<p><a href="${escape(link)}">Follow your order</a></p>
<p style="color:#78716c">— ${escape(env.storeName)}</p>
</body></html>`
  return { to: order.email ?? '', subject: `Your ${env.storeName} order ${number} has shipped`, html, text, id: `order-${order.id}-shipped` }
}
