import fs from 'node:fs'
import path from 'node:path'
import { eq } from 'drizzle-orm'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { getDb } from '@/db'
import { accountSessions, accounts as accountsTable, jobs as jobsTable, orders as ordersTable, signInTokens } from '@/db/schema'
import * as accounts from '@/lib/accounts'
import * as cart from '@/lib/cart'
import { resetEnv } from '@/lib/env'
import { InvalidInput, RateLimited } from '@/lib/errors'
import * as jobs from '@/lib/jobs'
import { handlers } from '@/lib/jobs/handlers'
import { freshStore, type TestDb } from '../support/db'
import { rejected } from '../support/thrown'
import { createCart, createOrder, createVariant } from '../support/factories'

// Sign-in by email link, sessions, the account's orders and addresses, buy again, the data
// export and deletion, on a real database with the real job queue writing real .eml files.

let t: TestDb
beforeEach(() => {
  t = freshStore()
})
afterEach(() => {
  t.close()
  delete process.env.SIGN_IN_LIMIT_PER_ADDRESS
  resetEnv()
})

const MINUTE = 60_000

/** The sign-in links in the mail folder, as the shopper would click them. */
function mailedTokens(): { to: string; token: string }[] {
  const dir = path.join(t.dir, 'mail')
  if (!fs.existsSync(dir)) return []
  return fs
    .readdirSync(dir)
    .filter((f) => f.startsWith('sign-in-'))
    .map((f) => {
      const raw = fs.readFileSync(path.join(dir, f), 'utf8').replace(/=\r?\n/g, '').replace(/=3D/g, '=')
      return { to: /^To: (.*)$/m.exec(raw)![1]!.trim(), token: /confirm\?token=([A-Za-z0-9_-]{43})/.exec(raw)![1]! }
    })
}

async function linkFor(email: string, now = Date.now()): Promise<string> {
  const before = new Set(mailedTokens().map((m) => m.token))
  await accounts.requestLink(email, '203.0.113.9', now)
  await jobs.drain(handlers)
  const fresh = mailedTokens().filter((m) => !before.has(m.token))
  expect(fresh).toHaveLength(1)
  return fresh[0]!.token
}


describe('asking for a sign-in link', () => {
  it('answers a known and an unknown address alike: one queued mail each, nothing else', async () => {
    const known = await linkFor('known@example.com')
    await accounts.signInWithLink(known, undefined)
    const jobsBefore = getDb().select().from(jobsTable).all().length
    await accounts.requestLink('Known@Example.com ', '203.0.113.1')
    await accounts.requestLink('stranger@example.com', '203.0.113.2')
    const queued = getDb().select().from(jobsTable).all().slice(jobsBefore)
    expect(queued.map((j) => [j.kind, Object.keys(j.payload).sort()])).toEqual([
      [accounts.MAIL_JOB, ['email', 'requestedAt']],
      [accounts.MAIL_JOB, ['email', 'requestedAt']],
    ])
    // no account is made for an address until its link is followed
    expect(getDb().select().from(accountsTable).all().map((a) => a.email)).toEqual(['known@example.com'])
  })

  it('refuses a bad address with a plain message', async () => {
    expect(await rejected(accounts.requestLink('', null))).toBeInstanceOf(InvalidInput)
    expect((await rejected(accounts.requestLink('not-an-email', null))).message).toMatch(/valid email/)
    expect(await rejected(accounts.requestLink({ email: 'x' }, null))).toBeInstanceOf(InvalidInput)
  })

  it('stores only hashes: the token is in the email and nowhere in the database', async () => {
    const token = await linkFor('sam@example.com')
    const bytes = fs.readFileSync(t.file).toString('latin1') + (fs.existsSync(`${t.file}-wal`) ? fs.readFileSync(`${t.file}-wal`).toString('latin1') : '')
    expect(bytes).not.toContain(token)
    expect(getDb().select().from(signInTokens).all()).toHaveLength(1)
    expect(JSON.stringify(getDb().select().from(jobsTable).all())).not.toContain(token)
  })

  it('limits each client address (a clear message) and mails an address at most 3 links per 15 minutes, silently', async () => {
    process.env.SIGN_IN_LIMIT_PER_ADDRESS = '2'
    resetEnv()
    const now = Date.now()
    await accounts.requestLink('a@example.com', '198.51.100.1', now)
    await accounts.requestLink('b@example.com', '198.51.100.1', now)
    const err = await rejected(accounts.requestLink('c@example.com', '198.51.100.1', now))
    expect(err).toBeInstanceOf(RateLimited)
    expect(err.message).toMatch(/wait a few minutes/)

    // From many addresses, at one victim: the answer stays the same, mail stops at three…
    for (let i = 0; i < 6; i++) await accounts.requestLink('victim@example.com', `192.0.2.${i}`, now)
    const toVictim = () => getDb().select().from(jobsTable).all().filter((j) => j.payload.email === 'victim@example.com').length
    expect(toVictim()).toBe(3)
    // …and the links already mailed still sign the victim in, so nobody is locked out; once
    // 15 minutes have passed a new link is mailed again.
    await accounts.requestLink('victim@example.com', '192.0.2.200', now + 15 * MINUTE + 1)
    expect(toVictim()).toBe(4)
  })

  it('drops a request too old to be worth mailing', async () => {
    expect(await accounts.issueLinkToken('late@example.com', Date.now() - 16 * MINUTE)).toBeNull()
  })
})

describe('following the link', () => {
  it('signs in once: creates the account, opens a session, and the link (and every other one) is used up', async () => {
    const first = await linkFor('sam@example.com')
    const second = await linkFor('sam@example.com')
    expect(await accounts.linkEmail(first)).toBe('sam@example.com')
    const { token, account } = await accounts.signInWithLink(first, undefined)
    expect(account.email).toBe('sam@example.com')
    expect((await accounts.sessionFor(token))?.email).toBe('sam@example.com')
    expect(await rejected(accounts.signInWithLink(first, undefined))).toBeInstanceOf(accounts.LinkNotValid)
    expect(await rejected(accounts.signInWithLink(second, undefined))).toBeInstanceOf(accounts.LinkNotValid)
    expect(await accounts.linkEmail(first)).toBeNull()
    // a second sign-in later finds the same account
    const again = await accounts.signInWithLink(await linkFor('SAM@example.com'), undefined)
    expect(again.account.id).toBe(account.id)
  })

  it('refuses a link after 15 minutes, and anything that is not a token', async () => {
    const now = Date.now()
    const token = await linkFor('late@example.com', now)
    expect(await rejected(accounts.signInWithLink(token, undefined, now + 15 * MINUTE + 1000))).toBeInstanceOf(accounts.LinkNotValid)
    expect(await rejected(accounts.signInWithLink("' OR 1=1 --", undefined))).toBeInstanceOf(accounts.LinkNotValid)
    expect(await rejected(accounts.signInWithLink(undefined, undefined))).toBeInstanceOf(accounts.LinkNotValid)
  })

  it('rotates: the session the browser came with ends, a new one begins', async () => {
    const old = (await accounts.signInWithLink(await linkFor('sam@example.com'), undefined)).token
    const fresh = (await accounts.signInWithLink(await linkFor('sam@example.com'), old)).token
    expect(fresh).not.toBe(old)
    expect(await accounts.sessionFor(old)).toBeNull()
    expect(await accounts.sessionFor(fresh)).not.toBeNull()
  })
})

describe('sessions', () => {
  it('slide while used, expire when idle or too old, and end everywhere at once', async () => {
    const now = Date.now()
    const { token, account } = await accounts.signInWithLink(await linkFor('sam@example.com', now), undefined, now)
    const expiry = () => getDb().select().from(accountSessions).where(eq(accountSessions.accountId, account.id)).get()!.expiresAt
    expect(expiry()).toBe(now + accounts.IDLE_MS)
    const later = now + 10 * 24 * 3600_000
    expect(await accounts.sessionFor(token, later)).not.toBeNull()
    expect(expiry()).toBe(later + accounts.IDLE_MS)
    expect(await accounts.sessionFor(token, later + accounts.IDLE_MS + 1)).toBeNull()
    expect(await accounts.sessionFor(token, now + accounts.ABSOLUTE_MS + 1)).toBeNull()

    const other = (await accounts.signInWithLink(await linkFor('sam@example.com'), undefined)).token
    expect(await accounts.endAllSessions(account.id)).toBe(2)
    expect(await accounts.sessionFor(token)).toBeNull()
    expect(await accounts.sessionFor(other)).toBeNull()
  })

  it('sign-out ends only this browser', async () => {
    const a = (await accounts.signInWithLink(await linkFor('sam@example.com'), undefined)).token
    const b = (await accounts.signInWithLink(await linkFor('sam@example.com'), undefined)).token
    await accounts.endSession(a)
    expect(await accounts.sessionFor(a)).toBeNull()
    expect(await accounts.sessionFor(b)).not.toBeNull()
  })
})

describe('the account', () => {
  const address = (line1: string) => ({ name: 'Sam Shopper', line1, line2: null, city: 'Portland', state: 'ME', postalCode: '04101', country: 'US' })

  it('lists every order placed with its address, guest orders before the account and any case included, and each address once', async () => {
    const older = createOrder({ email: 'Sam@Example.com', createdAt: Date.now() - 86_400_000, shippingAddress: address('1 Harbour Street'), carrier: 'UPS', trackingNumber: '1Z999' })
    const newer = createOrder({ email: 'sam@example.com', shippingAddress: address('1 Harbour Street') })
    const elsewhere = createOrder({ email: 'sam@example.com', shippingAddress: address('9 Dock Road'), createdAt: Date.now() - 2 * 86_400_000 })
    createOrder({ email: 'someone-else@example.com' })
    const { token } = await accounts.signInWithLink(await linkFor('sam@example.com'), undefined)
    const account = (await accounts.sessionFor(token))!
    const view = await accounts.overview(account)
    expect(view.orders.map((o) => o.id)).toEqual([newer.id, older.id, elsewhere.id])
    expect(view.orders[1]!.trackingNumber).toBe('1Z999')
    expect(view.orders[0]!.lines).toHaveLength(1)
    expect(view.addresses.map((a) => a.line1)).toEqual(['1 Harbour Street', '9 Dock Road'])
    expect((await accounts.orderOf(account, older.id))?.id).toBe(older.id)
    expect(await accounts.orderOf(account, createOrder({ email: 'x@example.com' }).id)).toBeNull()
  })

  it('buy again puts back what can be sold now, up to what was ordered, and names what cannot', async () => {
    const plenty = createVariant({ stock: 10 })
    const few = createVariant({ stock: 1 })
    const gone = createVariant({ stock: 0 })
    const order = createOrder({
      lines: [
        { variantId: plenty.id, quantity: 2, title: 'Mug' },
        { variantId: few.id, quantity: 3, title: 'Scarf' },
        { variantId: gone.id, quantity: 1, title: 'Hat' },
        { variantId: null, quantity: 1, title: 'Deleted thing' },
      ],
    })
    const { id } = createCart()
    const lines = (await accounts.overview({ email: order.email! })).orders[0]!.lines
    const result = await cart.addAgain(id, lines)
    expect(result).toEqual({ added: ['Mug', 'Scarf'], skipped: ['Hat', 'Deleted thing'] })
    expect((await cart.load(id))!.lines.map((l) => [l.variantId, l.quantity])).toEqual([
      [plenty.id, 2],
      [few.id, 1],
    ])
  })

  it('exports the shopper’s data, and deleting the account keeps the orders, signs out everywhere and forgets the address', async () => {
    const order = createOrder({ email: 'sam@example.com', shippingAddress: address('1 Harbour Street') })
    const { token } = await accounts.signInWithLink(await linkFor('sam@example.com'), undefined)
    const account = (await accounts.sessionFor(token))!
    const data = await accounts.exportData(account)
    expect(data.account.email).toBe('sam@example.com')
    expect(data.orders.map((o) => o.number)).toEqual([order.id])
    expect(data.addresses).toHaveLength(1)
    expect(JSON.parse(JSON.stringify(data))).toEqual(data)

    expect(await accounts.deleteAccount(account.id)).toBe(true)
    expect(await accounts.sessionFor(token)).toBeNull()
    expect(getDb().select().from(accountsTable).all()).toEqual([])
    expect(getDb().select().from(signInTokens).all()).toEqual([])
    expect(getDb().select({ id: ordersTable.id, email: ordersTable.email }).from(ordersTable).all()).toEqual([{ id: order.id, email: 'sam@example.com' }])
    expect(await accounts.deleteAccount(account.id)).toBe(false)
  })
})
