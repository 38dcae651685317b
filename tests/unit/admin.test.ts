import fs from 'node:fs'
import path from 'node:path'
import sharp from 'sharp'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { collect } from '../support/collect'
import { sql } from 'drizzle-orm'
import { getDb, write } from '@/db'
import { transaction } from '@/db/tx'
import { resetEnv } from '@/lib/env'
import * as adminAuth from '@/lib/admin-auth'
import { InvalidInput } from '@/lib/errors'
import { captureLogs } from '@/lib/log'
import * as inventory from '@/lib/inventory'
import { parseMoney } from '@/lib/money'
import * as productImages from '@/lib/product-images'
import * as products from '@/lib/products'
import { insertVariant } from '../support/catalog-rows'
import { freshStore, type TestDb } from '../support/db'

// The admin's domain rules on a real database: passwords, sessions and rate limits, the
// stock ledger, catalog validation and picture checks.

let t: TestDb
beforeEach(() => {
  t = freshStore()
})
afterEach(() => {
  t.close()
})

const count = (table: string) => (getDb().$client.prepare(`SELECT count(*) AS n FROM ${table}`).get() as { n: number }).n

describe('admin sign-in', () => {
  it('hashes with scrypt, stores only the token hash, and slides the session', async () => {
    const admin = await adminAuth.createAdmin('Owner@Example.com', 'a long enough password')
    expect(admin.email).toBe('owner@example.com')
    const stored = getDb().$client.prepare('SELECT password_hash AS h FROM admin_users').get() as { h: string }
    expect(stored.h).toMatch(/^scrypt\$16384\$8\$1\$/)
    const { token } = await adminAuth.signIn('owner@example.com', 'a long enough password', '10.0.0.1')
    expect((getDb().$client.prepare('SELECT count(*) AS n FROM admin_sessions WHERE id = ?').get(token) as { n: number }).n).toBe(0)
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

  it('refuses after five wrong passwords for one email from one address, even with the right one', async () => {
    await adminAuth.createAdmin('owner@example.com', 'a long enough password')
    const noWait = async () => undefined
    for (let i = 0; i < adminAuth.MAX_FAILURES_PER_EMAIL_AND_CLIENT; i++) {
      await expect(adminAuth.signIn('owner@example.com', 'nope', '10.0.0.1', Date.now(), noWait)).rejects.toBeInstanceOf(InvalidInput)
    }
    await expect(adminAuth.signIn('owner@example.com', 'a long enough password', '10.0.0.1', Date.now(), noWait)).rejects.toBeInstanceOf(adminAuth.RateLimited)
  })

  it('changing the password signs out the other sessions', async () => {
    await adminAuth.createAdmin('owner@example.com', 'a long enough password')
    const a = await adminAuth.signIn('owner@example.com', 'a long enough password', '10.0.0.1')
    const b = await adminAuth.signIn('owner@example.com', 'a long enough password', '10.0.0.1')
    const me = (await adminAuth.sessionFor(a.token))!
    await expect(adminAuth.changePassword(me, 'wrong', 'another long password')).rejects.toBeInstanceOf(InvalidInput)
    await adminAuth.changePassword(me, 'a long enough password', 'another long password')
    expect(await adminAuth.sessionFor(a.token)).not.toBeNull()
    expect(await adminAuth.sessionFor(b.token)).toBeNull()
  })
})

describe('stock ledger', () => {
  it('records adjustments, refuses to go below zero and records sales', async () => {
    const { variantId } = insertVariant({ stock: 2 })
    const actor = { id: 0, email: 'system@test' }
    await expect(inventory.adjustByAdmin(actor, { variantId, delta: -3, note: 'broken' })).rejects.toThrow(/below zero/)
    await expect(inventory.adjustByAdmin(actor, { variantId, delta: 4, note: ' ' })).rejects.toThrow(/why/)
    expect(count('stock_ledger')).toBe(0)
    getDb().$client.prepare(`INSERT INTO admin_users (id, email, password_hash) VALUES (1, 'a@b.c', 'x')`).run()
    expect(await inventory.adjustByAdmin({ id: 1, email: 'a@b.c' }, { variantId, delta: 4, note: 'delivery' })).toEqual({ stockBefore: 2, stockAfter: 6 })
    await transaction((tx, tables) => inventory.committingSale(tx, tables, 'cs_test_ledger', null, [{ variantId, quantity: 2 }]))
    const rows = await inventory.ledgerFor(variantId)
    expect(rows.map((r) => [r.reason, r.delta, r.stockAfter])).toEqual([
      ['sale', -2, 4],
      ['adjust', 4, 6],
    ])
    expect(count('audit_log')).toBe(1)
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
    expect(count('admin_users')).toBe(1)
  })

  it('makes a different password for every demo', async () => {
    set({ SEED_DEMO: '1', PAYMENTS: 'emulator', LOG_LEVEL: 'info' })
    const passwords: string[] = []
    for (let i = 0; i < 2; i++) {
      write((tx) => tx.run(sql`DELETE FROM admin_users`))
      const logs = captureLogs()
      await adminAuth.ensureBootAdmin().finally(() => logs.stop())
      passwords.push(/with the password (\S+)/.exec(logs.lines.join('\n'))![1]!)
    }
    expect(passwords[0]).not.toBe(passwords[1])
  })

  it('uses ADMIN_EMAIL and ADMIN_PASSWORD when both are given, and makes no demo owner', async () => {
    set({ SEED_DEMO: '1', PAYMENTS: 'emulator', ADMIN_EMAIL: 'boss@example.com', ADMIN_PASSWORD: 'a long enough password' })
    expect(await adminAuth.ensureBootAdmin()).toEqual({ email: 'boss@example.com', source: 'env' })
    expect(getDb().$client.prepare('SELECT email FROM admin_users').all()).toEqual([{ email: 'boss@example.com' }])
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
    expect(count('admin_users')).toBe(0)
  })
})

describe('catalog input', () => {
  it('reads prices strictly', () => {
    expect(parseMoney('18.00')).toEqual({ ok: true, cents: 1800 })
    expect(parseMoney('22.5')).toEqual({ ok: true, cents: 2250 })
    expect(parseMoney('7')).toEqual({ ok: true, cents: 700 })
    for (const bad of ['-5', '12.345', '1e3', '', 'abc', '0x10', '12,50', '0']) expect(parseMoney(bad).ok, bad).toBe(false)
  })

  it('refuses a duplicate SKU and writes nothing', async () => {
    const { variantId } = insertVariant({ stock: 1 })
    const { sku } = getDb().$client.prepare('SELECT sku FROM variants WHERE id = ?').get(variantId) as { sku: string }
    const before = count('products')
    const fields = { title: 'New thing', description: '', status: 'active' as const, isFeatured: false }
    const variant = { sku, title: 'One', priceCents: 100, stock: 1, options: {} }
    await expect(products.create({ id: 0, email: 'x@y.z' }, fields, [variant])).rejects.toThrow(/already used/)
    expect(count('products')).toBe(before)
    expect(products.ProductFields.safeParse({ ...fields, title: 'x'.repeat(10 * 1024) }).success).toBe(false)
  })

  it('gives a second product with a title already in use its own address, and names the first', async () => {
    const owner = await adminAuth.createAdmin('titles@example.com', 'a long enough password')
    const fields = { title: 'Harbor Rain Jacket', description: '', status: 'active' as const, isFeatured: false }
    const first = await products.create(owner, fields, [{ sku: `HRJ-A-${Date.now()}`, title: 'S', priceCents: 19800, stock: 1, options: {} }])
    expect(first.sameTitleAs).toBeNull()
    const second = await products.create(owner, { ...fields, title: 'harbor rain jacket' }, [{ sku: `HRJ-B-${Date.now()}`, title: 'S', priceCents: 19800, stock: 1, options: {} }])
    expect(second.slug).not.toBe(first.slug)
    expect(second.slug).toBe(`${first.slug}-2`)
    expect(second.sameTitleAs).toEqual({ id: first.id, slug: first.slug })
  })

  it('keeps a product\'s Stripe tax code, empty for the shop default, and refuses anything else with a message', async () => {
    const owner = await adminAuth.createAdmin('taxes@example.com', 'a long enough password')
    const fields = { title: 'Paperback', description: '', status: 'active' as const, isFeatured: false }
    const created = await products.create(owner, products.ProductFields.parse({ ...fields, taxCode: ' txcd_35010000 ' }), [{ sku: `BOOK-${Date.now()}`, title: 'One', priceCents: 999, stock: 1, options: {} }])
    const taxCodeOf = () => (getDb().$client.prepare('SELECT tax_code AS c FROM products WHERE id = ?').get(created.id) as { c: string | null }).c
    expect(taxCodeOf()).toBe('txcd_35010000')
    await products.update(owner, created.id, products.ProductFields.parse({ ...fields, taxCode: '' }))
    expect(taxCodeOf()).toBeNull()
    const bad = products.ProductFields.safeParse({ ...fields, taxCode: 'books' })
    expect(bad.success ? '' : bad.error.issues[0]!.message).toMatch(/txcd_99999999/)
  })

  it('re-encodes pictures and refuses anything else', async () => {
    const png = await sharp({ create: { width: 40, height: 30, channels: 3, background: '#123456' } }).png().toBuffer()
    expect(productImages.sniff(png)).toBe('png')
    const out = await productImages.reencode(png)
    expect(productImages.sniff(out.data)).toBe('jpeg')
    const withAlpha = await sharp({ create: { width: 10, height: 10, channels: 4, background: { r: 0, g: 0, b: 0, alpha: 0.5 } } }).webp().toBuffer()
    expect(productImages.sniff(withAlpha)).toBe('webp')
    expect((await productImages.reencode(withAlpha)).format).toBe('png')
    expect([out.width, out.height]).toEqual([40, 30])
    await expect(productImages.reencode(Buffer.from('<svg onload="alert(1)"/>'))).rejects.toThrow(/not a picture/)
    // starts like a PNG, is not one
    await expect(productImages.reencode(Buffer.concat([png.subarray(0, 8), Buffer.alloc(100)]))).rejects.toThrow(/could not be read/)
    expect(() => productImages.checkFileName('../../etc/passwd.png')).toThrow(/not allowed/)
    expect(() => productImages.checkFileName('mug.png')).not.toThrow()
    expect(fs.existsSync(path.join(t.dir, 'uploads'))).toBe(false)
  })
})

describe('orders CSV export', () => {
  it('reads in batches, filters, and neutralises spreadsheet formulas', async () => {
    const { exportCsv, parseFilters } = await import('@/lib/orders/list')
    const insert = getDb().$client.prepare(`INSERT INTO orders (stripe_checkout_session_id, public_token, status, total_cents, currency, email, created_at) VALUES (?, ?, ?, ?, 'usd', ?, ?)`)
    for (let i = 0; i < 7; i++) insert.run(`cs_${i}`, `token_${i}_abcdefghijklmnop`, i % 2 ? 'paid' : 'refunded', 1000 + i, i === 3 ? '=HYPERLINK("x")@evil.com' : `c${i}@example.com`, Date.UTC(2026, 10, 1 + i))
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

describe('CSV cells', () => {
  it('quotes every cell and neutralises a formula after any separator a spreadsheet splits on', async () => {
    const { csvCell } = await import('@/lib/orders/list')
    expect(csvCell('Bob;=1+2;x')).toBe(`"Bob;'=1+2;x"`)
    expect(csvCell('a,+1')).toBe(`"a,'+1"`)
    expect(csvCell('a\t-1')).toBe(`"a\t'-1"`)
    expect(csvCell('a|@SUM(A1)')).toBe(`"a|'@SUM(A1)"`)
    expect(csvCell('=1')).toBe(`"'=1"`)
    expect(csvCell('plain')).toBe('"plain"')
    expect(csvCell(42)).toBe('"42"')
    expect(csvCell(null)).toBe('""')
    expect(csvCell('say "hi"')).toBe('"say ""hi""' + '"')
  })
})

describe('dashboard and cookie', () => {
  it('counts today’s paid revenue in the chart and the periods', async () => {
    const dashboard = await import('@/lib/dashboard')
    const now = Date.now()
    const insert = getDb().$client.prepare(`INSERT INTO orders (stripe_checkout_session_id, public_token, status, total_cents, refunded_cents, currency, created_at) VALUES (?, ?, ?, ?, ?, 'usd', ?)`)
    insert.run('cs_a', 'token_a_abcdefghijklmnop', 'paid', 4100, 1000, now)
    insert.run('cs_b', 'token_b_abcdefghijklmnop', 'payment_failed', 9999, 0, now)
    insert.run('cs_c', 'token_c_abcdefghijklmnop', 'fulfilled', 2000, 0, now - 3 * 24 * 3600 * 1000)
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

  it('marks the session cookie Secure only when APP_URL is https', () => {
    process.env.APP_URL = 'https://shop.example'
    resetEnv()
    expect(adminAuth.cookieOptions()).toMatchObject({ httpOnly: true, secure: true, sameSite: 'lax', path: '/admin' })
    process.env.APP_URL = 'http://localhost:3000'
    resetEnv()
    expect(adminAuth.cookieOptions().secure).toBe(false)
    delete process.env.APP_URL
  })
})
