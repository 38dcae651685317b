import { describe, expect, it } from 'vitest'
import * as cart from '@/lib/cart'

// The cart's pure parts: its ids and its form input. What it does to the database is tested on
// both engines in tests/integration/cart.test.ts.

describe('cart ids', () => {
  it('are 32 random bytes, base64url', async () => {
    const id = cart.newCartId()
    expect(id).toMatch(/^[A-Za-z0-9_-]{43}$/)
    expect(Buffer.from(id, 'base64url')).toHaveLength(32)
    expect(cart.newCartId()).not.toBe(id)
    expect(cart.isCartId("' OR 1=1 --")).toBe(false)
  })
})

describe('cart input', () => {
  it.each([
    [{ variantId: '12', quantity: '2' }, { ok: true, data: { variantId: 12, quantity: 2 } }],
    [{ variantId: ' 12 ', quantity: '+2' }, { ok: true, data: { variantId: 12, quantity: 2 } }],
    [{ variantId: '12' }, { ok: true, data: { variantId: 12, quantity: 1 } }],
    [{ variantId: 'abc', quantity: '1' }, { ok: false, message: 'That product option does not exist.' }],
    [{ variantId: '1; DROP TABLE carts', quantity: '1' }, { ok: false, message: 'That product option does not exist.' }],
    [{ variantId: '0', quantity: '1' }, { ok: false, message: 'That product option does not exist.' }],
    [{ variantId: '99999999999999999999', quantity: '1' }, { ok: false, message: 'That product option does not exist.' }],
    [{ quantity: '1' }, { ok: false, message: 'That product option does not exist.' }],
    [{ variantId: '12', quantity: '-3' }, { ok: false, message: 'Quantity must be at least 1.' }],
    [{ variantId: '12', quantity: '0' }, { ok: false, message: 'Quantity must be at least 1.' }],
    [{ variantId: '12', quantity: '1e9' }, { ok: false, message: 'Quantity must be a whole number.' }],
    [{ variantId: '12', quantity: '2.5' }, { ok: false, message: 'Quantity must be a whole number.' }],
    [{ variantId: '12', quantity: '99999999999999999999999' }, { ok: false, message: 'You can have at most 99 of one item.' }],
    [{ variantId: '12', quantity: '' }, { ok: false, message: 'Quantity must be a whole number.' }],
  ])('add %j', (input, expected) => {
    expect(cart.parseInput(cart.AddInput, input)).toEqual(expected)
  })

  it('reads FormData, and set-quantity accepts 0', async () => {
    const form = new FormData()
    form.set('variantId', '7')
    form.set('quantity', '0')
    form.set('extra', 'ignored')
    expect(cart.parseInput(cart.SetQuantityInput, form)).toEqual({ ok: true, data: { variantId: 7, quantity: 0 } })
    form.set('quantity', '-1')
    expect(cart.parseInput(cart.SetQuantityInput, form)).toEqual({ ok: false, message: 'Quantity cannot be negative.' })
    form.set('quantity', 'x'.repeat(10_000))
    expect(cart.parseInput(cart.SetQuantityInput, form)).toEqual({ ok: false, message: 'Quantity must be a whole number.' })
  })
})
