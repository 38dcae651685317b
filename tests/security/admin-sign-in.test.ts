import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { getDb } from '@/db'
import * as adminAuth from '@/lib/admin-auth'
import { InvalidInput } from '@/lib/errors'
import { freshStore, type TestDb } from '../support/db'
import { npmRun } from '../support/npm-run'

// Sign-in lockout an attacker cannot aim at the owner: failures from forged or rented
// addresses slow the owner's email down but never lock it, while each attacking address is
// refused after its own few tries; and the owner has a way back in from the server.

let t: TestDb
beforeEach(() => {
  t = freshStore()
})
afterEach(() => {
  t.close()
})

const OWNER = { email: 'owner@example.com', password: 'a long enough password' }

describe('admin sign-in under attack', () => {
  it('after 100 failures from 100 forged addresses the owner still signs in from a new address, only slowed', async () => {
    await adminAuth.createAdmin(OWNER.email, OWNER.password)
    const waits: number[] = []
    const wait = async (ms: number) => void waits.push(ms)
    for (let i = 0; i < 100; i++) {
      await expect(adminAuth.signIn(OWNER.email, `guess ${i}`, `198.51.100.${i}`, Date.now(), wait)).rejects.toBeInstanceOf(InvalidInput)
    }
    // the guesses were slowed, up to the cap
    expect(Math.max(...waits)).toBe(adminAuth.MAX_SLOWDOWN_MS)
    const { admin } = await adminAuth.signIn(OWNER.email, OWNER.password, '203.0.113.50', Date.now(), wait)
    expect(admin.email).toBe(OWNER.email)
    expect(waits.at(-1)).toBeLessThanOrEqual(adminAuth.MAX_SLOWDOWN_MS)
  })

  it('one address is refused after its own few failures, for the owner email and for any other', async () => {
    await adminAuth.createAdmin(OWNER.email, OWNER.password)
    const noWait = async () => undefined
    for (let i = 0; i < adminAuth.MAX_FAILURES_PER_EMAIL_AND_CLIENT; i++) {
      await expect(adminAuth.signIn(OWNER.email, 'nope', '198.51.100.1', Date.now(), noWait)).rejects.toBeInstanceOf(InvalidInput)
    }
    await expect(adminAuth.signIn(OWNER.email, OWNER.password, '198.51.100.1', Date.now(), noWait)).rejects.toBeInstanceOf(adminAuth.RateLimited)
    for (let i = 0; i < adminAuth.MAX_FAILURES_PER_CLIENT; i++) {
      await adminAuth.signIn(`someone${i}@example.com`, 'nope', '198.51.100.2', Date.now(), noWait).catch(() => undefined)
    }
    await expect(adminAuth.signIn(OWNER.email, OWNER.password, '198.51.100.2', Date.now(), noWait)).rejects.toBeInstanceOf(adminAuth.RateLimited)
    // the owner, elsewhere, is unaffected
    await expect(adminAuth.signIn(OWNER.email, OWNER.password, '203.0.113.9', Date.now(), noWait)).resolves.toMatchObject({ admin: { email: OWNER.email } })
  })

  it('npm run admin:unlock forgets the failures of an email, and the owner gets in from the locked address', async () => {
    await adminAuth.createAdmin(OWNER.email, OWNER.password)
    const noWait = async () => undefined
    for (let i = 0; i < adminAuth.MAX_FAILURES_PER_EMAIL_AND_CLIENT; i++) {
      await adminAuth.signIn(OWNER.email, 'nope', '198.51.100.1', Date.now(), noWait).catch(() => undefined)
    }
    await expect(adminAuth.signIn(OWNER.email, OWNER.password, '198.51.100.1', Date.now(), noWait)).rejects.toBeInstanceOf(adminAuth.RateLimited)
    const failures = () => (getDb().$client.prepare('SELECT count(*) AS n FROM admin_login_failures').get() as { n: number }).n
    expect(failures()).toBeGreaterThan(0)
    const run = await npmRun('admin:unlock', ['Owner@Example.com'], { STORAGE_DIR: t.dir, PAYMENTS: 'emulator' })
    expect(run.code, run.stderr).toBe(0)
    expect(run.stdout).toMatch(/admin:unlock: forgot \d+ failed sign-ins? of owner@example\.com/)
    await expect(adminAuth.signIn(OWNER.email, OWNER.password, '198.51.100.1', Date.now(), noWait)).resolves.toMatchObject({ admin: { email: OWNER.email } })
  })
})
