import fs from 'node:fs'
import path from 'node:path'
import { sql } from 'drizzle-orm'
import { describe, expect, it } from 'vitest'
import * as adminAuth from '@/lib/admin-auth'
import { createAdmin } from '@/lib/admin-auth'
import { InvalidInput, NotFound } from '@/lib/errors'
import { handlers } from '@/lib/jobs/handlers'
import * as staff from '@/lib/staff'
import { parsed } from '../support/engine-admin-rows'
import { ENGINES, useEngine, type TestEngine } from '../support/engines'
import { useStorageDir } from '../support/storage-dir'

// The owner's staff changes that run on db/tx.ts (lib/staff.ts), on both engines: each writes
// its change and its audit row in one transaction, and the shop always keeps an owner, even
// when two owners remove or demote each other at the same moment on two app servers. The
// lists the staff page shows are checked against the rows. Invitations are mailed through the
// queue with a single-use link, and removal ends every session of the person at once.

const PASSWORD = 'correct horse battery staple'

async function owner(email: string): Promise<adminAuth.Admin> {
  const { id } = await createAdmin(email, PASSWORD)
  return { id, email, role: 'owner', sessionId: `s-${id}`, hasTwoFactor: false, mustEnrol: false }
}

const PEOPLE = sql`SELECT id, email, role FROM admin_users WHERE removed_at IS NULL ORDER BY id`

const activeOwners = (engine: TestEngine) => engine.count(sql`SELECT count(*) AS n FROM admin_users WHERE role = 'owner' AND removed_at IS NULL`)

async function inviteJob(engine: TestEngine, inviteId: number) {
  const [row] = await engine.rows<{ id: number | string; payload: unknown }>(sql`SELECT id, payload FROM jobs WHERE kind = 'mail.admin_invite' AND unique_key = ${`mail.admin_invite:${inviteId}`}`)
  return { id: Number(row!.id), payload: parsed(row!.payload) as Record<string, unknown> }
}

const inviteMail = (inviteId: number) => path.join(process.env.STORAGE_DIR!, 'mail', `admin-invite-${inviteId}.eml`)

describe.each(ENGINES)('staff changes on %s', (name) => {
  const engine = useEngine(name)
  useStorageDir(engine)

  it('holds staff to the refund limit the owner sets, and the owner to none', async () => {
    const me = await owner('owner@example.com')
    expect(await staff.refundRefusal({ role: 'staff' }, 1, 'usd')).toBe('Only the owner can send refunds.')
    await staff.setRefundLimit(me, 5000)
    expect((await staff.policy()).staffRefundLimitCents).toBe(5000)
    expect(await staff.refundRefusal({ role: 'staff' }, 5000, 'usd')).toBeNull()
    expect(await staff.refundRefusal({ role: 'staff' }, 5001, 'usd')).toBe('Refunds above $50.00 need the owner.')
    expect(await staff.refundRefusal({ role: 'owner' }, 10_000_000, 'usd')).toBeNull()
    await expect(staff.setRefundLimit(me, -1)).rejects.toThrow(InvalidInput)
    const [logged] = await engine.rows<{ email: string; before: unknown; after: unknown }>(sql`SELECT admin_email AS email, before, after FROM audit_log WHERE action = 'settings.staff_refund_limit'`)
    expect(logged!.email).toBe('owner@example.com')
    expect(parsed(logged!.before)).toEqual({ staffRefundLimitCents: 0 })
    expect(parsed(logged!.after)).toEqual({ staffRefundLimitCents: 5000 })
  })

  it('mails a single-use invitation through the queue, keeps only its hash, and makes a staff account', async () => {
    const me = await owner('owner@example.com')
    const { inviteId, token } = await staff.invite(me, ' Sam@Example.com ', 'staff')
    const [stored] = await engine.rows<{ email: string; role: string; hash: string }>(sql`SELECT email, role, token_hash AS hash FROM admin_invites WHERE id = ${inviteId}`)
    expect(stored).toMatchObject({ email: 'sam@example.com', role: 'staff' })
    expect(stored!.hash).not.toContain(token)
    expect((await staff.pendingInvites()).map((i) => i.email)).toEqual(['sam@example.com'])

    // the queued job sends the link, then forgets it
    const job = await inviteJob(engine, inviteId)
    expect(job.payload.token).toBe(token)
    await handlers['mail.admin_invite']!(job.payload, { id: job.id, attempts: 1, signal: new AbortController().signal })
    const eml = fs.readFileSync(inviteMail(inviteId), 'utf8')
    expect(eml).toContain('sam@example.com')
    expect(eml.replace(/=\r?\n/g, '')).toContain(`/admin/invite/${token}`)
    expect((await inviteJob(engine, inviteId)).payload).toEqual({})

    expect((await staff.findInvite(token))?.email).toBe('sam@example.com')
    await expect(staff.acceptInvite(token, 'short')).rejects.toThrow(/at least 12/)
    const sam = await staff.acceptInvite(token, PASSWORD)
    expect(sam.email).toBe('sam@example.com')
    // the link worked once
    expect(await staff.findInvite(token)).toBeNull()
    await expect(staff.acceptInvite(token, PASSWORD)).rejects.toBeInstanceOf(NotFound)
    expect((await staff.members()).map((m) => [m.email, m.role])).toEqual([
      ['owner@example.com', 'owner'],
      ['sam@example.com', 'staff'],
    ])
    const { token: session } = await adminAuth.signIn('sam@example.com', PASSWORD, '10.0.0.1')
    expect(await adminAuth.sessionFor(session)).toMatchObject({ email: 'sam@example.com', role: 'staff' })
    const actions = await engine.rows(sql`SELECT action, admin_email AS email FROM audit_log WHERE action LIKE 'staff.%' ORDER BY id`)
    expect(actions).toEqual([
      { action: 'staff.invite', email: 'owner@example.com' },
      { action: 'staff.join', email: 'sam@example.com' },
    ])
  })

  it('refuses an expired, withdrawn or replaced invitation, and an address that can already sign in', async () => {
    const me = await owner('owner@example.com')
    const now = Date.now()
    const expired = await staff.invite(me, 'late@example.com', 'staff', now - staff.INVITE_TTL_MS - 1)
    expect(await staff.findInvite(expired.token)).toBeNull()
    await expect(staff.acceptInvite(expired.token, PASSWORD)).rejects.toBeInstanceOf(NotFound)

    const first = await staff.invite(me, 'twice@example.com', 'staff')
    const second = await staff.invite(me, 'twice@example.com', 'owner')
    expect(await staff.findInvite(first.token)).toBeNull()
    expect((await staff.findInvite(second.token))?.role).toBe('owner')
    await staff.revokeInvite(me, second.inviteId)
    expect(await staff.findInvite(second.token)).toBeNull()
    await expect(staff.revokeInvite(me, second.inviteId)).rejects.toThrow(InvalidInput)
    // a withdrawn invitation's mail is not sent
    const job = await inviteJob(engine, second.inviteId)
    await handlers['mail.admin_invite']!(job.payload, { id: job.id, attempts: 1, signal: new AbortController().signal })
    expect(fs.existsSync(inviteMail(second.inviteId))).toBe(false)

    await expect(staff.invite(me, 'owner@example.com', 'staff')).rejects.toThrow(/can already sign in/)
    await expect(staff.invite(me, 'not an email', 'staff')).rejects.toThrow(InvalidInput)
    await expect(staff.invite(me, 'x@example.com', 'admin')).rejects.toThrow(/Choose a role/)
    expect(await staff.pendingInvites()).toEqual([])
  })

  it('ends every session of a removed person at once, refuses their sign-in, takes them back when invited again, and keeps the last owner', async () => {
    const me = await owner('owner@example.com')
    const { token } = await staff.invite(me, 'sam@example.com', 'staff')
    const sam = await staff.acceptInvite(token, PASSWORD)
    const a = (await adminAuth.signIn('sam@example.com', PASSWORD, '10.0.0.1')).token
    const b = (await adminAuth.signIn('sam@example.com', PASSWORD, '10.0.0.2')).token
    expect(await adminAuth.sessionFor(a)).not.toBeNull()

    await expect(staff.remove(me, me.id)).rejects.toThrow(/yourself/)
    await staff.remove(me, sam.id)
    expect(await adminAuth.sessionFor(a)).toBeNull()
    expect(await adminAuth.sessionFor(b)).toBeNull()
    expect(await engine.count(sql`SELECT count(*) AS n FROM admin_sessions WHERE user_id = ${sam.id}`)).toBe(0)
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
    await engine.rows(sql`UPDATE admin_users SET removed_at = NULL, role = 'staff' WHERE id = ${me.id} RETURNING id`)
    await expect(staff.remove(me, sam.id)).rejects.toThrow(/last owner/)
    const [removed] = await engine.rows<{ email: string; subject: string; after: unknown }>(sql`SELECT admin_email AS email, subject, after FROM audit_log WHERE action = 'staff.remove' ORDER BY id LIMIT 1`)
    expect(removed).toMatchObject({ email: 'owner@example.com', subject: `admin:${sam.id}` })
    expect(parsed(removed!.after)).toEqual({ removed: true, sessionsEnded: 2 })
  })

  it('removes a person with their sessions, audited, and never the last owner', async () => {
    const ann = await owner('ann@example.com')
    const bob = await owner('bob@example.com')
    await engine.rows(sql`INSERT INTO admin_sessions (id, user_id, expires_at, created_at) VALUES ('bob-session', ${bob.id}, ${Date.now() + 60_000}, ${Date.now()}) RETURNING id`)
    await expect(staff.remove(ann, ann.id)).rejects.toThrow(/yourself/)
    await staff.remove(ann, bob.id)
    expect(await engine.count(sql`SELECT count(*) AS n FROM admin_sessions WHERE user_id = ${bob.id}`)).toBe(0)
    const [audit] = await engine.rows<{ subject: string; after: unknown }>(sql`SELECT subject, after FROM audit_log WHERE action = 'staff.remove'`)
    expect(audit!.subject).toBe(`admin:${bob.id}`)
    expect(typeof audit!.after === 'string' ? JSON.parse(audit!.after) : audit!.after).toEqual({ removed: true, sessionsEnded: 1 })
    await expect(staff.remove(bob, ann.id)).rejects.toThrow(/last owner/)
    await expect(staff.remove(ann, bob.id)).rejects.toThrow(/already removed/)
    expect(await activeOwners(engine)).toBe(1)
  })

  it('sets the refund limit and audits it', async () => {
    const ann = await owner('ann@example.com')
    await staff.setRefundLimit(ann, 5000)
    await staff.setRefundLimit(ann, 7500)
    await expect(staff.setRefundLimit(ann, -1)).rejects.toThrow(/zero or more/)
    expect(await engine.count(sql`SELECT staff_refund_limit_cents AS n FROM admin_settings`)).toBe(7500)
    expect(await engine.count(sql`SELECT count(*) AS n FROM audit_log WHERE action = 'settings.staff_refund_limit'`)).toBe(2)
  })

  it.runIf(name === 'postgres')('keeps an owner when two owners remove each other at once on two app servers', async () => {
    const servers = engine.appServers(2)
    try {
      for (let round = 0; round < 6; round++) {
        const a = await owner(`a${round}@example.com`)
        const b = await owner(`b${round}@example.com`)
        // everyone but these two is gone, so each removal would leave the other the last owner
        await engine.rows(sql`UPDATE admin_users SET removed_at = 1 WHERE id NOT IN (${a.id}, ${b.id}) AND removed_at IS NULL RETURNING id`)
        const outcomes = await Promise.allSettled([staff.remove(a, b.id), staff.remove(b, a.id)])
        expect(outcomes.filter((o) => o.status === 'fulfilled')).toHaveLength(1)
        expect(await activeOwners(engine)).toBe(1)
      }
    } finally {
      await servers.end()
    }
  })

  it('lists people and pending invitations as the database holds them, and an invitation works once', async () => {
    const ann = await owner('ann@example.com')
    const now = Date.now()
    const sam = await staff.invite(ann, ' Sam@Example.com ', 'staff', now)
    const late = await staff.invite(ann, 'late@example.com', 'owner', now - staff.INVITE_TTL_MS - 1)
    const gone = await staff.invite(ann, 'gone@example.com', 'staff', now)
    await staff.revokeInvite(ann, gone.inviteId, now)
    const pending = await engine.rows<{ id: number | string; email: string; role: string }>(
      sql`SELECT id, email, role FROM admin_invites WHERE accepted_at IS NULL AND revoked_at IS NULL AND expires_at > ${now} ORDER BY id`,
    )
    expect((await staff.pendingInvites(now)).map((i) => [i.id, i.email, i.role])).toEqual(pending.map((r) => [Number(r.id), r.email, r.role]))
    expect(pending.map((r) => r.email)).toEqual(['sam@example.com'])
    expect(await staff.findInvite(late.token, now)).toBeNull()
    expect(await staff.isPending(gone.inviteId, now)).toBeNull()
    expect(await staff.isPending(sam.inviteId, now)).toMatchObject({ email: 'sam@example.com', role: 'staff' })
    // the mail job is queued in the invitation's transaction, its token riding in the payload
    expect(await engine.count(sql`SELECT count(*) AS n FROM jobs WHERE kind = 'mail.admin_invite' AND unique_key = ${`mail.admin_invite:${sam.inviteId}`}`)).toBe(1)
    await expect(staff.invite(ann, 'ann@example.com', 'staff')).rejects.toThrow(/can already sign in/)

    const joined = await staff.acceptInvite(sam.token, PASSWORD, now)
    await expect(staff.acceptInvite(sam.token, PASSWORD, now)).rejects.toBeInstanceOf(NotFound)
    const people = await engine.rows<{ id: number | string; email: string; role: string }>(PEOPLE)
    expect((await staff.members()).map((m) => [m.id, m.email, m.role])).toEqual(people.map((r) => [Number(r.id), r.email, r.role]))
    expect(people.map((r) => [Number(r.id), r.role])).toEqual([
      [ann.id, 'owner'],
      [joined.id, 'staff'],
    ])
    expect(await engine.count(sql`SELECT count(*) AS n FROM audit_log WHERE action IN ('staff.invite', 'staff.invite_revoke', 'staff.join')`)).toBe(5)
  })

  it('holds staff to the refund limit the database holds', async () => {
    const ann = await owner('ann@example.com')
    expect(await staff.refundRefusal({ role: 'staff' }, 1, 'usd')).toBe('Only the owner can send refunds.')
    await staff.setRefundLimit(ann, 5000)
    expect((await staff.policy()).staffRefundLimitCents).toBe(await engine.count(sql`SELECT staff_refund_limit_cents AS n FROM admin_settings WHERE id = 1`))
    expect(await staff.refundRefusal({ role: 'staff' }, 5000, 'usd')).toBeNull()
    expect(await staff.refundRefusal({ role: 'staff' }, 5001, 'usd')).toBe('Refunds above $50.00 need the owner.')
  })

  it('changes a role, audited, and never makes the last owner staff', async () => {
    const ann = await owner('ann@example.com')
    const bob = await owner('bob@example.com')
    await staff.setRole(ann, bob.id, 'staff')
    expect((await engine.rows<{ role: string }>(sql`SELECT role FROM admin_users WHERE id = ${bob.id}`))[0]!.role).toBe('staff')
    await expect(staff.setRole(ann, bob.id, 'staff')).rejects.toThrow(/already staff/)
    await expect(staff.setRole(ann, ann.id, 'staff')).rejects.toThrow(/your own role/)
    await expect(staff.setRole(ann, bob.id, 'admin')).rejects.toThrow(/Choose a role/)
    // bob, still signed in as an owner on a page loaded before, cannot take the last owner away
    await expect(staff.setRole(bob, ann.id, 'staff')).rejects.toThrow(/last owner/)
    await staff.setRole(ann, bob.id, 'owner')
    await staff.setRole(bob, ann.id, 'staff')
    expect(await activeOwners(engine)).toBe(1)
    const audits = await engine.rows<{ subject: string; before: unknown; after: unknown }>(sql`SELECT subject, before, after FROM audit_log WHERE action = 'staff.role' ORDER BY id`)
    const parse = (v: unknown) => (typeof v === 'string' ? JSON.parse(v) : v)
    expect(audits.map((a) => [a.subject, parse(a.before), parse(a.after)])).toEqual([
      [`admin:${bob.id}`, { email: 'bob@example.com', role: 'owner' }, { role: 'staff' }],
      [`admin:${bob.id}`, { email: 'bob@example.com', role: 'staff' }, { role: 'owner' }],
      [`admin:${ann.id}`, { email: 'ann@example.com', role: 'owner' }, { role: 'staff' }],
    ])
  })

  it.runIf(name === 'postgres')('keeps an owner when two owners demote each other at once on two app servers', async () => {
    const servers = engine.appServers(2)
    try {
      for (let round = 0; round < 6; round++) {
        const a = await owner(`a${round}@example.com`)
        const b = await owner(`b${round}@example.com`)
        await engine.rows(sql`UPDATE admin_users SET removed_at = 1 WHERE id NOT IN (${a.id}, ${b.id}) AND removed_at IS NULL RETURNING id`)
        const outcomes = await Promise.allSettled([staff.setRole(a, b.id, 'staff'), staff.setRole(b, a.id, 'staff')])
        expect(outcomes.filter((o) => o.status === 'fulfilled')).toHaveLength(1)
        expect(await activeOwners(engine)).toBe(1)
      }
    } finally {
      await servers.end()
    }
  })

  it.runIf(name === 'postgres')('leaves one pending invitation when one address is invited many times at once on two app servers', async () => {
    const ann = await owner('ann@example.com')
    const servers = engine.appServers(2)
    try {
      const invites = await Promise.all(Array.from({ length: 10 }, (_, i) => staff.invite(ann, 'sam@example.com', i % 2 ? 'owner' : 'staff')))
      expect(await engine.count(sql`SELECT count(*) AS n FROM admin_invites WHERE email = 'sam@example.com' AND revoked_at IS NULL`)).toBe(1)
      // and a link submitted twice at once joins once
      const standing = (await Promise.all(invites.map(async (i) => ((await staff.findInvite(i.token)) ? i : null)))).filter((i) => i !== null)
      expect(standing).toHaveLength(1)
      const joins = await Promise.allSettled([staff.acceptInvite(standing[0]!.token, PASSWORD), staff.acceptInvite(standing[0]!.token, PASSWORD)])
      expect(joins.filter((o) => o.status === 'fulfilled')).toHaveLength(1)
      expect(await engine.count(sql`SELECT count(*) AS n FROM admin_users WHERE email = 'sam@example.com'`)).toBe(1)
    } finally {
      await servers.end()
    }
  })
})
