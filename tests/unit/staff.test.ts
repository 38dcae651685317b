import fs from 'node:fs'
import path from 'node:path'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { getDb } from '@/db'
import * as adminAuth from '@/lib/admin-auth'
import { InvalidInput, NotFound } from '@/lib/errors'
import { handlers } from '@/lib/jobs/handlers'
import * as staff from '@/lib/staff'
import { freshStore, type TestDb } from '../support/db'

// Staff and roles on a real database: what each role may do, invitations that work once and
// expire, removal that ends sessions at once, and the owner's refund limit.

let t: TestDb
beforeEach(() => {
  t = freshStore()
})
afterEach(() => t.close())

const sqlite = () => getDb().$client
const PASSWORD = 'a long enough password'

async function owner(): Promise<adminAuth.Admin> {
  const row = await adminAuth.createAdmin('owner@example.com', PASSWORD)
  return { ...row, role: 'owner', sessionId: 'test', hasTwoFactor: false, mustEnrol: false }
}

function inviteJob(inviteId: number) {
  const row = sqlite().prepare(`SELECT id, payload FROM jobs WHERE kind = 'mail.admin_invite' AND unique_key = ?`).get(`mail.admin_invite:${inviteId}`) as { id: number; payload: string }
  return { id: row.id, payload: JSON.parse(row.payload) as Record<string, unknown> }
}

describe('roles', () => {
  it('gives the owner everything and staff orders, products and stock only', () => {
    const all: staff.Permission[] = ['orders', 'products', 'stock', 'discounts', 'staff', 'settings', 'operations']
    expect(all.filter((p) => staff.can({ role: 'owner' }, p))).toEqual(all)
    expect(all.filter((p) => staff.can({ role: 'staff' }, p))).toEqual(['orders', 'products', 'stock'])
  })

  it('holds staff to the refund limit the owner sets, and the owner to none', async () => {
    const me = await owner()
    expect(await staff.refundRefusal({ role: 'staff' }, 1, 'usd')).toBe('Only the owner can send refunds.')
    await staff.setRefundLimit(me, 5000)
    expect((await staff.policy()).staffRefundLimitCents).toBe(5000)
    expect(await staff.refundRefusal({ role: 'staff' }, 5000, 'usd')).toBeNull()
    expect(await staff.refundRefusal({ role: 'staff' }, 5001, 'usd')).toBe('Refunds above $50.00 need the owner.')
    expect(await staff.refundRefusal({ role: 'owner' }, 10_000_000, 'usd')).toBeNull()
    await expect(staff.setRefundLimit(me, -1)).rejects.toThrow(InvalidInput)
    const logged = sqlite().prepare(`SELECT admin_email AS email, before, after FROM audit_log WHERE action = 'settings.staff_refund_limit'`).get() as { email: string; before: string; after: string }
    expect(logged.email).toBe('owner@example.com')
    expect(JSON.parse(logged.before)).toEqual({ staffRefundLimitCents: 0 })
    expect(JSON.parse(logged.after)).toEqual({ staffRefundLimitCents: 5000 })
  })
})

describe('invitations', () => {
  it('mails a single-use link through the queue, keeps only its hash, and makes a staff account', async () => {
    const me = await owner()
    const { inviteId, token } = await staff.invite(me, ' Sam@Example.com ', 'staff')
    const stored = sqlite().prepare('SELECT email, role, token_hash AS hash FROM admin_invites WHERE id = ?').get(inviteId) as { email: string; role: string; hash: string }
    expect(stored).toMatchObject({ email: 'sam@example.com', role: 'staff' })
    expect(stored.hash).not.toContain(token)
    expect((await staff.pendingInvites()).map((i) => i.email)).toEqual(['sam@example.com'])

    // the queued job sends the link, then forgets it
    const job = inviteJob(inviteId)
    expect(job.payload.token).toBe(token)
    await handlers['mail.admin_invite']!(job.payload, { id: job.id, attempts: 1, signal: new AbortController().signal })
    const eml = fs.readFileSync(path.join(t.dir, 'mail', `admin-invite-${inviteId}.eml`), 'utf8')
    expect(eml).toContain('sam@example.com')
    expect(eml.replace(/=\r?\n/g, '')).toContain(`/admin/invite/${token}`)
    expect(inviteJob(inviteId).payload).toEqual({})

    expect((await staff.findInvite(token))?.email).toBe('sam@example.com')
    await expect(staff.acceptInvite(token, 'short')).rejects.toThrow(/at least 12/)
    const sam = await staff.acceptInvite(token, PASSWORD)
    expect(sam.email).toBe('sam@example.com')
    // the link worked once
    expect((await staff.findInvite(token))).toBeNull()
    await expect(staff.acceptInvite(token, PASSWORD)).rejects.toBeInstanceOf(NotFound)
    expect((await staff.members()).map((m) => [m.email, m.role])).toEqual([
      ['owner@example.com', 'owner'],
      ['sam@example.com', 'staff'],
    ])
    const { token: session } = await adminAuth.signIn('sam@example.com', PASSWORD, '10.0.0.1')
    expect(await adminAuth.sessionFor(session)).toMatchObject({ email: 'sam@example.com', role: 'staff' })
    const actions = sqlite().prepare(`SELECT action, admin_email AS email FROM audit_log WHERE action LIKE 'staff.%' ORDER BY id`).all()
    expect(actions).toEqual([
      { action: 'staff.invite', email: 'owner@example.com' },
      { action: 'staff.join', email: 'sam@example.com' },
    ])
  })

  it('refuses an expired, withdrawn or replaced link, and an address that can already sign in', async () => {
    const me = await owner()
    const now = Date.now()
    const expired = await staff.invite(me, 'late@example.com', 'staff', now - staff.INVITE_TTL_MS - 1)
    expect((await staff.findInvite(expired.token))).toBeNull()
    await expect(staff.acceptInvite(expired.token, PASSWORD)).rejects.toBeInstanceOf(NotFound)

    const first = await staff.invite(me, 'twice@example.com', 'staff')
    const second = await staff.invite(me, 'twice@example.com', 'owner')
    expect((await staff.findInvite(first.token))).toBeNull()
    expect((await staff.findInvite(second.token))?.role).toBe('owner')
    await staff.revokeInvite(me, second.inviteId)
    expect((await staff.findInvite(second.token))).toBeNull()
    await expect(staff.revokeInvite(me, second.inviteId)).rejects.toThrow(InvalidInput)
    // a withdrawn invitation's mail is not sent
    const job = inviteJob(second.inviteId)
    await handlers['mail.admin_invite']!(job.payload, { id: job.id, attempts: 1, signal: new AbortController().signal })
    expect(fs.existsSync(path.join(t.dir, 'mail', `admin-invite-${second.inviteId}.eml`))).toBe(false)

    await expect(staff.invite(me, 'owner@example.com', 'staff')).rejects.toThrow(/can already sign in/)
    await expect(staff.invite(me, 'not an email', 'staff')).rejects.toThrow(InvalidInput)
    await expect(staff.invite(me, 'x@example.com', 'admin')).rejects.toThrow(/Choose a role/)
    expect((await staff.pendingInvites())).toEqual([])
  })
})

describe('removal', () => {
  it('ends every session of the person at once, refuses their sign-in, and keeps the last owner', async () => {
    const me = await owner()
    const { token } = await staff.invite(me, 'sam@example.com', 'staff')
    const sam = await staff.acceptInvite(token, PASSWORD)
    const a = (await adminAuth.signIn('sam@example.com', PASSWORD, '10.0.0.1')).token
    const b = (await adminAuth.signIn('sam@example.com', PASSWORD, '10.0.0.2')).token
    expect(await adminAuth.sessionFor(a)).not.toBeNull()

    await expect(staff.remove(me, me.id)).rejects.toThrow(/yourself/)
    await staff.remove(me, sam.id)
    expect(await adminAuth.sessionFor(a)).toBeNull()
    expect(await adminAuth.sessionFor(b)).toBeNull()
    expect((sqlite().prepare('SELECT count(*) AS n FROM admin_sessions WHERE user_id = ?').get(sam.id) as { n: number }).n).toBe(0)
    await expect(adminAuth.signIn('sam@example.com', PASSWORD, '10.0.0.3')).rejects.toBeInstanceOf(InvalidInput)
    expect((await staff.members()).map((m) => m.email)).toEqual(['owner@example.com'])
    await expect(staff.remove(me, sam.id)).rejects.toThrow(InvalidInput)

    // invited again, the same person comes back under the same id, with the new role
    const again = await staff.invite(me, 'sam@example.com', 'owner')
    expect((await staff.acceptInvite(again.token, PASSWORD)).id).toBe(sam.id)
    expect((await staff.members()).find((m) => m.id === sam.id)?.role).toBe('owner')

    // an owner may remove another owner, but never the last one
    const samAdmin: adminAuth.Admin = { id: sam.id, email: sam.email, role: 'owner', sessionId: 'x', hasTwoFactor: false, mustEnrol: false }
    await staff.remove(samAdmin, me.id)
    sqlite().prepare('UPDATE admin_users SET removed_at = NULL WHERE id = ?').run(me.id)
    sqlite().prepare(`UPDATE admin_users SET role = 'staff' WHERE id = ?`).run(me.id)
    await expect(staff.remove(me, sam.id)).rejects.toThrow(/last owner/)
    const removed = sqlite().prepare(`SELECT admin_email AS email, subject, after FROM audit_log WHERE action = 'staff.remove' ORDER BY id LIMIT 1`).get() as { email: string; subject: string; after: string }
    expect(removed).toMatchObject({ email: 'owner@example.com', subject: `admin:${sam.id}` })
    expect(JSON.parse(removed.after)).toEqual({ removed: true, sessionsEnded: 2 })
  })
})
