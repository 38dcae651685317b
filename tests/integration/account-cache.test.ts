import fs from 'node:fs'
import path from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { startServer, submitActionForm, type ServerHandle } from '../support/server'
import { storeRows } from '../support/store-file'

// Against the production server with the response cache on: a shopper signs in through the
// emailed link, and nothing rendered for them (the account page, their data, any page they
// visit signed in) ever reaches another visitor from a cache.

let server: ServerHandle
const EMAIL = 'private.shopper@example.com'

beforeAll(async () => {
  server = await startServer()
})

afterAll(async () => {
  await server?.stop()
})

const get = (p: string, headers: Record<string, string> = {}) => fetch(`${server.url}${p}`, { headers, redirect: 'manual' })

/** The sign-in link mailed to `email`, read from STORAGE_DIR/mail as it is written. */
async function mailedLink(email: string): Promise<string> {
  const dir = path.join(server.storageDir, 'mail')
  for (let i = 0; i < 100; i++) {
    const files = fs.existsSync(dir) ? fs.readdirSync(dir).filter((f) => f.startsWith('sign-in-') && f.endsWith('.eml')) : []
    for (const file of files) {
      const raw = fs.readFileSync(path.join(dir, file), 'utf8').replace(/=\r?\n/g, '').replace(/=3D/g, '=')
      const link = /(\/account\/sign-in\/confirm\?token=[A-Za-z0-9_-]{43})/.exec(raw)?.[1]
      if (raw.includes(`To: ${email}`) && link) return link
    }
    await new Promise((r) => setTimeout(r, 200))
  }
  throw new Error('no sign-in link was mailed')
}

async function signIn(email: string): Promise<string> {
  const asked = await submitActionForm(server.url, '/account/sign-in', 'account-sign-in-form', { fields: { email } })
  expect(asked.status).toBe(303)
  expect(asked.headers.get('location')).toMatch(/\/account\/sign-in\?sent=1$/)
  const link = await mailedLink(email)
  const confirmed = await submitActionForm(server.url, link, 'confirm-sign-in')
  expect(confirmed.status).toBe(303)
  const cookie = confirmed.headers.getSetCookie().find((c) => c.startsWith('till_account='))!
  expect(cookie).toMatch(/HttpOnly/i)
  expect(cookie).toMatch(/SameSite=Lax/i)
  expect(cookie).toMatch(/Path=\//)
  return cookie.split(';')[0]!
}

describe('a signed-in shopper’s pages and the response cache', () => {
  it('never serve one shopper’s page to another visitor', async () => {
    const db = storeRows(server.storageDir)
    const { id: orderId } = (await db.get<{ id: number }>(
      `INSERT INTO orders (stripe_checkout_session_id, public_token, status, total_cents, currency, email, created_at) VALUES ('cs_test_private', 'privatetokenprivatetoken', 'paid', 4200, 'usd', ?, ?) RETURNING id`,
      EMAIL.toUpperCase(),
      Date.now(),
    ))!
    await db.close()

    const cookie = await signIn(EMAIL)
    // The same visits, twice, so a cache that would keep them has had its chance.
    for (let round = 0; round < 2; round++) {
      const mine = await get('/account', { cookie })
      expect(mine.status).toBe(200)
      expect(mine.headers.get('x-till-cache')).toBeNull()
      expect(mine.headers.get('cache-control')).toMatch(/no-store/)
      const html = await mine.text()
      expect(html).toContain(EMAIL)
      expect(html).toContain(`Order #${String(orderId).padStart(5, '0')}`)

      const data = await get('/account/data', { cookie })
      expect(data.headers.get('cache-control')).toMatch(/private, no-store/)
      expect(((await data.json()) as { account: { email: string } }).account.email).toBe(EMAIL)

      // Catalog pages look the same signed in: nothing personal is rendered into them.
      for (const p of ['/', '/products', '/cart', '/privacy']) {
        const page = await get(p, { cookie })
        expect(page.status, p).toBe(200)
        expect(await page.text(), p).not.toContain(EMAIL)
      }
    }

    // Another visitor, with no cookie or with their own cart cookie, gets none of it.
    const visitors: Record<string, string>[] = [{}, { cookie: 'till_cart=' + 'a'.repeat(43) }]
    for (const headers of visitors) {
      const account = await get('/account', headers)
      expect([303, 307]).toContain(account.status)
      expect(account.headers.get('location')).toMatch(/\/account\/sign-in$/)
      expect(await account.text()).not.toContain(EMAIL)
      const data = await get('/account/data', headers)
      expect(data.status).toBe(401)
      expect(await data.text()).not.toContain(EMAIL)
      for (const p of ['/', '/products', '/cart', '/account/sign-in', '/account/sign-in?sent=1', '/privacy']) {
        expect(await (await get(p, headers)).text(), p).not.toContain(EMAIL)
      }
    }

    // Signing out ends the session: the old cookie opens nothing.
    const out = await submitActionForm(server.url, '/account', 'data-testid="sign-out"', { cookie })
    expect(out.status).toBe(303)
    const after = await get('/account', { cookie })
    expect([303, 307]).toContain(after.status)
    expect(await after.text()).not.toContain(EMAIL)
  })
})
