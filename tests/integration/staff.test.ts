import { sql } from 'drizzle-orm'
import { describe, expect, it } from 'vitest'
import type * as adminAuth from '@/lib/admin-auth'
import { createAdmin } from '@/lib/admin-auth'
import * as staff from '@/lib/staff'
import { ENGINES, useEngine, type TestEngine } from '../support/engines'

// The owner's staff changes that run on db/tx.ts (lib/staff.ts), on both engines: each writes
// its change and its audit row in one transaction, and the shop always keeps an owner, even
// when two owners remove each other at the same moment on two app servers.

const PASSWORD = 'correct horse battery staple'

async function owner(email: string): Promise<adminAuth.Admin> {
  const { id } = await createAdmin(email, PASSWORD)
  return { id, email, role: 'owner', sessionId: `s-${id}`, hasTwoFactor: false, mustEnrol: false }
}

const activeOwners = (engine: TestEngine) => engine.count(sql`SELECT count(*) AS n FROM admin_users WHERE role = 'owner' AND removed_at IS NULL`)

describe.each(ENGINES)('staff changes on %s', (name) => {
  const engine = useEngine(name)

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
})
