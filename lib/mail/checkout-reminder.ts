import 'server-only'
import { getEnv } from '@/lib/env'
import { escapeHtml, type Message } from './index'

export function checkoutReminder(input: { to: string; items: string[]; recoveryUrl: string; unsubscribeUrl: string; id: string }): Message {
  const env = getEnv()
  const text = [
    `You left something at ${env.storeName}.`,
    '',
    ...input.items,
    ...(input.items.length ? [''] : []),
    `Pick up where you left off: ${input.recoveryUrl}`,
    '',
    'This is the only reminder we send about it.',
    `No more reminders: ${input.unsubscribeUrl}`,
    '',
    `— ${env.storeName}`,
  ].join('\n')
  const html = `<!doctype html><html><body style="font-family:system-ui,sans-serif;color:#1c1917;max-width:560px;margin:auto">
<h1 style="font-size:20px">You left something at ${escapeHtml(env.storeName)}</h1>
${input.items.length ? `<ul>${input.items.map((i) => `<li>${escapeHtml(i)}</li>`).join('')}</ul>` : ''}
<p><a href="${escapeHtml(input.recoveryUrl)}">Pick up where you left off</a></p>
<p style="color:#78716c">This is the only reminder we send about it. <a href="${escapeHtml(input.unsubscribeUrl)}">No more reminders</a></p>
</body></html>`
  return { to: input.to, subject: `Still thinking it over? Your ${env.storeName} checkout`, html, text, id: input.id }
}
