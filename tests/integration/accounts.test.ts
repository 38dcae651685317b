import fs from 'node:fs'
import path from 'node:path'
import { sql } from 'drizzle-orm'
import { afterEach, describe, expect, it } from 'vitest'
import * as accounts from '@/lib/accounts'
import * as cart from '@/lib/cart'
import { resetEnv } from '@/lib/env'
import { InvalidInput, RateLimited } from '@/lib/errors'
import * as jobs from '@/lib/jobs'
import { handlers } from '@/lib/jobs/handlers'
import * as optOuts from '@/lib/mail-opt-outs'
import { insertCartRow, insertOrderRow, parsed } from '../support/engine-admin-rows'
import { insertVariant } from '../support/engine-catalog'
import { ENGINES, useEngine, type TestEngine } from '../support/engines'
import { useStorageDir } from '../support/storage-dir'
import { rejected } from '../support/thrown'

// The shopper's account (lib/accounts.ts) on both engines through db/tx.ts: asking for a link
// queues its email, the account page's orders and addresses, and the data download with the
// address's opt-outs (lib/mail-opt-outs.ts forEmail). Every figure is read back from the rows.
// Sign-in by email link with the real job queue writing real .eml files: links that work once
// and are stored only as hashes, limits per client and per address, sessions that slide and
// end, buy again, and deleting the account.

const DAY = 86_400_000
const address = (line1: string) => ({ name: 'Sam Shopper', line1, line2: null, city: 'Portland', state: 'ME', postalCode: '04101', country: 'US' })

const MINUTE = 60_000

afterEach(() => {
  delete process.env.SIGN_IN_LIMIT_PER_ADDRESS
  resetEnv()
})

let made = 0
/** An order placed with `email`, one line of `quantity` mugs at $25, inserted with raw SQL on either engine; its id. */
async function orderRow(engine: TestEngine, email: string, createdAt: number, shipTo: ReturnType<typeof address> | null, quantity = 1): Promise<number> {
  const n = ++made
  const [order] = await engine.rows<{ id: number | string }>(sql`
    INSERT INTO orders (stripe_checkout_session_id, public_token, status, total_cents, subtotal_cents, currency, email, shipping_address, created_at, updated_at)
    VALUES (${`cs_account_${n}`}, ${`token_account_${n}_abcdefghijklmnopqrstu`}, 'paid', ${2500 * quantity}, ${2500 * quantity}, 'usd', ${email}, ${shipTo ? JSON.stringify(shipTo) : null}, ${createdAt}, ${createdAt})
    RETURNING id`)
  const id = Number(order!.id)
  await engine.rows(sql`INSERT INTO order_lines (order_id, title, quantity, unit_amount_cents, total_cents) VALUES (${id}, 'Harbor Mug', ${quantity}, 2500, ${2500 * quantity}) RETURNING id`)
  return id
}

/** Signs `email` in through a link, as the mail job and the confirm page do; the account. */
async function signedIn(email: string): Promise<accounts.Account> {
  const link = (await accounts.issueLinkToken(email, Date.now()))!
  const { token } = await accounts.signInWithLink(link, undefined)
  return (await accounts.sessionFor(token))!
}

/** The sign-in links in the mail folder, as the shopper would click them. */
function mailedTokens(): { to: string; token: string }[] {
  const dir = path.join(process.env.STORAGE_DIR!, 'mail')
  if (!fs.existsSync(dir)) return []
  return fs
    .readdirSync(dir)
    .filter((f) => f.startsWith('sign-in-'))
    .map((f) => {
      const raw = fs.readFileSync(path.join(dir, f), 'utf8').replace(/=\r?\n/g, '').replace(/=3D/g, '=')
      return { to: /^To: (.*)$/m.exec(raw)![1]!.trim(), token: /confirm\?token=([A-Za-z0-9_-]{43})/.exec(raw)![1]! }
    })
}

/** Asks for a link for `email` and runs the queue; the token in the one new mail. */
async function linkFor(email: string, now = Date.now()): Promise<string> {
  const before = new Set(mailedTokens().map((m) => m.token))
  await accounts.requestLink(email, '203.0.113.9', now)
  await jobs.drain(handlers)
  const fresh = mailedTokens().filter((m) => !before.has(m.token))
  expect(fresh).toHaveLength(1)
  return fresh[0]!.token
}

/** The queued jobs, oldest first, their payloads parsed. */
const queued = async (engine: TestEngine) =>
  (await engine.rows<{ kind: string; payload: unknown }>(sql`SELECT kind, payload FROM jobs ORDER BY id`)).map((j) => ({ kind: j.kind, payload: parsed(j.payload) as Record<string, unknown> }))

/** Every row of every table as text: what anyone reading the database would see. */
async function everyRow(engine: TestEngine): Promise<string> {
  const tables = await engine.rows<{ name: string }>(sql`SELECT tablename AS name FROM pg_tables WHERE schemaname = 'public'`)
  const texts: string[] = []
  for (const { name } of tables) texts.push(...(await engine.rows<{ row: string }>(sql`SELECT t::text AS row FROM ${sql.identifier(name)} t`)).map((r) => r.row))
  return texts.join('\n')
}

describe.each(ENGINES)('the shopper’s account on %s', (name) => {
  const engine = useEngine(name)
  useStorageDir(engine)

  it('asking for a link queues one email job for the address', async () => {
    await accounts.requestLink(' Sam@Example.com ', '10.0.0.7')
    const jobs = await engine.rows<{ kind: string; payload: unknown; maxAttempts: number | string }>(sql`SELECT kind, payload, max_attempts AS "maxAttempts" FROM jobs`)
    expect(jobs.map((j) => [j.kind, (typeof j.payload === 'string' ? JSON.parse(j.payload) : j.payload) as { email: string }, Number(j.maxAttempts)])).toEqual([
      [accounts.MAIL_JOB, expect.objectContaining({ email: 'sam@example.com' }), 4],
    ])
  })

  it('lists every order placed with the address, newest first, any case, with lines, and each address shipped to once', async () => {
    const now = Date.now()
    const older = await orderRow(engine, 'Sam@Example.com', now - DAY, address('1 Harbour Street'))
    const newer = await orderRow(engine, 'sam@example.com', now, address('1 Harbour Street'), 3)
    const elsewhere = await orderRow(engine, 'sam@example.com', now - 2 * DAY, address('9 Dock Road'))
    await orderRow(engine, 'someone-else@example.com', now, address('5 Quay Lane'))
    const account = await signedIn('sam@example.com')
    const view = await accounts.overview(account)
    const inDb = await engine.rows<{ id: number | string }>(sql`SELECT id FROM orders WHERE lower(email) = 'sam@example.com' ORDER BY created_at DESC`)
    expect(view.orders.map((o) => o.id)).toEqual(inDb.map((r) => Number(r.id)))
    expect(view.orders.map((o) => o.id)).toEqual([newer, older, elsewhere])
    expect(view.orders.map((o) => [o.totalCents, o.lines.map((l) => l.quantity)])).toEqual([
      [7500, [3]],
      [2500, [1]],
      [2500, [1]],
    ])
    expect(view.addresses.map((a) => a.line1)).toEqual(['1 Harbour Street', '9 Dock Road'])
  })

  it('exports the orders, addresses, sessions and opt-outs the database keeps for the address', async () => {
    const order = await orderRow(engine, 'sam@example.com', Date.now(), address('1 Harbour Street'), 2)
    await engine.rows(sql`INSERT INTO mail_opt_outs (email, kind, created_at) VALUES ('sam@example.com', 'stock_alert', 1), ('sam@example.com', 'checkout_reminder', 2), ('kim@example.com', 'stock_alert', 3) RETURNING email`)
    const account = await signedIn('sam@example.com')
    await signedIn('sam@example.com')
    const data = await accounts.exportData(account)
    expect(data.account).toMatchObject({ email: 'sam@example.com', hasStripeCustomer: false })
    expect(data.account.activeSessions).toBe(await engine.count(sql`SELECT count(*) AS n FROM account_sessions WHERE account_id = ${account.id}`))
    expect(data.account.activeSessions).toBe(2)
    expect(data.orders.map((o) => [o.number, o.totalCents, o.lines.map((l) => [l.quantity, l.totalCents])])).toEqual([[order, 5000, [[2, 5000]]]])
    expect(data.addresses.map((a) => a.line1)).toEqual(['1 Harbour Street'])
    expect(data.unsubscribedFrom).toEqual(['checkout_reminder', 'stock_alert'])
    expect(await optOuts.forEmail('kim@example.com')).toEqual(['stock_alert'])
    expect(await optOuts.forEmail('nobody@example.com')).toEqual([])
    expect(JSON.parse(JSON.stringify(data))).toEqual(data)
  })

  describe('asking for a sign-in link', () => {
    it('answers a known and an unknown address alike: one queued mail each, nothing else', async () => {
      const known = await linkFor('known@example.com')
      await accounts.signInWithLink(known, undefined)
      const jobsBefore = (await queued(engine)).length
      await accounts.requestLink('Known@Example.com ', '203.0.113.1')
      await accounts.requestLink('stranger@example.com', '203.0.113.2')
      const fresh = (await queued(engine)).slice(jobsBefore)
      expect(fresh.map((j) => [j.kind, Object.keys(j.payload).sort()])).toEqual([
        [accounts.MAIL_JOB, ['email', 'requestedAt']],
        [accounts.MAIL_JOB, ['email', 'requestedAt']],
      ])
      // no account is made for an address until its link is followed
      expect((await engine.rows<{ email: string }>(sql`SELECT email FROM accounts`)).map((a) => a.email)).toEqual(['known@example.com'])
    })

    it('refuses a bad address with a plain message', async () => {
      expect(await rejected(accounts.requestLink('', null))).toBeInstanceOf(InvalidInput)
      expect((await rejected(accounts.requestLink('not-an-email', null))).message).toMatch(/valid email/)
      expect(await rejected(accounts.requestLink({ email: 'x' }, null))).toBeInstanceOf(InvalidInput)
    })

    it('stores only hashes: the token is in the email and nowhere in the database', async () => {
      const token = await linkFor('sam@example.com')
      if (name === 'sqlite') {
        // the file's bytes, its write-ahead log too
        const file = path.join(process.env.STORAGE_DIR!, 'store.sqlite3')
        const bytes = fs.readFileSync(file).toString('latin1') + (fs.existsSync(`${file}-wal`) ? fs.readFileSync(`${file}-wal`).toString('latin1') : '')
        expect(bytes).not.toContain(token)
      } else {
        expect(await everyRow(engine)).not.toContain(token)
      }
      expect(await engine.count(sql`SELECT count(*) AS n FROM sign_in_tokens`)).toBe(1)
      expect(JSON.stringify(await queued(engine))).not.toContain(token)
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
      const toVictim = async () => (await queued(engine)).filter((j) => j.payload.email === 'victim@example.com').length
      expect(await toVictim()).toBe(3)
      // …and the links already mailed still sign the victim in, so nobody is locked out; once
      // 15 minutes have passed a new link is mailed again.
      await accounts.requestLink('victim@example.com', '192.0.2.200', now + 15 * MINUTE + 1)
      expect(await toVictim()).toBe(4)
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
      const expiry = async () => engine.count(sql`SELECT expires_at AS n FROM account_sessions WHERE account_id = ${account.id}`)
      expect(await expiry()).toBe(now + accounts.IDLE_MS)
      const later = now + 10 * 24 * 3600_000
      expect(await accounts.sessionFor(token, later)).not.toBeNull()
      expect(await expiry()).toBe(later + accounts.IDLE_MS)
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
    it('lists every order placed with its address, guest orders before the account and any case included, and each address once', async () => {
      const older = await insertOrderRow(engine, { email: 'Sam@Example.com', createdAt: Date.now() - DAY, shippingAddress: address('1 Harbour Street'), carrier: 'UPS', trackingNumber: '1Z999' })
      const newer = await insertOrderRow(engine, { email: 'sam@example.com', shippingAddress: address('1 Harbour Street') })
      const elsewhere = await insertOrderRow(engine, { email: 'sam@example.com', shippingAddress: address('9 Dock Road'), createdAt: Date.now() - 2 * DAY })
      await insertOrderRow(engine, { email: 'someone-else@example.com' })
      const { token } = await accounts.signInWithLink(await linkFor('sam@example.com'), undefined)
      const account = (await accounts.sessionFor(token))!
      const view = await accounts.overview(account)
      expect(view.orders.map((o) => o.id)).toEqual([newer.id, older.id, elsewhere.id])
      expect(view.orders[1]!.trackingNumber).toBe('1Z999')
      expect(view.orders[0]!.lines).toHaveLength(1)
      expect(view.addresses.map((a) => a.line1)).toEqual(['1 Harbour Street', '9 Dock Road'])
      expect((await accounts.orderOf(account, older.id))?.id).toBe(older.id)
      expect(await accounts.orderOf(account, (await insertOrderRow(engine, { email: 'x@example.com' })).id)).toBeNull()
    })

    it('buy again puts back what can be sold now, up to what was ordered, and names what cannot', async () => {
      const plenty = await insertVariant(engine, { stock: 10 })
      const few = await insertVariant(engine, { stock: 1 })
      const gone = await insertVariant(engine, { stock: 0 })
      const order = await insertOrderRow(engine, {
        lines: [
          { variantId: plenty, quantity: 2, title: 'Mug' },
          { variantId: few, quantity: 3, title: 'Scarf' },
          { variantId: gone, quantity: 1, title: 'Hat' },
          { variantId: null, quantity: 1, title: 'Deleted thing' },
        ],
      })
      const id = await insertCartRow(engine)
      const lines = (await accounts.overview({ email: order.email! })).orders[0]!.lines
      const result = await cart.addAgain(id, lines)
      expect(result).toEqual({ added: ['Mug', 'Scarf'], skipped: ['Hat', 'Deleted thing'] })
      expect((await cart.load(id))!.lines.map((l) => [l.variantId, l.quantity])).toEqual([
        [plenty, 2],
        [few, 1],
      ])
    })

    it('exports the shopper’s data, and deleting the account keeps the orders, signs out everywhere and forgets the address', async () => {
      const order = await insertOrderRow(engine, { email: 'sam@example.com', shippingAddress: address('1 Harbour Street') })
      const { token } = await accounts.signInWithLink(await linkFor('sam@example.com'), undefined)
      const account = (await accounts.sessionFor(token))!
      const data = await accounts.exportData(account)
      expect(data.account.email).toBe('sam@example.com')
      expect(data.orders.map((o) => o.number)).toEqual([order.id])
      expect(data.addresses).toHaveLength(1)
      expect(JSON.parse(JSON.stringify(data))).toEqual(data)

      expect(await accounts.deleteAccount(account.id)).toBe(true)
      expect(await accounts.sessionFor(token)).toBeNull()
      expect(await engine.rows(sql`SELECT * FROM accounts`)).toEqual([])
      expect(await engine.rows(sql`SELECT * FROM sign_in_tokens`)).toEqual([])
      expect((await engine.rows<{ id: unknown; email: string }>(sql`SELECT id, email FROM orders`)).map((o) => ({ id: Number(o.id), email: o.email }))).toEqual([{ id: order.id, email: 'sam@example.com' }])
      expect(await accounts.deleteAccount(account.id)).toBe(false)
    })
  })
})
