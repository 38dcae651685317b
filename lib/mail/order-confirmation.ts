import 'server-only'
import { formatAddress } from '@/lib/addresses'
import type { DownloadLink } from '@/lib/downloads'
import { getEnv } from '@/lib/env'
import { formatMoney } from '@/lib/money'
import { lineAmountOf, totalsOf, type OrderView } from '@/lib/orders'
import { escapeHtml as escape, type Message } from './index'


/** `links`: the order's download links (lib/downloads.ts linksFor), the same the order page shows. */
export function orderConfirmation(order: OrderView, links: DownloadLink[] = []): Message {
  const env = getEnv()
  const link = `${env.appUrl}/orders/${order.publicToken}`
  const money = (cents: number) => formatMoney(cents, order.currency)
  const address = order.shippingAddress ? formatAddress(order.shippingAddress) : []
  const number = `#${String(order.id).padStart(5, '0')}`
  const ready = links
    .filter((l) => l.state === 'ready')
    .map((l) => ({ title: order.lines.find((line) => line.id === l.orderLineId)?.title ?? 'Your download', url: `${env.appUrl}${l.path}`, remaining: l.remaining, until: new Date(l.expiresAt).toUTCString() }))
  const totals = totalsOf(order).map((row): [string, string] => [row.label, money(row.cents)])
  const text = [
    `Thank you for your order ${number}.`,
    '',
    ...order.lines.map((l) => `${l.quantity} × ${l.title}${l.sku ? ` (${l.sku})` : ''}  ${money(lineAmountOf(l))}`),
    '',
    ...totals.map(([label, amount]) => `${label}: ${amount}`),
    '',
    ...(order.shippingRateName ? [`Shipping method: ${order.shippingRateName}`] : []),
    ...(order.paymentMethod ? [`Paid with: ${order.paymentMethod}`] : []),
    ...(order.shippingRateName || order.paymentMethod ? [''] : []),
    ...(address.length ? ['Shipping to:', ...address, ''] : []),
    ...(ready.length ? ['Your downloads:', ...ready.map((l) => `${l.title}: ${l.url} (${l.remaining} downloads, until ${l.until})`), ''] : []),
    `Check your order at any time: ${link}`,
    '',
    `— ${env.storeName}`,
  ].join('\n')
  const html = `<!doctype html><html><body style="font-family:system-ui,sans-serif;color:#1c1917;max-width:560px;margin:auto">
<h1 style="font-size:20px">Thank you for your order ${number}</h1>
<table style="width:100%;border-collapse:collapse">${order.lines
    .map((l) => `<tr><td style="padding:4px 0">${l.quantity} × ${escape(l.title)}${l.sku ? ` <small>(${escape(l.sku)})</small>` : ''}</td><td style="text-align:right">${money(lineAmountOf(l))}</td></tr>`)
    .join('')}
${totals.map(([label, amount]) => `<tr><td style="padding:4px 0;${label === 'Total' ? 'font-weight:600' : ''}">${escape(label)}</td><td style="text-align:right;${label === 'Total' ? 'font-weight:600' : ''}">${amount}</td></tr>`).join('')}
</table>
${order.shippingRateName ? `<h2 style="font-size:16px">Shipping method</h2><p>${escape(order.shippingRateName)}</p>` : ''}
${order.paymentMethod ? `<h2 style="font-size:16px">Payment</h2><p>${escape(order.paymentMethod)}</p>` : ''}
${address.length ? `<h2 style="font-size:16px">Shipping to</h2><p>${address.map(escape).join('<br>')}</p>` : ''}
${ready.length ? `<h2 style="font-size:16px">Your downloads</h2><ul>${ready.map((l) => `<li><a href="${escape(l.url)}">Download ${escape(l.title)}</a> <small>(${l.remaining} downloads, until ${escape(l.until)})</small></li>`).join('')}</ul>` : ''}
<p><a href="${escape(link)}">View your order status</a></p>
<p style="color:#78716c">— ${escape(env.storeName)}</p>
</body></html>`
  return { to: order.email ?? '', subject: `Your ${env.storeName} order ${number}`, html, text, id: `order-${order.id}-confirmation` }
}
