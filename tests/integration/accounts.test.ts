import { sql } from 'drizzle-orm'
import { describe, expect, it } from 'vitest'
import * as accounts from '@/lib/accounts'
import * as optOuts from '@/lib/mail-opt-outs'
import { ENGINES, useEngine, type TestEngine } from '../support/engines'

// The shopper's account (lib/accounts.ts) on both engines through db/tx.ts: asking for a link
// queues its email, the account page's orders and addresses, and the data download with the
// address's opt-outs (lib/mail-opt-outs.ts forEmail). Every figure is read back from the rows.

const DAY = 86_400_000
const address = (line1: string) => ({ name: 'Sam Shopper', line1, line2: null, city: 'Portland', state: 'ME', postalCode: '04101', country: 'US' })

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

describe.each(ENGINES)('the shopper’s account on %s', (name) => {
  const engine = useEngine(name)

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
})
