import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import sharp from 'sharp'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import * as adminAuth from '@/lib/admin-auth'
import { resetEnv } from '@/lib/env'
import { parseMoney } from '@/lib/money'
import { csvCell } from '@/lib/orders/list'
import * as productImages from '@/lib/product-images'

// The admin's rules that touch no database: prices read strictly, pictures re-encoded, CSV
// cells quoted, the session cookie's flags. The rules on the database run on both engines in
// tests/integration/admin.test.ts.

describe('catalog input', () => {
  let storageDir: string
  beforeEach(() => {
    storageDir = fs.mkdtempSync(path.join(os.tmpdir(), 'till-admin-'))
    process.env.STORAGE_DIR = storageDir
    resetEnv()
  })
  afterEach(() => {
    delete process.env.STORAGE_DIR
    resetEnv()
    fs.rmSync(storageDir, { recursive: true, force: true })
  })

  it('reads prices strictly', () => {
    expect(parseMoney('18.00')).toEqual({ ok: true, cents: 1800 })
    expect(parseMoney('22.5')).toEqual({ ok: true, cents: 2250 })
    expect(parseMoney('7')).toEqual({ ok: true, cents: 700 })
    for (const bad of ['-5', '12.345', '1e3', '', 'abc', '0x10', '12,50', '0']) expect(parseMoney(bad).ok, bad).toBe(false)
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
    expect(fs.existsSync(path.join(storageDir, 'uploads'))).toBe(false)
  })
})

describe('CSV cells', () => {
  it('quotes every cell and neutralises a formula after any separator a spreadsheet splits on', () => {
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

describe('the session cookie', () => {
  afterEach(() => {
    delete process.env.APP_URL
    resetEnv()
  })

  it('is marked Secure only when APP_URL is https', () => {
    process.env.APP_URL = 'https://shop.example'
    resetEnv()
    expect(adminAuth.cookieOptions()).toMatchObject({ httpOnly: true, secure: true, sameSite: 'lax', path: '/admin' })
    process.env.APP_URL = 'http://localhost:3000'
    resetEnv()
    expect(adminAuth.cookieOptions().secure).toBe(false)
  })
})
