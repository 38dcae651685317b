import 'server-only'
import { getEnv } from '@/lib/env'
import { escapeHtml as escape, type Message } from './index'


/** The invitation to the admin: a single-use link that sets the new person's password. */
export function adminInvite(invite: { id: number; email: string; role: string; expiresAt: number }, token: string): Message {
  const env = getEnv()
  const link = `${env.appUrl}/admin/invite/${token}`
  const until = new Date(invite.expiresAt).toISOString().replace('T', ' ').slice(0, 16) + ' UTC'
  const text = [
    `You are invited to run ${env.storeName} as ${invite.role}.`,
    '',
    `Choose your password here (the link works once, until ${until}):`,
    link,
    '',
    'If you did not expect this, ignore this email.',
  ].join('\n')
  const html = `<!doctype html><html><body style="font-family:system-ui,sans-serif;color:#1c1917;max-width:560px;margin:auto">
<h1 style="font-size:20px">You are invited to run ${escape(env.storeName)}</h1>
<p>Role: <strong>${escape(invite.role)}</strong>. The link works once, until ${escape(until)}.</p>
<p><a href="${escape(link)}">Choose your password</a></p>
<p style="color:#78716c">If you did not expect this, ignore this email.</p>
</body></html>`
  return { to: invite.email, subject: `Your invitation to the ${env.storeName} admin`, html, text, id: `admin-invite-${invite.id}` }
}
