import { sql } from 'drizzle-orm'
import * as OTPAuth from 'otpauth'
import { describe, expect, it } from 'vitest'
import * as accounts from '@/lib/accounts'
import * as adminAuth from '@/lib/admin-auth'
import * as twoFactor from '@/lib/two-factor'
import { InvalidInput } from '@/lib/errors'
import { rejected } from '../support/thrown'
import { ENGINES, useEngine } from '../support/engines'

// Admin sign-in and sessions (lib/admin-auth.ts) and the shopper's sign-in links and sessions
// (lib/accounts.ts) on both engines. On PostgreSQL, two app servers share them: a session
// opened on one is good on the other and ended from either, a link clicked twice at once on
// both signs in once, and failed sign-ins count against the lockout wherever they land.

const OWNER = { email: 'owner@example.com', password: 'a long enough password' }
const noWait = async () => undefined
// a base32 TOTP secret, set on the admin with raw SQL (enrolment is lib/two-factor.ts's own test)
const SECRET = 'JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP'
const codeAt = (at: number) => OTPAuth.TOTP.generate({ secret: OTPAuth.Secret.fromBase32(SECRET), algorithm: 'SHA1', digits: 6, period: 30, timestamp: at })

/** Settled outcomes by kind: how many resolved, and how many rejected with each error class. */
function tally(outcomes: PromiseSettledResult<unknown>[]): Record<string, number> {
  const counts: Record<string, number> = {}
  for (const o of outcomes) {
    const kind = o.status === 'fulfilled' ? 'ok' : (o.reason as Error).name
    counts[kind] = (counts[kind] ?? 0) + 1
  }
  return counts
}

describe.each(ENGINES)('admin sign-in and sessions on %s', (name) => {
  const engine = useEngine(name)

  it('signs in, slides the session, ends it, and changing the password ends the other sessions', async () => {
    await adminAuth.createAdmin(OWNER.email, OWNER.password)
    await expect(adminAuth.createAdmin('Owner@Example.com', 'another long password')).rejects.toBeInstanceOf(InvalidInput)
    const now = Date.now()
    const { token, secondFactor } = await adminAuth.signIn(OWNER.email, OWNER.password, '10.0.0.1', now)
    expect(secondFactor).toBe(false)
    expect(await adminAuth.sessionFor(token, now)).toMatchObject({ email: OWNER.email, role: 'owner', hasTwoFactor: false, mustEnrol: false })
    const later = now + 3600_000
    expect(await adminAuth.sessionFor(token, later)).not.toBeNull()
    const [row] = await engine.rows<{ expiresAt: number | string }>(sql`SELECT expires_at AS "expiresAt" FROM admin_sessions`)
    expect(Number(row!.expiresAt)).toBe(later + adminAuth.IDLE_MS)
    expect(await adminAuth.sessionFor(token, later + adminAuth.IDLE_MS + 1)).toBeNull()

    const other = await adminAuth.signIn(OWNER.email, OWNER.password, '10.0.0.2')
    const me = (await adminAuth.sessionFor(token))!
    await expect(adminAuth.changePassword(me, 'wrong', 'another long password')).rejects.toBeInstanceOf(InvalidInput)
    await adminAuth.changePassword(me, OWNER.password, 'another long password')
    expect(await adminAuth.sessionFor(token)).not.toBeNull()
    expect(await adminAuth.sessionFor(other.token)).toBeNull()
    expect(await engine.count(sql`SELECT count(*) AS n FROM audit_log WHERE action IN ('admin.sign_in', 'admin.password_change')`)).toBe(3)
    await adminAuth.endSession(token)
    expect(await adminAuth.sessionFor(token)).toBeNull()
    expect(await adminAuth.adminEmails()).toEqual([OWNER.email])
  })

  it('opens a challenge, not a session, for an admin with a second factor', async () => {
    const { id } = await adminAuth.createAdmin(OWNER.email, OWNER.password)
    await engine.rows(sql`UPDATE admin_users SET totp_secret = 'secret', totp_enabled_at = ${Date.now()} WHERE id = ${id} RETURNING id`)
    const { token, secondFactor } = await adminAuth.signIn(OWNER.email, OWNER.password, '10.0.0.1')
    expect(secondFactor).toBe(true)
    expect(await adminAuth.sessionFor(token)).toBeNull()
    expect(await adminAuth.challengeFor(token)).toMatchObject({ userId: id, email: OWNER.email, attempts: 0 })
    expect(await adminAuth.challengeFor(token, Date.now() + adminAuth.CHALLENGE_MS + 1)).toBeNull()
  })

  it('a right code from the app completes the challenge once; wrong codes sent at once are each counted', async () => {
    const { id } = await adminAuth.createAdmin(OWNER.email, OWNER.password)
    await engine.rows(sql`UPDATE admin_users SET totp_secret = ${SECRET}, totp_enabled_at = ${Date.now()} WHERE id = ${id} RETURNING id`)
    const now = Date.now()
    const first = await adminAuth.signIn(OWNER.email, OWNER.password, '10.0.0.1', now, noWait)
    const verified = await twoFactor.verifyChallenge(first.token, codeAt(now), '10.0.0.1', now)
    expect(verified).toMatchObject({ admin: { id, email: OWNER.email }, usedRecoveryCode: false })
    expect(await adminAuth.sessionFor(verified.token, now)).toMatchObject({ email: OWNER.email, hasTwoFactor: true })
    expect(await adminAuth.challengeFor(first.token, now)).toBeNull()
    // the same code again, on a new challenge, is spent
    const second = await adminAuth.signIn(OWNER.email, OWNER.password, '10.0.0.1', now, noWait)
    expect((await rejected(twoFactor.verifyChallenge(second.token, codeAt(now), '10.0.0.1', now))).message).toMatch(/not right \(4 tries left\)/)

    const servers = name === 'postgres' ? engine.appServers(2) : null
    try {
      const third = await adminAuth.signIn(OWNER.email, OWNER.password, '10.0.0.1', now, noWait)
      const outcomes = await Promise.allSettled(Array.from({ length: 12 }, () => twoFactor.verifyChallenge(third.token, '000000', '10.0.0.1', now)))
      expect(tally(outcomes).ok).toBeUndefined()
      // five wrong codes in the window lock code entry, however many were sent at once: one was counted above
      expect(await engine.count(sql`SELECT count(*) AS n FROM admin_login_failures WHERE key = ${`code:${id}`}`)).toBe(5)
    } finally {
      await servers?.end()
    }
  })

  it('locks one email from one address after five failures, forgives them on success elsewhere, and unlock forgets them', async () => {
    await adminAuth.createAdmin(OWNER.email, OWNER.password)
    for (let i = 0; i < adminAuth.MAX_FAILURES_PER_EMAIL_AND_CLIENT; i++) {
      expect(await rejected(adminAuth.signIn(OWNER.email, `guess ${i}`, '198.51.100.1', Date.now(), noWait))).toBeInstanceOf(InvalidInput)
    }
    expect(await rejected(adminAuth.signIn(OWNER.email, OWNER.password, '198.51.100.1', Date.now(), noWait))).toBeInstanceOf(adminAuth.RateLimited)
    // a right password from another address: signed in, and that attempt is not left counted against its address
    await adminAuth.signIn(OWNER.email, OWNER.password, '203.0.113.9', Date.now(), noWait)
    expect(await engine.count(sql`SELECT count(*) AS n FROM admin_login_failures WHERE key = 'client:203.0.113.9'`)).toBe(0)
    expect(await adminAuth.unlock('OWNER@example.com')).toBeGreaterThan(0)
    await expect(adminAuth.signIn(OWNER.email, OWNER.password, '198.51.100.1', Date.now(), noWait)).resolves.toMatchObject({ admin: { email: OWNER.email } })
  })

  it('counts guesses sent at once: twenty wrong passwords together get five checked, the rest refused', async () => {
    await adminAuth.createAdmin(OWNER.email, OWNER.password)
    const servers = name === 'postgres' ? engine.appServers(2) : null
    try {
      const outcomes = await Promise.allSettled(Array.from({ length: 20 }, (_, i) => adminAuth.signIn(OWNER.email, `guess ${i}`, '198.51.100.7', Date.now(), noWait)))
      expect(tally(outcomes)).toEqual({ InvalidInput: adminAuth.MAX_FAILURES_PER_EMAIL_AND_CLIENT, RateLimited: 20 - adminAuth.MAX_FAILURES_PER_EMAIL_AND_CLIENT })
      expect(await engine.count(sql`SELECT count(*) AS n FROM admin_login_failures WHERE key = 'client:198.51.100.7'`)).toBe(adminAuth.MAX_FAILURES_PER_EMAIL_AND_CLIENT)
    } finally {
      await servers?.end()
    }
  })

  it.runIf(name === 'postgres')('two app servers share sessions and the lockout', async () => {
    await adminAuth.createAdmin(OWNER.email, OWNER.password)
    const servers = engine.appServers(2)
    try {
      // each call takes the next server's pool in turn, so back-to-back reads land on both
      const tokens = []
      for (let i = 0; i < 3; i++) tokens.push((await adminAuth.signIn(OWNER.email, OWNER.password, `10.0.0.${i}`, Date.now(), noWait)).token)
      for (const token of tokens) {
        expect(await adminAuth.sessionFor(token)).toMatchObject({ email: OWNER.email })
        expect(await adminAuth.sessionFor(token)).toMatchObject({ email: OWNER.email })
      }
      await adminAuth.endSession(tokens[0])
      expect(await adminAuth.sessionFor(tokens[0])).toBeNull()
      expect(await adminAuth.sessionFor(tokens[0])).toBeNull()
      expect(await adminAuth.sessionFor(tokens[1])).not.toBeNull()
      // failures from one address, landing on either server, add up to one lockout
      for (let i = 0; i < adminAuth.MAX_FAILURES_PER_EMAIL_AND_CLIENT; i++) {
        expect(await rejected(adminAuth.signIn(OWNER.email, `guess ${i}`, '198.51.100.1', Date.now(), noWait))).toBeInstanceOf(InvalidInput)
      }
      for (let i = 0; i < 2; i++) expect(await rejected(adminAuth.signIn(OWNER.email, OWNER.password, '198.51.100.1', Date.now(), noWait))).toBeInstanceOf(adminAuth.RateLimited)
    } finally {
      await servers.end()
    }
  })
})

describe.each(ENGINES)('shopper sign-in links and sessions on %s', (name) => {
  const engine = useEngine(name)

  it('a link signs in once and opens a session that slides, rotates, and ends here or everywhere', async () => {
    const now = Date.now()
    const first = (await accounts.issueLinkToken('Sam@Example.com', now, now))!
    const second = (await accounts.issueLinkToken('sam@example.com', now, now))!
    expect(await accounts.issueLinkToken('sam@example.com', now - 16 * 60_000, now)).toBeNull()
    expect(await accounts.linkEmail(first, now)).toBe('sam@example.com')
    const { token, account } = await accounts.signInWithLink(first, undefined, now)
    expect(account.email).toBe('sam@example.com')
    // every other link to the address dies with it
    expect(await rejected(accounts.signInWithLink(first, undefined, now))).toBeInstanceOf(accounts.LinkNotValid)
    expect(await rejected(accounts.signInWithLink(second, undefined, now))).toBeInstanceOf(accounts.LinkNotValid)
    expect(await accounts.linkEmail(first, now)).toBeNull()

    const later = now + 10 * 24 * 3600_000
    expect(await accounts.sessionFor(token, later)).toMatchObject({ id: account.id, email: 'sam@example.com', stripeCustomerId: null })
    const [row] = await engine.rows<{ expiresAt: number | string }>(sql`SELECT expires_at AS "expiresAt" FROM account_sessions`)
    expect(Number(row!.expiresAt)).toBe(later + accounts.IDLE_MS)
    expect(await accounts.sessionFor(token, later + accounts.IDLE_MS + 1)).toBeNull()

    // the session the browser came with ends when a new one begins
    const rotated = await accounts.signInWithLink((await accounts.issueLinkToken('sam@example.com', Date.now()))!, token)
    expect(rotated.account.id).toBe(account.id)
    expect(await accounts.sessionFor(token)).toBeNull()
    const other = (await accounts.signInWithLink((await accounts.issueLinkToken('sam@example.com', Date.now()))!, undefined)).token
    await accounts.endSession(rotated.token)
    expect(await accounts.sessionFor(rotated.token)).toBeNull()
    expect(await accounts.sessionFor(other)).not.toBeNull()
    expect(await accounts.endAllSessions(account.id)).toBe(1)
    expect(await accounts.sessionFor(other)).toBeNull()

    expect(await accounts.setStripeCustomer(account.id, 'cus_first')).toBe('cus_first')
    expect(await accounts.setStripeCustomer(account.id, 'cus_second')).toBe('cus_first')
    expect(await accounts.deleteAccount(account.id)).toBe(true)
    expect(await accounts.deleteAccount(account.id)).toBe(false)
    expect(await engine.count(sql`SELECT count(*) AS n FROM sign_in_tokens`)).toBe(0)
  })

  it.runIf(name === 'postgres')('a link clicked twice at once on two app servers signs in once', async () => {
    const servers = engine.appServers(2)
    try {
      for (let round = 0; round < 5; round++) {
        const link = (await accounts.issueLinkToken(`shopper${round}@example.com`, Date.now()))!
        const outcomes = await Promise.allSettled([accounts.signInWithLink(link, undefined), accounts.signInWithLink(link, undefined)])
        expect(tally(outcomes)).toEqual({ ok: 1, LinkNotValid: 1 })
      }
      expect(await engine.count(sql`SELECT count(*) AS n FROM account_sessions`)).toBe(5)
      expect(await engine.count(sql`SELECT count(*) AS n FROM accounts`)).toBe(5)
    } finally {
      await servers.end()
    }
  })
})
