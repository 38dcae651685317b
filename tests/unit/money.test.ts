import { describe, expect, it } from 'vitest'
import { decimalAmount, formatMoney, MAX_AMOUNT_CENTS, moneyHint, parseMoney } from '@/lib/money'

describe('money', () => {
  it('formats integer minor units', () => {
    expect(formatMoney(12345, 'usd')).toBe('$123.45')
    expect(formatMoney(0, 'usd')).toBe('$0.00')
    expect(formatMoney(500, 'jpy')).toBe('¥500')
  })
  it('writes a reduction with a minus sign', () => {
    expect(formatMoney(-1180, 'usd')).toBe('−$11.80')
  })
  it('refuses fractional minor units', () => {
    expect(() => formatMoney(10.5, 'usd')).toThrow(TypeError)
  })
  it('gives machine-readable decimals', () => {
    expect(decimalAmount(1999, 'usd')).toBe('19.99')
    expect(decimalAmount(1999, 'jpy')).toBe('1999')
  })
})

describe('parseMoney: one meaning for a typed amount', () => {
  it('reads a decimal point and at most the currency’s decimals', () => {
    expect(parseMoney('12.50')).toEqual({ ok: true, cents: 1250 })
    expect(parseMoney(' 12.5 ')).toEqual({ ok: true, cents: 1250 })
    expect(parseMoney('12')).toEqual({ ok: true, cents: 1200 })
    expect(parseMoney('1250', 'jpy')).toEqual({ ok: true, cents: 1250 })
    expect(parseMoney('12.345')).toMatchObject({ ok: false, message: expect.stringMatching(/at most 2 decimals after a point, like 12\.50/) })
    expect(parseMoney('12.5', 'jpy')).toMatchObject({ ok: false, message: expect.stringMatching(/whole number, like 1250/) })
  })

  it('refuses a comma with a message that names the format, never reading 12,50 as 1250', () => {
    for (const text of ['12,50', '1,250', '1,250.00']) {
      const parsed = parseMoney(text, 'usd', { what: 'The price' })
      expect(parsed, text).toEqual({ ok: false, message: 'The price has a comma: write amounts with a decimal point and no thousands separator, like 12.50 or 1250.00 (not 12,50 or 1,250).' })
    }
    expect(moneyHint('usd')).toMatch(/decimal point, like 12\.50; a comma is refused/)
    expect(moneyHint('jpy')).toMatch(/whole number, like 1250/)
  })

  it('refuses zero (unless allowed) and more than Stripe can charge, saying what is allowed', () => {
    expect(parseMoney('0', 'usd', { what: 'The price' })).toEqual({ ok: false, message: 'The price must be more than zero: at least $0.01.' })
    expect(parseMoney('0.00')).toMatchObject({ ok: false })
    expect(parseMoney('0', 'usd', { allowZero: true })).toEqual({ ok: true, cents: 0 })
    expect(parseMoney('999999.99')).toEqual({ ok: true, cents: MAX_AMOUNT_CENTS })
    for (const text of ['1000000', '1000000000', '999999999999']) {
      expect(parseMoney(text, 'usd', { what: 'The price' }), text).toEqual({ ok: false, message: 'The price can be at most $999,999.99.' })
    }
    expect(parseMoney('', 'usd', { what: 'The price' })).toEqual({ ok: false, message: 'The price is missing; enter an amount like 12.50.' })
    for (const text of ['-5', '1e3', '$12', 'abc', '0x10', '.5']) expect(parseMoney(text).ok, text).toBe(false)
  })
})
