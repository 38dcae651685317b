import { and, eq } from 'drizzle-orm'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { orders as ordersTable, stockHolds, variants } from '@/db/schema'
import * as cart from '@/lib/cart'
import * as checkout from '@/lib/checkout'
import { isExpected } from '@/lib/errors'
import * as inventory from '@/lib/inventory'
import * as reconcile from '@/lib/reconcile'
import { insertCart, insertVariant } from '../support/catalog-rows'
import { startPaymentsEnv, type PaymentsEnv } from '../support/payments-env'

// Finding 2, "the last units sell twice": holds go back only when Stripe says the session
// can no longer be paid. Every scenario ends by asking Stripe what was paid (reconcile) and
// counting paid orders.

let env: PaymentsEnv
beforeEach(async () => {
  env = await startPaymentsEnv()
})
afterEach(() => env.close())

const paidOrders = () => env.t.db.select().from(ordersTable).all().filter((o) => o.status === 'paid')
const stockOf = (variantId: number) => env.t.db.select().from(variants).where(eq(variants.id, variantId)).get()!.stock
const activeHolds = (cartId: string) => env.t.db.select().from(stockHolds).where(and(eq(stockHolds.cartId, cartId), eq(stockHolds.status, 'active'))).all()

/** The shopper pays at Stripe; false when Stripe refuses (the session is no longer open). */
function pays(sessionId: string): boolean {
  try {
    env.stripeServer.emulator.control.pay({ session: sessionId })
    return true
  } catch {
    return false
  }
}

/** Shopper B tries to buy `quantity` units and pays; false when the shop refuses. */
async function otherShopperBuys(variantId: number, quantity: number): Promise<boolean> {
  const b = insertCart([{ variantId, quantity }])
  try {
    const { sessionId } = await checkout.start(b)
    return pays(sessionId)
  } catch {
    return false
  }
}

const editFails = async (fn: () => Promise<unknown>) => {
  try {
    await fn()
    return null
  } catch (err) {
    return err as Error
  }
}

describe('checkout: the last units sell once', () => {
  it('a cart edit while its session is open does not give the held units back (the edit is refused and says why)', async () => {
    const { variantId } = insertVariant({ stock: 2 })
    const a = insertCart([{ variantId, quantity: 2 }])
    const { sessionId } = await checkout.start(a)
    // A edits the cart without the session being closed at Stripe.
    const err = await editFails(() => cart.setQuantity(a, variantId, 1))
    const held = activeHolds(a).length
    const bBought = await otherShopperBuys(variantId, 2)
    const aPaid = pays(sessionId)
    await reconcile.run()
    // what matters first: the last units were sold once
    expect(paidOrders()).toHaveLength(1)
    expect(paidOrders()[0]!.isOversold).toBe(false)
    expect(stockOf(variantId)).toBe(0)
    expect({ held, bBought, aPaid }).toEqual({ held: 1, bBought: false, aPaid: true })
    expect(err?.name).toBe('CheckoutOpen')
    expect(err?.message).toMatch(/checkout open/)
  })

  it('finding 2 replayed: A edits (abandon expires the session first), B buys the last 2, A’s old session cannot be paid → one paid order', async () => {
    const { variantId } = insertVariant({ stock: 2 })
    const a = insertCart([{ variantId, quantity: 2 }])
    const { sessionId } = await checkout.start(a)
    // What the cart actions do: abandon at Stripe, then edit.
    await checkout.abandon(a)
    await cart.setQuantity(a, variantId, 1)
    expect((await env.stripe.checkout.sessions.retrieve(sessionId)).status).toBe('expired')
    expect(await otherShopperBuys(variantId, 2)).toBe(true)
    expect(pays(sessionId)).toBe(false)
    await reconcile.run()
    expect(paidOrders()).toHaveLength(1)
    expect(paidOrders().every((o) => !o.isOversold)).toBe(true)
    expect(stockOf(variantId)).toBe(0)
  })

  it('when Stripe cannot expire the session the holds stay and the shopper is told; no second sale', async () => {
    const { variantId } = insertVariant({ stock: 2 })
    const a = insertCart([{ variantId, quantity: 2 }])
    const { sessionId } = await checkout.start(a)
    env.stripeServer.faults.push(({ path }) => path.endsWith('/expire'))
    const err = await checkout.abandon(a).catch((e: unknown) => e as Error)
    expect(err).toMatchObject({ name: 'CheckoutOpen', message: checkout.CHECKOUT_STILL_OPEN })
    expect(isExpected(err)).toBe(true)
    expect(activeHolds(a)).toHaveLength(1)
    expect(inventory.availableOne(variantId)).toBe(0)
    expect(await otherShopperBuys(variantId, 2)).toBe(false)
    expect(pays(sessionId)).toBe(true)
    await reconcile.run()
    expect(paidOrders()).toHaveLength(1)
  })

  it('a superseding checkout whose expire of the old session fails is refused: the old session keeps its holds, no oversell', async () => {
    const { variantId } = insertVariant({ stock: 2 })
    const a = insertCart([{ variantId, quantity: 2 }])
    const first = await checkout.start(a)
    env.stripeServer.faults.push(({ path }) => path.endsWith('/expire'))
    const second = await checkout.start(a).catch((e: unknown) => e as Error)
    env.stripeServer.faults.length = 0
    // Two tabs: the shopper pays every session that exists for the cart.
    const sessions = await env.stripe.checkout.sessions.list({ limit: 100 })
    for (const s of sessions.data.filter((x) => x.metadata?.cart_id === a)) pays(s.id)
    expect(pays(first.sessionId)).toBe(false) // already paid above
    await reconcile.run()
    expect(paidOrders()).toHaveLength(1)
    expect(paidOrders()[0]!.isOversold).toBe(false)
    expect(stockOf(variantId)).toBe(0)
    expect(second).toMatchObject({ name: 'CheckoutOpen' })
  })

  it('editing a cart whose session was already paid records the order and refuses the edit', async () => {
    const { variantId } = insertVariant({ stock: 3 })
    const a = insertCart([{ variantId, quantity: 2 }])
    const { sessionId } = await checkout.start(a)
    expect(pays(sessionId)).toBe(true)
    const err = await checkout.abandon(a).catch((e: unknown) => e as Error)
    expect(err).toMatchObject({ name: 'CheckoutOpen', message: checkout.CHECKOUT_ALREADY_PAID })
    expect(paidOrders()).toHaveLength(1)
    expect(stockOf(variantId)).toBe(1)
    expect((await editFails(() => cart.setQuantity(a, variantId, 1)))?.name).toBe('NotFound')
  })

  it('canceling from Stripe’s page expires the session, then gives the units back', async () => {
    const { variantId } = insertVariant({ stock: 2 })
    const a = insertCart([{ variantId, quantity: 2 }])
    const { sessionId } = await checkout.start(a)
    expect(await checkout.cancel(a)).toEqual({ released: 1 })
    expect((await env.stripe.checkout.sessions.retrieve(sessionId)).status).toBe('expired')
    expect(inventory.availableOne(variantId)).toBe(2)
  })
})
