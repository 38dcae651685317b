import 'server-only'
import { getEnv } from '@/lib/env'
import { escapeHtml, type Message } from './index'

/** The sign-in link email. `id` names the file/message, so a retried job overwrites its own. */
export function signInLink(to: string, link: string, id: string): Message {
  const env = getEnv()
  const text = [
    `Sign in to ${env.storeName}:`,
    '',
    link,
    '',
    'The link works once, for 15 minutes. If you did not ask for it, ignore this email: nobody can sign in without it.',
    '',
    `— ${env.storeName}`,
  ].join('\n')
  const html = `<!doctype html><html><body style="font-family:system-ui,sans-serif;color:#1c1917;max-width:560px;margin:auto">
<h1 style="font-size:20px">Sign in to ${escapeHtml(env.storeName)}</h1>
<p><a href="${escapeHtml(link)}">Sign in</a></p>
<p>Or paste this address into your browser: ${escapeHtml(link)}</p>
<p style="color:#78716c">The link works once, for 15 minutes. If you did not ask for it, ignore this email: nobody can sign in without it.</p>
</body></html>`
  return { to, subject: `Your ${env.storeName} sign-in link`, html, text, id }
}
