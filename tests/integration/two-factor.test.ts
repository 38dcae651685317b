import { sql } from 'drizzle-orm'
import * as OTPAuth from 'otpauth'
import { describe, expect, it } from 'vitest'
import * as adminAuth from '@/lib/admin-auth'
import { InvalidInput } from '@/lib/errors'
import * as staff from '@/lib/staff'
import * as twoFactor from '@/lib/two-factor'
import { ENGINES, useEngine } from '../support/engines'

// The second factor's enrolment, status, coverage and reset (lib/two-factor.ts) on both
// engines, each figure checked against the rows; on PostgreSQL, a code confirmed twice at once
// on two app servers turns it on once. Sign-in in two steps: codes that work once, recovery
// codes stored hashed and spent, limits on guessing, the owner's requirement and the reset
// from the server (the session side of sign-in is tests/integration/sessions.test.ts).

const PASSWORD = 'correct horse battery staple'

const codeAt = (secret: string, at: number) => OTPAuth.TOTP.generate({ secret: OTPAuth.Secret.fromBase32(secret), algorithm: 'SHA1', digits: 6, period: 30, timestamp: at })

/** An admin with two-factor sign-in on; its secret and recovery codes. */
async function enrolled(email = 'owner@example.com', now = Date.now()) {
  const admin = await adminAuth.createAdmin(email, PASSWORD)
  await twoFactor.beginEnrolment(admin)
  const pending = (await twoFactor.status(admin)).pending!
  const codes = await twoFactor.confirmEnrolment(admin, codeAt(pending.secret, now), now)
  return { admin, secret: pending.secret, codes }
}

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

  it('starts with a secret and a QR code, turns on only with a right code, and shows ten recovery codes stored hashed', async () => {
    const admin = await adminAuth.createAdmin('owner@example.com', PASSWORD)
    expect(await twoFactor.status(admin)).toEqual({ isEnabled: false, recoveryCodesLeft: 0, pending: null })
    await twoFactor.beginEnrolment(admin)
    const { pending } = await twoFactor.status(admin)
    expect(pending!.secret).toMatch(/^[A-Z2-7]{32}$/)
    expect(pending!.uri).toMatch(/^otpauth:\/\/totp\/.*owner%40example\.com\?.*secret=/)
    expect(await twoFactor.qrSvg(pending!.uri)).toMatch(/^<svg[\s\S]*<\/svg>\s*$/)
    // not yet in force: the password alone still opens a session
    expect((await adminAuth.signIn('owner@example.com', PASSWORD, '10.0.0.1')).secondFactor).toBe(false)

    await expect(twoFactor.confirmEnrolment(admin, '12345')).rejects.toThrow(/six-digit/)
    const wrong = codeAt(pending!.secret, Date.now() + 10 * 60_000)
    await expect(twoFactor.confirmEnrolment(admin, wrong)).rejects.toThrow(/not right/)
    const codes = await twoFactor.confirmEnrolment(admin, codeAt(pending!.secret, Date.now()))
    expect(codes).toHaveLength(10)
    expect(new Set(codes).size).toBe(10)
    for (const code of codes) expect(code).toMatch(/^[a-z2-9]{4}(-[a-z2-9]{4}){3}$/)
    const stored = await engine.rows<{ h: string }>(sql`SELECT code_hash AS h FROM admin_recovery_codes`)
    expect(stored).toHaveLength(10)
    for (const { h } of stored) for (const code of codes) expect(h).not.toContain(code.replace(/-/g, ''))
    expect(await twoFactor.status(admin)).toMatchObject({ isEnabled: true, recoveryCodesLeft: 10, pending: null })
    await expect(twoFactor.beginEnrolment(admin)).rejects.toThrow(/already on/)
    const [audit] = await engine.rows<{ e: string }>(sql`SELECT admin_email AS e FROM audit_log WHERE action = 'admin.two_factor_enable'`)
    expect(audit!.e).toBe('owner@example.com')
  })

  it('opens a challenge, not a session, and a session only for a right code, each code once', async () => {
    const now = Date.now()
    const { secret } = await enrolled('owner@example.com', now - 60_000)
    const first = await adminAuth.signIn('owner@example.com', PASSWORD, '10.0.0.1', now)
    expect(first.secondFactor).toBe(true)
    // the challenge's token is no session
    expect(await adminAuth.sessionFor(first.token, now)).toBeNull()
    expect((await adminAuth.challengeFor(first.token, now))?.email).toBe('owner@example.com')

    const code = codeAt(secret, now)
    const ok = await twoFactor.verifyChallenge(first.token, code, '10.0.0.1', now)
    expect(await adminAuth.sessionFor(ok.token, now)).toMatchObject({ email: 'owner@example.com', hasTwoFactor: true, mustEnrol: false })
    expect(ok.usedRecoveryCode).toBe(false)
    // the challenge is spent
    await expect(twoFactor.verifyChallenge(first.token, code, '10.0.0.1', now)).rejects.toThrow(twoFactor.ChallengeGone)
    // the same code on a new challenge: refused, it was used
    const second = await adminAuth.signIn('owner@example.com', PASSWORD, '10.0.0.1', now)
    await expect(twoFactor.verifyChallenge(second.token, code, '10.0.0.1', now)).rejects.toThrow(/not right \(4 tries left\)/)
    // the next step's code works
    expect(await adminAuth.sessionFor((await twoFactor.verifyChallenge(second.token, codeAt(secret, now + 30_000), '10.0.0.1', now + 30_000)).token, now + 30_000)).not.toBeNull()
    // a challenge expires
    const late = await adminAuth.signIn('owner@example.com', PASSWORD, '10.0.0.1', now)
    await expect(twoFactor.verifyChallenge(late.token, codeAt(secret, now + adminAuth.CHALLENGE_MS + 60_000), '10.0.0.1', now + adminAuth.CHALLENGE_MS + 60_000)).rejects.toThrow(twoFactor.ChallengeGone)
  })

  it('takes each recovery code once, in any case and with or without dashes', async () => {
    const { codes } = await enrolled()
    const a = await adminAuth.signIn('owner@example.com', PASSWORD, '10.0.0.1')
    const used = await twoFactor.verifyChallenge(a.token, codes[3]!.toUpperCase().replace(/-/g, ' '), '10.0.0.1')
    expect(used).toMatchObject({ usedRecoveryCode: true, recoveryCodesLeft: 9 })
    expect(await adminAuth.sessionFor(used.token)).not.toBeNull()
    const b = await adminAuth.signIn('owner@example.com', PASSWORD, '10.0.0.1')
    await expect(twoFactor.verifyChallenge(b.token, codes[3]!, '10.0.0.1')).rejects.toThrow(InvalidInput)
    expect((await twoFactor.verifyChallenge(b.token, codes[4]!, '10.0.0.1')).recoveryCodesLeft).toBe(8)
    expect(await engine.count(sql`SELECT count(*) AS n FROM audit_log WHERE action = 'admin.recovery_code_used'`)).toBe(2)
  })

  it('limits guessing: five wrong codes end a challenge, five in the window lock code entry', async () => {
    const now = Date.now()
    const { secret } = await enrolled('owner@example.com', now - 120_000)
    const a = await adminAuth.signIn('owner@example.com', PASSWORD, '10.0.0.1', now)
    for (let i = 0; i < 4; i++) await expect(twoFactor.verifyChallenge(a.token, '000000', '10.0.0.1', now)).rejects.toThrow(InvalidInput)
    await expect(twoFactor.verifyChallenge(a.token, '000000', '10.0.0.1', now)).rejects.toThrow(twoFactor.ChallengeGone)
    // even the right code is refused on a spent challenge and while locked
    await expect(twoFactor.verifyChallenge(a.token, codeAt(secret, now), '10.0.0.1', now)).rejects.toThrow(twoFactor.ChallengeGone)
    const b = await adminAuth.signIn('owner@example.com', PASSWORD, '10.0.0.2', now)
    await expect(twoFactor.verifyChallenge(b.token, codeAt(secret, now), '10.0.0.2', now)).rejects.toThrow(adminAuth.RateLimited)
    // after the window, the right code works
    const later = now + 16 * 60_000
    const c = await adminAuth.signIn('owner@example.com', PASSWORD, '10.0.0.2', later)
    expect(await adminAuth.sessionFor((await twoFactor.verifyChallenge(c.token, codeAt(secret, later), '10.0.0.2', later)).token, later)).not.toBeNull()
  })

  it('sends everyone without a second factor to enrol once the owner requires it, and resets a lost device from the server', async () => {
    const plain = await adminAuth.createAdmin('staffer@example.com', PASSWORD)
    const { admin: owner, secret } = await enrolled('boss@example.com')
    const ownerAdmin: adminAuth.Admin = { ...owner, role: 'owner', sessionId: 'x', hasTwoFactor: false, mustEnrol: false }
    await expect(staff.setRequireTwoFactor(ownerAdmin, true)).rejects.toThrow(/for yourself first/)
    await staff.setRequireTwoFactor({ ...ownerAdmin, hasTwoFactor: true }, true)
    expect((await staff.policy()).requireTwoFactor).toBe(true)
    const s = await adminAuth.signIn(plain.email, PASSWORD, '10.0.0.1')
    expect(await adminAuth.sessionFor(s.token)).toMatchObject({ hasTwoFactor: false, mustEnrol: true })
    expect(await twoFactor.coverage()).toEqual({ enrolled: 1, people: 2 })

    // the owner's phone is lost: reset from the server
    // (the enrolment code's step is spent: the next one)
    const next = Date.now() + 30_000
    const b = await adminAuth.signIn(owner.email, PASSWORD, '10.0.0.1', next)
    const session = (await twoFactor.verifyChallenge(b.token, codeAt(secret, next), '10.0.0.1', next)).token
    expect(await adminAuth.sessionFor(session, next)).not.toBeNull()
    await twoFactor.reset('BOSS@example.com', 'server console (admin:reset-2fa)')
    expect(await adminAuth.sessionFor(session, next)).toBeNull()
    expect(await twoFactor.status(owner)).toEqual({ isEnabled: false, recoveryCodesLeft: 0, pending: null })
    expect(await engine.count(sql`SELECT count(*) AS n FROM admin_recovery_codes`)).toBe(0)
    expect((await adminAuth.signIn(owner.email, PASSWORD, '10.0.0.1')).secondFactor).toBe(false)
    expect(await engine.rows(sql`SELECT admin_email AS e, subject FROM audit_log WHERE action = 'admin.two_factor_reset'`)).toEqual([{ e: 'server console (admin:reset-2fa)', subject: `admin:${owner.id}` }])
    await expect(twoFactor.reset('nobody@example.com', 'x')).rejects.toThrow(/was not found/)
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
