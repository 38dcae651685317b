import { sql } from 'drizzle-orm'
import { afterEach, describe, expect, it } from 'vitest'
import { transaction } from '@/db/tx'
import * as adminAuth from '@/lib/admin-auth'
import * as dashboard from '@/lib/dashboard'
import { resetEnv } from '@/lib/env'
import { captureLogs } from '@/lib/log'
import * as inventory from '@/lib/inventory'
import { exportCsv, parseFilters } from '@/lib/orders/list'
import * as products from '@/lib/products'
import { collect } from '../support/collect'
import { insertVariant } from '../support/engine-catalog'
import { ENGINES, useEngine, type TestEngine } from '../support/engines'

// The admin's domain rules on both engines: passwords and sessions, the stock ledger, the
// first admin at boot, catalog validation, the orders CSV export and the dashboard's totals.
// The rules that touch no database are tests/unit/admin.test.ts; the lockout and password
// changes are tests/integration/sessions.test.ts.

const PASSWORD = 'a long enough password'
const count = (engine: TestEngine, table: string) => engine.count(sql`SELECT count(*) AS n FROM ${sql.identifier(table)}`)

describe.each(ENGINES)('the admin on %s', (name) => {
  const engine = useEngine(name)

  describe('admin sign-in', () => {
    it('hashes with scrypt, stores only the token hash, and slides the session', async () => {
      const admin = await adminAuth.createAdmin('Owner@Example.com', PASSWORD)
      expect(admin.email).toBe('owner@example.com')
      const [stored] = await engine.rows<{ h: string }>(sql`SELECT password_hash AS h FROM admin_users`)
      expect(stored!.h).toMatch(/^scrypt\$16384\$8\$1\$/)
      const { token } = await adminAuth.signIn('owner@example.com', PASSWORD, '10.0.0.1')
      expect(await engine.count(sql`SELECT count(*) AS n FROM admin_sessions WHERE id = ${token}`)).toBe(0)
      const now = Date.now()
      expect((await adminAuth.sessionFor(token, now))?.email).toBe('owner@example.com')
      // used an hour later, the expiry moves an hour on
      const later = now + 3600_000
      expect(await adminAuth.sessionFor(token, later)).not.toBeNull()
      expect(await adminAuth.sessionFor(token, later + adminAuth.IDLE_MS - 1000)).not.toBeNull()
      // unused for longer than the idle time, it is gone
      expect(await adminAuth.sessionFor(token, later + 3 * adminAuth.IDLE_MS)).toBeNull()
      await adminAuth.endSession(token)
      expect(await adminAuth.sessionFor(token)).toBeNull()
    })
  })

  describe('stock ledger', () => {
    it('records adjustments, refuses to go below zero and records sales', async () => {
      const variantId = await insertVariant(engine, { stock: 2 })
      const actor = { id: 0, email: 'system@test' }
      await expect(inventory.adjustByAdmin(actor, { variantId, delta: -3, note: 'broken' })).rejects.toThrow(/below zero/)
      await expect(inventory.adjustByAdmin(actor, { variantId, delta: 4, note: ' ' })).rejects.toThrow(/why/)
      expect(await count(engine, 'stock_ledger')).toBe(0)
      await engine.rows(sql`INSERT INTO admin_users (id, email, password_hash) VALUES (1, 'a@b.c', 'x') RETURNING id`)
      expect(await inventory.adjustByAdmin({ id: 1, email: 'a@b.c' }, { variantId, delta: 4, note: 'delivery' })).toEqual({ stockBefore: 2, stockAfter: 6 })
      await transaction((tx, tables) => inventory.committingSale(tx, tables, 'cs_test_ledger', null, [{ variantId, quantity: 2 }]))
      const rows = await inventory.ledgerFor(variantId)
      expect(rows.map((r) => [r.reason, r.delta, r.stockAfter])).toEqual([
        ['sale', -2, 4],
        ['adjust', 4, 6],
      ])
      expect(await count(engine, 'audit_log')).toBe(1)
    })
  })

  describe('the first admin at boot', () => {
    const set = (vars: Record<string, string>) => {
      Object.assign(process.env, vars)
      resetEnv()
    }
    const KEYS = ['SEED_DEMO', 'PAYMENTS', 'ADMIN_EMAIL', 'ADMIN_PASSWORD', 'APP_URL', 'LOG_LEVEL']
    afterEach(() => {
      for (const key of KEYS) delete process.env[key]
      resetEnv()
    })

    it('gives a demo an owner with a random password, said once in the log with where to sign in', async () => {
      set({ SEED_DEMO: '1', PAYMENTS: 'emulator', APP_URL: 'http://localhost:3000', LOG_LEVEL: 'info' })
      const logs = captureLogs()
      try {
        expect(await adminAuth.ensureBootAdmin()).toEqual({ email: adminAuth.DEMO_OWNER_EMAIL, source: 'demo' })
        // a restart makes no other owner and says nothing more
        expect(await adminAuth.ensureBootAdmin()).toBeNull()
      } finally {
        logs.stop()
      }
      const said = logs.lines.filter((l) => l.includes('demo: '))
      expect(said).toHaveLength(1)
      const match = /the shop's owner is (\S+) with the password (\S+) \(shown this once\)\. Sign in at http:\/\/localhost:3000\/admin\/sign-in/.exec(said[0]!)
      expect(match).not.toBeNull()
      const [, email, password] = match!
      expect(password!.length).toBeGreaterThanOrEqual(adminAuth.MIN_PASSWORD)
      const { token } = await adminAuth.signIn(email!, password!, '10.0.0.1')
      expect((await adminAuth.sessionFor(token))?.email).toBe(adminAuth.DEMO_OWNER_EMAIL)
      expect(await count(engine, 'admin_users')).toBe(1)
    })

    it('makes a different password for every demo', async () => {
      set({ SEED_DEMO: '1', PAYMENTS: 'emulator', LOG_LEVEL: 'info' })
      const passwords: string[] = []
      for (let i = 0; i < 2; i++) {
        await engine.rows(sql`DELETE FROM admin_users RETURNING id`)
        const logs = captureLogs()
        await adminAuth.ensureBootAdmin().finally(() => logs.stop())
        passwords.push(/with the password (\S+)/.exec(logs.lines.join('\n'))![1]!)
      }
      expect(passwords[0]).not.toBe(passwords[1])
    })

    it('uses ADMIN_EMAIL and ADMIN_PASSWORD when both are given, and makes no demo owner', async () => {
      set({ SEED_DEMO: '1', PAYMENTS: 'emulator', ADMIN_EMAIL: 'boss@example.com', ADMIN_PASSWORD: PASSWORD })
      expect(await adminAuth.ensureBootAdmin()).toEqual({ email: 'boss@example.com', source: 'env' })
      expect(await engine.rows(sql`SELECT email FROM admin_users`)).toEqual([{ email: 'boss@example.com' }])
    })

    it('makes nobody for a store that is not the demo: its first admin comes from npm run admin:create', async () => {
      set({ SEED_DEMO: '0', PAYMENTS: 'emulator' })
      expect(await adminAuth.ensureBootAdmin()).toBeNull()
      set({ SEED_DEMO: '1', PAYMENTS: 'stripe', STRIPE_SECRET_KEY: 'sk_test_x', STRIPE_WEBHOOK_SECRET: 'whsec_x' })
      try {
        expect(await adminAuth.ensureBootAdmin()).toBeNull()
      } finally {
        delete process.env.STRIPE_SECRET_KEY
        delete process.env.STRIPE_WEBHOOK_SECRET
      }
      expect(await count(engine, 'admin_users')).toBe(0)
    })
  })

  describe('catalog input', () => {
    it('refuses a duplicate SKU and writes nothing', async () => {
      const variantId = await insertVariant(engine, { stock: 1 })
      const [{ sku }] = (await engine.rows<{ sku: string }>(sql`SELECT sku FROM variants WHERE id = ${variantId}`)) as [{ sku: string }]
      const before = await count(engine, 'products')
      const fields = { title: 'New thing', description: '', status: 'active' as const, isFeatured: false }
      const variant = { sku, title: 'One', priceCents: 100, stock: 1, options: {} }
      await expect(products.create({ id: 0, email: 'x@y.z' }, fields, [variant])).rejects.toThrow(/already used/)
      expect(await count(engine, 'products')).toBe(before)
      expect(products.ProductFields.safeParse({ ...fields, title: 'x'.repeat(10 * 1024) }).success).toBe(false)
    })

    it('gives a second product with a title already in use its own address, and names the first', async () => {
      const owner = await adminAuth.createAdmin('titles@example.com', PASSWORD)
      const fields = { title: 'Harbor Rain Jacket', description: '', status: 'active' as const, isFeatured: false }
      const first = await products.create(owner, fields, [{ sku: `HRJ-A-${Date.now()}`, title: 'S', priceCents: 19800, stock: 1, options: {} }])
      expect(first.sameTitleAs).toBeNull()
      const second = await products.create(owner, { ...fields, title: 'harbor rain jacket' }, [{ sku: `HRJ-B-${Date.now()}`, title: 'S', priceCents: 19800, stock: 1, options: {} }])
      expect(second.slug).not.toBe(first.slug)
      expect(second.slug).toBe(`${first.slug}-2`)
      expect(second.sameTitleAs).toEqual({ id: first.id, slug: first.slug })
    })

    it("keeps a product's Stripe tax code, empty for the shop default, and refuses anything else with a message", async () => {
      const owner = await adminAuth.createAdmin('taxes@example.com', PASSWORD)
      const fields = { title: 'Paperback', description: '', status: 'active' as const, isFeatured: false }
      const created = await products.create(owner, products.ProductFields.parse({ ...fields, taxCode: ' txcd_35010000 ' }), [{ sku: `BOOK-${Date.now()}`, title: 'One', priceCents: 999, stock: 1, options: {} }])
      const taxCodeOf = async () => (await engine.rows<{ c: string | null }>(sql`SELECT tax_code AS c FROM products WHERE id = ${created.id}`))[0]!.c
      expect(await taxCodeOf()).toBe('txcd_35010000')
      await products.update(owner, created.id, products.ProductFields.parse({ ...fields, taxCode: '' }))
      expect(await taxCodeOf()).toBeNull()
      const bad = products.ProductFields.safeParse({ ...fields, taxCode: 'books' })
      expect(bad.success ? '' : bad.error.issues[0]!.message).toMatch(/txcd_99999999/)
    })
  })

  describe('orders CSV export', () => {
    it('reads in batches, filters, and neutralises spreadsheet formulas', async () => {
      for (let i = 0; i < 7; i++) {
        const email = i === 3 ? '=HYPERLINK("x")@evil.com' : `c${i}@example.com`
        await engine.rows(sql`
          INSERT INTO orders (stripe_checkout_session_id, public_token, status, total_cents, currency, email, created_at)
          VALUES (${`cs_${i}`}, ${`token_${i}_abcdefghijklmnop`}, ${i % 2 ? 'paid' : 'refunded'}, ${1000 + i}, 'usd', ${email}, ${Date.UTC(2026, 10, 1 + i)})
          RETURNING id`)
      }
      const chunks = await collect(exportCsv(parseFilters({}), 3))
      // header, then batches of 3, 3 and 1
      expect(chunks).toHaveLength(4)
      const lines = chunks.join('').trim().split('\n')
      expect(lines[0]).toMatch(/^"id","created_at","status","email"/)
      expect(lines).toHaveLength(8)
      // every cell quoted, numbers and empty cells too
      expect(lines[1]).toMatch(/^"\d+","[^"]+","(paid|refunded)","c\d@example\.com","","\d+",/)
      expect(lines.find((l) => l.includes('HYPERLINK'))).toContain(`"'=HYPERLINK(""x"")@evil.com"`)
      const paid = (await collect(exportCsv(parseFilters({ status: 'paid' })))).join('').trim().split('\n')
      expect(paid).toHaveLength(4)
    })
  })

  describe('the dashboard', () => {
    it('counts today’s paid revenue in the chart and the periods', async () => {
      const now = Date.now()
      const orders: [string, string, number, number, number][] = [
        ['a', 'paid', 4100, 1000, now],
        ['b', 'payment_failed', 9999, 0, now],
        ['c', 'fulfilled', 2000, 0, now - 3 * 24 * 3600 * 1000],
      ]
      for (const [key, status, total, refunded, at] of orders) {
        await engine.rows(sql`
          INSERT INTO orders (stripe_checkout_session_id, public_token, status, total_cents, refunded_cents, currency, created_at)
          VALUES (${`cs_${key}`}, ${`token_${key}_abcdefghijklmnop`}, ${status}, ${total}, ${refunded}, 'usd', ${at})
          RETURNING id`)
      }
      const view = await dashboard.overview(now)
      expect(view.periods.map((p) => [p.label, p.revenueCents, p.orders])).toEqual([
        ['Today', 3100, 1],
        ['Last 7 days', 5100, 2],
        ['Last 30 days', 5100, 2],
      ])
      expect(view.series).toHaveLength(30)
      expect(view.series.at(-1)).toMatchObject({ day: dashboard.startOfUtcDay(now), revenueCents: 3100, orders: 1 })
      expect(view.series.at(-4)).toMatchObject({ revenueCents: 2000, orders: 1 })
    })
  })
})
