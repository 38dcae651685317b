import 'server-only'
import { getEnv } from '@/lib/env'
import { escapeHtml, type Message } from './index'

export function stockAlert(input: { to: string; item: string; link: string; unsubscribeUrl: string; id: string }): Message {
  const env = getEnv()
  const text = [
    `${input.item} is back in stock at ${env.storeName}.`,
    '',
    `Get it before it goes again: ${input.link}`,
    '',
    'You asked us to tell you, once; this is the only email about it.',
    `No more stock alerts: ${input.unsubscribeUrl}`,
    '',
    `— ${env.storeName}`,
  ].join('\n')
  const html = `<!doctype html><html><body style="font-family:system-ui,sans-serif;color:#1c1917;max-width:560px;margin:auto">
<h1 style="font-size:20px">${escapeHtml(input.item)} is back in stock</h1>
<p><a href="${escapeHtml(input.link)}">Get it before it goes again</a></p>
<p style="color:#78716c">You asked us to tell you, once; this is the only email about it. <a href="${escapeHtml(input.unsubscribeUrl)}">No more stock alerts</a></p>
</body></html>`
  return { to: input.to, subject: `Back in stock: ${input.item}`, html, text, id: input.id }
}
