import fs from 'node:fs'
import path from 'node:path'
import sharp from 'sharp'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { getDb, write } from '@/db'
import { resetEnv } from '@/lib/env'
import * as adminAuth from '@/lib/admin-auth'
import { InvalidInput } from '@/lib/errors'
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
    expect(adminAuth.sessionFor(token, now)?.email).toBe('owner@example.com')
    // used an hour later, the expiry moves an hour on
    const later = now + 3600_000
    expect(adminAuth.sessionFor(token, later)).not.toBeNull()
    expect(adminAuth.sessionFor(token, later + adminAuth.IDLE_MS - 1000)).not.toBeNull()
    // unused for longer than the idle time, it is gone
    expect(adminAuth.sessionFor(token, later + 3 * adminAuth.IDLE_MS)).toBeNull()
    adminAuth.endSession(token)
    expect(adminAuth.sessionFor(token)).toBeNull()
  })

  it('refuses after five wrong passwords for one email, even with the right one', async () => {
    await adminAuth.createAdmin('owner@example.com', 'a long enough password')
    for (let i = 0; i < adminAuth.MAX_FAILURES_PER_EMAIL; i++) {
      await expect(adminAuth.signIn('owner@example.com', 'nope', `10.0.0.${i}`)).rejects.toBeInstanceOf(InvalidInput)
    }
    await expect(adminAuth.signIn('owner@example.com', 'a long enough password', '10.0.0.99')).rejects.toBeInstanceOf(adminAuth.RateLimited)
  })

  it('changing the password signs out the other sessions', async () => {
    await adminAuth.createAdmin('owner@example.com', 'a long enough password')
    const a = await adminAuth.signIn('owner@example.com', 'a long enough password', '10.0.0.1')
    const b = await adminAuth.signIn('owner@example.com', 'a long enough password', '10.0.0.1')
    const me = adminAuth.sessionFor(a.token)!
    await expect(adminAuth.changePassword(me, 'wrong', 'another long password')).rejects.toBeInstanceOf(InvalidInput)
    await adminAuth.changePassword(me, 'a long enough password', 'another long password')
    expect(adminAuth.sessionFor(a.token)).not.toBeNull()
    expect(adminAuth.sessionFor(b.token)).toBeNull()
  })
})

describe('stock ledger', () => {
  it('records adjustments, refuses to go below zero and records sales', () => {
    const { variantId } = insertVariant({ stock: 2 })
    const actor = { id: 0, email: 'system@test' }
    expect(() => inventory.adjustByAdmin(actor, { variantId, delta: -3, note: 'broken' })).toThrow(/below zero/)
    expect(() => inventory.adjustByAdmin(actor, { variantId, delta: 4, note: ' ' })).toThrow(/why/)
    expect(count('stock_ledger')).toBe(0)
    getDb().$client.prepare(`INSERT INTO admin_users (id, email, password_hash) VALUES (1, 'a@b.c', 'x')`).run()
    expect(inventory.adjustByAdmin({ id: 1, email: 'a@b.c' }, { variantId, delta: 4, note: 'delivery' })).toEqual({ stockBefore: 2, stockAfter: 6 })
    write((tx) => inventory.commitSale(tx, 'cs_test_ledger', [{ variantId, quantity: 2 }]))
    const rows = inventory.ledgerFor(variantId)
    expect(rows.map((r) => [r.reason, r.delta, r.stockAfter])).toEqual([
      ['sale', -2, 4],
      ['adjust', 4, 6],
    ])
    expect(count('audit_log')).toBe(1)
  })
})

describe('catalog input', () => {
  it('reads prices strictly', () => {
    expect(parseMoney('18.00')).toBe(1800)
    expect(parseMoney('22.5')).toBe(2250)
    expect(parseMoney('7')).toBe(700)
    for (const bad of ['-5', '12.345', '1e3', '', 'abc', '0x10']) expect(parseMoney(bad), bad).toBeNull()
  })

  it('refuses a duplicate SKU and writes nothing', () => {
    const { variantId } = insertVariant({ stock: 1 })
    const { sku } = getDb().$client.prepare('SELECT sku FROM variants WHERE id = ?').get(variantId) as { sku: string }
    const before = count('products')
    const fields = { title: 'New thing', description: '', status: 'active' as const, isFeatured: false }
    const variant = { sku, title: 'One', priceCents: 100, stock: 1, options: {} }
    expect(() => products.create({ id: 0, email: 'x@y.z' }, fields, [variant])).toThrow(/already used/)
    expect(count('products')).toBe(before)
    expect(products.ProductFields.safeParse({ ...fields, title: 'x'.repeat(10 * 1024) }).success).toBe(false)
  })

  it('keeps a product\'s Stripe tax code, empty for the shop default, and refuses anything else with a message', async () => {
    const owner = await adminAuth.createAdmin('taxes@example.com', 'a long enough password')
    const fields = { title: 'Paperback', description: '', status: 'active' as const, isFeatured: false }
    const created = products.create(owner, products.ProductFields.parse({ ...fields, taxCode: ' txcd_35010000 ' }), [{ sku: `BOOK-${Date.now()}`, title: 'One', priceCents: 999, stock: 1, options: {} }])
    const taxCodeOf = () => (getDb().$client.prepare('SELECT tax_code AS c FROM products WHERE id = ?').get(created.id) as { c: string | null }).c
    expect(taxCodeOf()).toBe('txcd_35010000')
    products.update(owner, created.id, products.ProductFields.parse({ ...fields, taxCode: '' }))
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
    const { exportCsv, parseFilters } = await import('@/lib/order-list')
    const insert = getDb().$client.prepare(`INSERT INTO orders (stripe_checkout_session_id, public_token, status, total_cents, currency, email, created_at) VALUES (?, ?, ?, ?, 'usd', ?, ?)`)
    for (let i = 0; i < 7; i++) insert.run(`cs_${i}`, `token_${i}_abcdefghijklmnop`, i % 2 ? 'paid' : 'refunded', 1000 + i, i === 3 ? '=HYPERLINK("x")@evil.com' : `c${i}@example.com`, Date.UTC(2026, 10, 1 + i))
    const chunks = [...exportCsv(parseFilters({}), 3)]
    // header, then batches of 3, 3 and 1
    expect(chunks).toHaveLength(4)
    const lines = chunks.join('').trim().split('\n')
    expect(lines[0]).toMatch(/^id,created_at,status,email/)
    expect(lines).toHaveLength(8)
    expect(lines.find((l) => l.includes('HYPERLINK'))).toContain(`"'=HYPERLINK(""x"")@evil.com"`)
    const paid = [...exportCsv(parseFilters({ status: 'paid' }))].join('').trim().split('\n')
    expect(paid).toHaveLength(4)
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
    const view = dashboard.overview(now)
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
