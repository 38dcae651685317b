import { eq } from 'drizzle-orm'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { write } from '@/db'
import { cartLines, carts, products, stockHolds } from '@/db/schema'
import * as cart from '@/lib/cart'
import { InvalidInput, NotFound, OutOfStock } from '@/lib/errors'
import { freshDb, type TestDb } from '../support/db'
import { rejected } from '../support/thrown'
import { createCart, createHold, createImage, createProduct, createVariant, setStock } from '../support/factories'

let t: TestDb
beforeEach(() => {
  t = freshDb()
})
afterEach(() => t.close())

const DAY = 24 * 60 * 60 * 1000
const version = (id: string) => t.db.select({ v: carts.version }).from(carts).where(eq(carts.id, id)).get()!.v
const lines = (id: string) => t.db.select({ variantId: cartLines.variantId, quantity: cartLines.quantity }).from(cartLines).where(eq(cartLines.cartId, id)).all()


describe('cart ids', () => {
  it('are 32 random bytes, base64url', async () => {
    const id = cart.newCartId()
    expect(id).toMatch(/^[A-Za-z0-9_-]{43}$/)
    expect(Buffer.from(id, 'base64url')).toHaveLength(32)
    expect(cart.newCartId()).not.toBe(id)
  })

  it('odd ids are not carts', async () => {
    expect(cart.isCartId("' OR 1=1 --")).toBe(false)
    expect(await cart.load('x'.repeat(10_000))).toBeNull()
    expect(await cart.load(cart.newCartId())).toBeNull()
    expect(await cart.count(null)).toBe(0)
  })
})

describe('cart.add', () => {
  it('adds, adds more to the same line and bumps the version each time', async () => {
    const v = createVariant({ stock: 5 })
    const id = await cart.create()
    expect(version(id)).toBe(0)
    expect(await cart.add(id, v.id, 2)).toEqual({ cartId: id, version: 1, variantId: v.id, quantity: 2 })
    expect((await cart.add(id, v.id, 1)).quantity).toBe(3)
    expect(version(id)).toBe(2)
    expect(lines(id)).toEqual([{ variantId: v.id, quantity: 3 }])
    expect(await cart.count(id)).toBe(3)
  })

  it('holds at most 100 different items (Stripe Checkout takes 100 line items), while more of one already there is fine', async () => {
    const variants = Array.from({ length: cart.MAX_LINES + 1 }, () => createVariant({ stock: 5 }))
    const id = createCart({ lines: variants.slice(0, cart.MAX_LINES).map((v) => ({ variantId: v.id, quantity: 1 })) }).id
    await expect(cart.add(id, variants[cart.MAX_LINES]!.id, 1)).rejects.toThrow(/up to 100 different items/)
    expect(lines(id)).toHaveLength(cart.MAX_LINES)
    expect((await cart.add(id, variants[0]!.id, 1)).quantity).toBe(2)
  })

  it('refuses more than is available with OutOfStock saying how many are left, changing nothing', async () => {
    const p = createProduct({ title: 'Camp Mug' })
    const v = createVariant({ productId: p.id, title: 'Enamel', stock: 3 })
    const id = await cart.create()
    await cart.add(id, v.id, 2)
    const err = await rejected(cart.add(id, v.id, 2))
    expect(err).toBeInstanceOf(OutOfStock)
    expect(err).toMatchObject({ available: 3, requested: 4 })
    expect(err.message).toBe('Only 3 of Camp Mug — Enamel left (you asked for 4).')
    expect(lines(id)).toEqual([{ variantId: v.id, quantity: 2 }])
    expect(version(id)).toBe(1)
  })

  it('counts active holds against what can be added', async () => {
    const v = createVariant({ stock: 3 })
    createHold({ variantId: v.id, quantity: 2 })
    const id = await cart.create()
    expect(await rejected(cart.add(id, v.id, 2))).toMatchObject({ name: 'OutOfStock', available: 1 })
    expect((await cart.add(id, v.id, 1)).quantity).toBe(1)
  })

  it('a sold-out variant says so', async () => {
    const p = createProduct({ title: 'Beanie' })
    const v = createVariant({ productId: p.id, stock: 0 })
    expect((await rejected(cart.add(await cart.create(), v.id, 1))).message).toBe('Beanie is sold out.')
  })

  it('unknown variants, hidden products and checked-out carts are NotFound', async () => {
    const id = await cart.create()
    expect(await rejected(cart.add(id, 987_654, 1))).toBeInstanceOf(NotFound)
    const draft = createVariant({ productId: createProduct({ status: 'draft' }).id })
    expect(await rejected(cart.add(id, draft.id, 1))).toBeInstanceOf(NotFound)
    const done = createCart({ status: 'converted' })
    expect(await rejected(cart.add(done.id, createVariant().id, 1))).toBeInstanceOf(NotFound)
    expect(await rejected(cart.add(cart.newCartId(), createVariant().id, 1))).toBeInstanceOf(NotFound)
    expect(version(id)).toBe(0)
  })

  it('caps a line at 99 and refuses silly quantities', async () => {
    const v = createVariant({ stock: 500 })
    const id = await cart.create()
    await cart.add(id, v.id, 98)
    expect(await rejected(cart.add(id, v.id, 2))).toBeInstanceOf(InvalidInput)
    for (const q of [0, -1, 100, 1.5, Number.NaN, 1e12]) expect(await rejected(cart.add(id, v.id, q))).toBeInstanceOf(InvalidInput)
    expect(lines(id)).toEqual([{ variantId: v.id, quantity: 98 }])
  })
})

describe('cart.setQuantity and cart.remove', () => {
  it('sets within what is available, refuses beyond it, and 0 removes', async () => {
    const v = createVariant({ stock: 4 })
    const id = createCart({ lines: [{ variantId: v.id, quantity: 1 }] }).id
    expect(await cart.setQuantity(id, v.id, 3)).toMatchObject({ quantity: 3, version: 1 })
    const err = await rejected(cart.setQuantity(id, v.id, 5))
    expect(err).toBeInstanceOf(OutOfStock)
    expect(err.message).toMatch(/^Only 4 of .* left \(you asked for 5\)\.$/)
    expect(lines(id)).toEqual([{ variantId: v.id, quantity: 3 }])
    // the same quantity again changes nothing, not even the version
    expect((await cart.setQuantity(id, v.id, 3)).version).toBe(1)
    expect(await cart.setQuantity(id, v.id, 0)).toMatchObject({ quantity: 0, version: 2 })
    expect(lines(id)).toEqual([])
  })

  it('lowering a line below what is left is allowed; lowering to still too many is not', async () => {
    const v = createVariant({ stock: 5 })
    const id = createCart({ lines: [{ variantId: v.id, quantity: 5 }] }).id
    setStock(v.id, 2)
    expect(await rejected(cart.setQuantity(id, v.id, 4))).toMatchObject({ name: 'OutOfStock', available: 2 })
    expect((await cart.setQuantity(id, v.id, 2)).quantity).toBe(2)
  })

  it('setting a line that is not in the cart is NotFound', async () => {
    const id = await cart.create()
    expect(await rejected(cart.setQuantity(id, createVariant().id, 1))).toBeInstanceOf(NotFound)
  })

  it('remove deletes one line and bumps the version; removing again is a no-op', async () => {
    const a = createVariant()
    const b = createVariant()
    const id = createCart({ lines: [{ variantId: a.id, quantity: 1 }, { variantId: b.id, quantity: 2 }] }).id
    expect((await cart.remove(id, a.id)).version).toBe(1)
    expect((await cart.remove(id, a.id)).version).toBe(1)
    expect(lines(id)).toEqual([{ variantId: b.id, quantity: 2 }])
  })
})

describe('cart.load', () => {
  it('has live prices, availability, pictures and the subtotal', async () => {
    const p = createProduct({ title: 'Harbor Rain Jacket', slug: 'harbor-rain-jacket' })
    const img = createImage({ productId: p.id, path: 'products/hrj-navy.svg', alt: 'Navy jacket' })
    const navy = createVariant({ productId: p.id, title: 'Navy / M', sku: 'HRJ-NAVY-M', priceCents: 19800, stock: 5, imageId: img.id, options: { Colour: 'Navy', Size: 'M' } })
    const mug = createVariant({ priceCents: 1850, stock: 10 })
    const id = createCart({ lines: [{ variantId: navy.id, quantity: 2 }, { variantId: mug.id, quantity: 1 }] }).id
    const view = (await cart.load(id))!
    expect(view).toMatchObject({ id, version: 0, status: 'open', subtotalCents: 2 * 19800 + 1850, currency: 'usd', itemCount: 3, hasProblems: false })
    expect(view.lines[0]).toEqual({
      variantId: navy.id,
      productId: p.id,
      productSlug: 'harbor-rain-jacket',
      productTitle: 'Harbor Rain Jacket',
      variantTitle: 'Navy / M',
      label: 'Harbor Rain Jacket — Navy / M',
      sku: 'HRJ-NAVY-M',
      options: { Colour: 'Navy', Size: 'M' },
      quantity: 2,
      priceCents: 19800,
      currency: 'usd',
      available: 5,
      imagePath: 'products/hrj-navy.svg',
      imageAlt: 'Navy jacket',
      lineTotalCents: 39600,
      problem: null,
    })
  })

  it('flags lines that sold out, fell below the quantity, or left the shop since they were added', async () => {
    const short = createVariant({ stock: 5 })
    const gone = createVariant({ stock: 5 })
    const hidden = createVariant({ stock: 5 })
    const fine = createVariant({ stock: 5 })
    const id = createCart({
      lines: [
        { variantId: short.id, quantity: 3 },
        { variantId: gone.id, quantity: 1 },
        { variantId: hidden.id, quantity: 1 },
        { variantId: fine.id, quantity: 1 },
      ],
    }).id
    setStock(short.id, 2)
    createHold({ variantId: gone.id, quantity: 5 })
    write((tx) => tx.update(products).set({ status: 'archived' }).where(eq(products.id, hidden.productId)).run())
    const view = (await cart.load(id))!
    expect(view.lines.map((l) => [l.problem, l.available])).toEqual([
      ['short', 2],
      ['sold_out', 0],
      ['unavailable', 0],
      [null, 5],
    ])
    expect(view.hasProblems).toBe(true)
  })

  it('a checked-out cart counts as empty in the header', async () => {
    const v = createVariant()
    const id = createCart({ status: 'converted', lines: [{ variantId: v.id, quantity: 2 }] }).id
    expect(await cart.count(id)).toBe(0)
    expect((await cart.load(id))!.status).toBe('converted')
  })
})

describe('cart.purgeIdle', () => {
  it('deletes carts idle for 30 days with their lines, and keeps the rest', async () => {
    const now = Date.now()
    const v = createVariant()
    const old = createCart({ updatedAt: now - 31 * DAY, lines: [{ variantId: v.id, quantity: 1 }] })
    const recent = createCart({ updatedAt: now - 29 * DAY, lines: [{ variantId: v.id, quantity: 1 }] })
    const hold = createHold({ variantId: v.id, quantity: 1, cartId: old.id, status: 'released' })
    expect(await cart.purgeIdle(now)).toBe(1)
    expect(t.db.select({ id: carts.id }).from(carts).all()).toEqual([{ id: recent.id }])
    expect(lines(old.id)).toEqual([])
    expect(t.db.select({ cartId: stockHolds.cartId }).from(stockHolds).where(eq(stockHolds.id, hold.id)).get()).toEqual({ cartId: null })
    expect(await cart.purgeIdle(now)).toBe(0)
  })

  it('a change keeps a cart alive', async () => {
    const now = Date.now()
    const v = createVariant()
    const id = createCart({ updatedAt: now - 40 * DAY }).id
    await cart.add(id, v.id, 1, now)
    expect(await cart.purgeIdle(now)).toBe(0)
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
