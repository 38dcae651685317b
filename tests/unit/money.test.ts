import { describe, expect, it } from 'vitest'
import { decimalAmount, formatMoney } from '@/lib/money'

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
