import { sql } from 'drizzle-orm'
import * as OTPAuth from 'otpauth'
import { describe, expect, it } from 'vitest'
import * as adminAuth from '@/lib/admin-auth'
import * as twoFactor from '@/lib/two-factor'
import { ENGINES, useEngine } from '../support/engines'

// The second factor's enrolment, status, coverage and reset (lib/two-factor.ts) on both
// engines, each figure checked against the rows; on PostgreSQL, a code confirmed twice at once
// on two app servers turns it on once. Sign-in with a code is tests/integration/sessions.test.ts.

const PASSWORD = 'correct horse battery staple'

const codeAt = (secret: string, at: number) => OTPAuth.TOTP.generate({ secret: OTPAuth.Secret.fromBase32(secret), algorithm: 'SHA1', digits: 6, period: 30, timestamp: at })

describe.each(ENGINES)('two-factor sign-in on %s', (name) => {
  const engine = useEngine(name)

  it('enrols with a confirmed code, shows what the rows hold, and is reset from the server', async () => {
    const ann = await adminAuth.createAdmin('ann@example.com', PASSWORD)
    const bob = await adminAuth.createAdmin('bob@example.com', PASSWORD)
    expect(await twoFactor.status(ann)).toEqual({ isEnabled: false, recoveryCodesLeft: 0, pending: null })
    await twoFactor.beginEnrolment(ann)
    const { pending } = await twoFactor.status(ann)
    const [stored] = await engine.rows<{ secret: string; enabled: unknown }>(sql`SELECT totp_secret AS secret, totp_enabled_at AS enabled FROM admin_users WHERE id = ${ann.id}`)
    expect(pending?.secret).toBe(stored!.secret)
    expect(stored!.enabled).toBeNull()
    await expect(twoFactor.confirmEnrolment(ann, '000000')).rejects.toThrow(/not right/)
    const now = Date.now()
    const codes = await twoFactor.confirmEnrolment(ann, codeAt(pending!.secret, now), now)
    expect(codes).toHaveLength(twoFactor.RECOVERY_CODE_COUNT)
    await expect(twoFactor.beginEnrolment(ann)).rejects.toThrow(/already on/)

    const left = await engine.count(sql`SELECT count(*) AS n FROM admin_recovery_codes WHERE user_id = ${ann.id} AND used_at IS NULL`)
    expect(await twoFactor.status(ann)).toEqual({ isEnabled: true, recoveryCodesLeft: left, pending: null })
    expect(left).toBe(10)
    const people = await engine.count(sql`SELECT count(*) AS n FROM admin_users WHERE removed_at IS NULL`)
    const enrolled = await engine.count(sql`SELECT count(*) AS n FROM admin_users WHERE removed_at IS NULL AND totp_enabled_at IS NOT NULL`)
    expect(await twoFactor.coverage()).toEqual({ enrolled, people })
    expect([enrolled, people]).toEqual([1, 2])

    await engine.rows(sql`INSERT INTO admin_sessions (id, user_id, expires_at, created_at) VALUES ('ann-session', ${ann.id}, ${now + 60_000}, ${now}) RETURNING id`)
    expect(await twoFactor.reset(' ANN@example.com', 'server console (admin:reset-2fa)')).toEqual({ id: ann.id, email: 'ann@example.com' })
    expect(await twoFactor.status(ann)).toEqual({ isEnabled: false, recoveryCodesLeft: 0, pending: null })
    expect(await engine.count(sql`SELECT count(*) AS n FROM admin_sessions WHERE user_id = ${ann.id}`)).toBe(0)
    expect(await engine.count(sql`SELECT count(*) AS n FROM admin_recovery_codes WHERE user_id = ${ann.id}`)).toBe(0)
    expect(await engine.count(sql`SELECT count(*) AS n FROM audit_log WHERE action IN ('admin.two_factor_enable', 'admin.two_factor_reset')`)).toBe(2)
    await expect(twoFactor.reset('nobody@example.com', 'x')).rejects.toThrow(/was not found/)
    expect(await twoFactor.coverage()).toEqual({ enrolled: 0, people: 2 })
    expect(bob.email).toBe('bob@example.com')
  })

  it.runIf(name === 'postgres')('turns it on once when one code is confirmed twice at once on two app servers', async () => {
    const servers = engine.appServers(2)
    try {
      for (let round = 0; round < 4; round++) {
        const admin = await adminAuth.createAdmin(`p${round}@example.com`, PASSWORD)
        await twoFactor.beginEnrolment(admin)
        const { pending } = await twoFactor.status(admin)
        const now = Date.now()
        const outcomes = await Promise.allSettled([0, 1].map(() => twoFactor.confirmEnrolment(admin, codeAt(pending!.secret, now), now)))
        expect(outcomes.filter((o) => o.status === 'fulfilled')).toHaveLength(1)
        // the codes shown are the ones kept
        expect(await engine.count(sql`SELECT count(*) AS n FROM admin_recovery_codes WHERE user_id = ${admin.id}`)).toBe(twoFactor.RECOVERY_CODE_COUNT)
        expect(await engine.count(sql`SELECT count(*) AS n FROM audit_log WHERE action = 'admin.two_factor_enable' AND subject = ${`admin:${admin.id}`}`)).toBe(1)
      }
    } finally {
      await servers.end()
    }
  })
})
