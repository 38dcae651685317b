import { describe, expect, it } from 'vitest'
import { optionsText, parseOptionsText, parseVariant } from '@/lib/products'

// Variant options as the owner types them: the storefront's own "Colour: Cream" and the older
// "Colour=Cream" both work, and a refusal names the field it is about.

describe('variant options', () => {
  it('reads the format the storefront shows', () => {
    expect(parseOptionsText('Colour: Cream')).toEqual({ Colour: 'Cream' })
    expect(parseOptionsText('Colour: Cream, Size: M')).toEqual({ Colour: 'Cream', Size: 'M' })
    expect(parseOptionsText('  Colour : Sea Green ; Size:XL  ')).toEqual({ Colour: 'Sea Green', Size: 'XL' })
  })

  it('still reads Name=Value, whose value may hold a colon', () => {
    expect(parseOptionsText('Size=M, Colour=Navy')).toEqual({ Size: 'M', Colour: 'Navy' })
    expect(parseOptionsText('Ratio=16:9')).toEqual({ Ratio: '16:9' })
    expect(parseOptionsText('')).toEqual({})
  })

  it('refuses what is not a pair, and more than five', () => {
    expect(parseOptionsText('Cream')).toBeNull()
    expect(parseOptionsText('Colour:')).toBeNull()
    expect(parseOptionsText(': Cream')).toBeNull()
    expect(parseOptionsText('A:1, B:2, C:3, D:4, E:5, F:6')).toBeNull()
  })

  it('writes options back in the storefront format, which reads back the same', () => {
    const options = { Colour: 'Cream', Size: 'M', Ratio: '16:9' }
    expect(optionsText(options)).toBe('Colour: Cream, Size: M, Ratio: 16:9')
    expect(parseOptionsText(optionsText(options))).toEqual(options)
  })

  it('a refused variant says which field is wrong', () => {
    const base = { sku: 'MUG-1', title: '', price: '12.00', stock: '3', options: 'Colour: Cream' }
    expect(parseVariant(base, 'Variant 1')).toMatchObject({ ok: true, data: { options: { Colour: 'Cream' }, title: 'Cream' } })
    expect(parseVariant({ ...base, options: 'Cream' }, 'Variant 1')).toMatchObject({ ok: false, field: 'options', message: expect.stringContaining('Colour: Cream') })
    expect(parseVariant({ ...base, sku: 'bad sku!' }, 'Variant 1')).toMatchObject({ ok: false, field: 'sku' })
    expect(parseVariant({ ...base, price: '-1' }, 'Variant 1')).toMatchObject({ ok: false, field: 'price' })
    expect(parseVariant({ ...base, stock: '-1' }, 'Variant 1')).toMatchObject({ ok: false, field: 'stock' })
  })
})
