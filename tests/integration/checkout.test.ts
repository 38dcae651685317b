import { and, eq, sql } from 'drizzle-orm'
import Stripe from 'stripe'
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest'
import { orders as ordersTable, stockHolds, variants } from '@/db/schema'
import { native, transaction } from '@/db/tx'
import * as cart from '@/lib/cart'
import * as catalog from '@/lib/catalog'
import * as checkout from '@/lib/checkout'
import { resetEnv } from '@/lib/env'
import { CheckoutOpen, isExpected, OutOfStock, PaymentProviderError } from '@/lib/errors'
import * as inventory from '@/lib/inventory'
import { setClient as setStripeClient } from '@/lib/payments/stripe'
import * as reconcile from '@/lib/reconcile'
import { insertCart, insertVariant } from '../support/catalog-rows'
import { ENGINES, useEngine, type TestEngine } from '../support/engines'
import { startPaymentsEnv, type PaymentsEnv } from '../support/payments-env'
import { startStripeServer, type StripeServer } from '../support/stripe-server'
import { rejected } from '../support/thrown'

// Finding 2, "the last units sell twice": holds go back only when Stripe says the session
// can no longer be paid. Every scenario ends by asking Stripe what was paid (reconcile) and
// counting paid orders; those run on SQLite, as order intake does. Then checkout itself
// (lib/checkout.ts) on both engines through db/tx.ts, and on PostgreSQL two app servers
// checking out at once: the last units are held once, and one cart's units once.

let env: PaymentsEnv

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
  beforeEach(async () => {
    env = await startPaymentsEnv()
  })
  afterEach(() => env.close())

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

let made = 0
/** An active product with one variant of `stock` units at $12.50, inserted with raw SQL on either engine. */
async function variantRow(engine: TestEngine, stock: number): Promise<{ productId: number; variantId: number }> {
  const n = ++made
  const [product] = await engine.rows<{ id: number | string }>(sql`INSERT INTO products (slug, title) VALUES (${`checkout-p-${n}`}, ${`Mug ${n}`}) RETURNING id`)
  const [variant] = await engine.rows<{ id: number | string }>(
    sql`INSERT INTO variants (product_id, sku, title, price_cents, stock) VALUES (${Number(product!.id)}, ${`CHECKOUT-${n}`}, 'Blue', 1250, ${stock}) RETURNING id`,
  )
  return { productId: Number(product!.id), variantId: Number(variant!.id) }
}

async function cartRow(engine: TestEngine, lines: { variantId: number; quantity: number }[]): Promise<string> {
  const id = `checkout-cart-${++made}`
  await engine.rows(sql`INSERT INTO carts (id) VALUES (${id}) RETURNING id`)
  for (const line of lines) await engine.rows(sql`INSERT INTO cart_lines (cart_id, variant_id, quantity) VALUES (${id}, ${line.variantId}, ${line.quantity}) RETURNING id`)
  return id
}

type HoldRow = { cartId: string; quantity: number; sessionId: string | null }
async function activeHoldsOf(engine: TestEngine, variantId: number): Promise<HoldRow[]> {
  const rows = await engine.rows<{ cartId: string; quantity: number | string; sessionId: string | null }>(
    sql`SELECT cart_id AS "cartId", quantity, stripe_checkout_session_id AS "sessionId" FROM stock_holds WHERE variant_id = ${variantId} AND status = 'active' ORDER BY id`,
  )
  return rows.map((r) => ({ cartId: r.cartId, quantity: Number(r.quantity), sessionId: r.sessionId }))
}

const stockOn = (engine: TestEngine, variantId: number) => engine.count(sql`SELECT stock AS n FROM variants WHERE id = ${variantId}`)

describe.each(ENGINES)('checkout on %s', (name) => {
  const engine = useEngine(name)
  let stripeServer: StripeServer
  let stripe: Stripe
  beforeAll(async () => {
    // No webhook URL: nothing is paid here, checkout only holds, asks Stripe and tags.
    stripeServer = await startStripeServer({ asyncDelayMs: 60_000 })
    stripe = new Stripe(stripeServer.secretKey, { host: stripeServer.host, port: stripeServer.port, protocol: 'http' })
    Object.assign(process.env, {
      PAYMENTS: 'stripe',
      STRIPE_SECRET_KEY: stripeServer.secretKey,
      STRIPE_WEBHOOK_SECRET: stripeServer.webhookSecret,
      STRIPE_API_BASE: stripeServer.url,
      APP_URL: 'http://127.0.0.1:3999',
      JOBS: 'off',
    })
    resetEnv()
    setStripeClient(undefined)
  })
  afterEach(() => {
    stripeServer.faults.length = 0
  })
  afterAll(async () => {
    setStripeClient(undefined)
    for (const key of ['PAYMENTS', 'STRIPE_SECRET_KEY', 'STRIPE_WEBHOOK_SECRET', 'STRIPE_API_BASE', 'APP_URL', 'JOBS']) delete process.env[key]
    resetEnv()
    await stripeServer.close()
  })

  it('holds the cart’s units, asks Stripe for a session priced from the database, and tags the holds with it', async () => {
    const { variantId } = await variantRow(engine, 5)
    const id = await cartRow(engine, [{ variantId, quantity: 2 }])
    const { sessionId, url } = await checkout.start(id)
    expect(url).toContain(sessionId)
    expect(await activeHoldsOf(engine, variantId)).toEqual([{ cartId: id, quantity: 2, sessionId }])
    expect(await catalog.availability([variantId])).toEqual({ [variantId]: 3 })
    expect(await stockOn(engine, variantId)).toBe(5)
    const session = await stripe.checkout.sessions.retrieve(sessionId, { expand: ['line_items'] })
    expect(session.line_items!.data.map((l) => [l.quantity, l.price!.unit_amount])).toEqual([[2, 1250]])
    expect(session.metadata).toEqual({ cart_id: id, cart_version: '0' })
    expect(session.shipping_address_collection).not.toBeNull()
  })

  it('a cart of downloads only asks Stripe for no address', async () => {
    const { productId, variantId } = await variantRow(engine, 5)
    await engine.rows(sql`INSERT INTO product_files (product_id, storage_key, file_name, content_type, size_bytes) VALUES (${productId}, ${`key-${productId}`}, 'book.pdf', 'application/pdf', 10) RETURNING product_id`)
    const { sessionId } = await checkout.start(await cartRow(engine, [{ variantId, quantity: 1 }]))
    expect((await stripe.checkout.sessions.retrieve(sessionId)).shipping_address_collection).toBeNull()
  })

  it('a second checkout of the cart replaces the first: its session expired, its holds released, the units held once', async () => {
    const { variantId } = await variantRow(engine, 5)
    const id = await cartRow(engine, [{ variantId, quantity: 2 }])
    const first = await checkout.start(id)
    const second = await checkout.start(id)
    expect((await stripe.checkout.sessions.retrieve(first.sessionId)).status).toBe('expired')
    expect(await activeHoldsOf(engine, variantId)).toEqual([{ cartId: id, quantity: 2, sessionId: second.sessionId }])
  })

  it('gives the holds back at once when Stripe cannot make the session, and says so', async () => {
    const { variantId } = await variantRow(engine, 5)
    stripeServer.faults.push(({ method, path }) => method === 'POST' && path === '/v1/checkout/sessions')
    const err = await rejected(checkout.start(await cartRow(engine, [{ variantId, quantity: 2 }])))
    expect(err).toBeInstanceOf(PaymentProviderError)
    expect(err.message).toMatch(/Nothing was charged/)
    expect(await activeHoldsOf(engine, variantId)).toEqual([])
    expect(await catalog.availability([variantId])).toEqual({ [variantId]: 5 })
  })

  it('cancel expires the session, then releases; when Stripe cannot expire it the holds stay and the shopper is told', async () => {
    const { variantId } = await variantRow(engine, 5)
    const id = await cartRow(engine, [{ variantId, quantity: 2 }])
    const { sessionId } = await checkout.start(id)
    expect(await checkout.cancel(id)).toEqual({ released: 1 })
    expect((await stripe.checkout.sessions.retrieve(sessionId)).status).toBe('expired')
    expect(await activeHoldsOf(engine, variantId)).toEqual([])
    const again = await checkout.start(id)
    stripeServer.faults.push(({ path }) => path.endsWith('/expire'))
    const err = await rejected(checkout.abandon(id))
    expect(err).toBeInstanceOf(CheckoutOpen)
    expect(err.message).toBe(checkout.CHECKOUT_STILL_OPEN)
    expect(await activeHoldsOf(engine, variantId)).toEqual([{ cartId: id, quantity: 2, sessionId: again.sessionId }])
  })

  it('refuses a cart whose units are held by another checkout with the store’s “sold out”, holding nothing for it', async () => {
    const { variantId } = await variantRow(engine, 1)
    const a = await cartRow(engine, [{ variantId, quantity: 1 }])
    const b = await cartRow(engine, [{ variantId, quantity: 1 }])
    await checkout.start(a)
    const err = await rejected(checkout.start(b))
    expect(err).toBeInstanceOf(OutOfStock)
    expect(err.message).toMatch(/sold out/i)
    expect((await activeHoldsOf(engine, variantId)).map((h) => h.cartId)).toEqual([a])
  })

  it.runIf(name === 'postgres')('20 checkouts from two app servers for the last 3 units: 3 held, the stock untouched, 17 told it is sold out', async () => {
    const { variantId } = await variantRow(engine, 3)
    const carts = await Promise.all(Array.from({ length: 20 }, () => cartRow(engine, [{ variantId, quantity: 1 }])))
    const servers = engine.appServers(2)
    try {
      const results = await Promise.allSettled(carts.map((id) => checkout.start(id)))
      const paying = results.filter((r) => r.status === 'fulfilled')
      const refused = results.flatMap((r) => (r.status === 'rejected' ? [r.reason as Error] : []))
      expect(paying).toHaveLength(3)
      expect(refused).toHaveLength(17)
      for (const err of refused) {
        expect(err).toBeInstanceOf(OutOfStock)
        expect(err.message).toMatch(/sold out/i)
      }
      const holds = await activeHoldsOf(engine, variantId)
      expect(holds.reduce((sum, h) => sum + h.quantity, 0)).toBe(3)
      expect(holds.every((h) => h.sessionId !== null)).toBe(true)
      expect(await stockOn(engine, variantId)).toBe(3)
      expect(await catalog.availability([variantId])).toEqual({ [variantId]: 0 })
    } finally {
      await servers.end()
    }
  })

  it.runIf(name === 'postgres')('a session tagged while another checkout of the cart is between its look for open sessions and its release: the cart’s units held once', async () => {
    const { variantId } = await variantRow(engine, 50)
    const id = await cartRow(engine, [{ variantId, quantity: 2 }])
    const waiting = () => engine.count(sql`SELECT count(*) AS n FROM pg_locks WHERE locktype = 'advisory' AND NOT granted`)
    const until = async (done: () => Promise<boolean>) => {
      for (let i = 0; i < 500 && !(await done()); i++) await new Promise((r) => setTimeout(r, 10))
    }
    // A holds its units, then Stripe's answer with its session is held back.
    const answer = stripeServer.holdNext(({ method, path }) => method === 'POST' && path === '/v1/checkout/sessions')
    const first = checkout.start(id).then(
      () => 'paying',
      (err: Error) => err.name,
    )
    await answer.captured
    // The variant's hold turn is taken (as a checkout of another cart would have it), so B,
    // checking the same cart out, stops after its look for open sessions (none: A's holds are untagged).
    let letGo!: () => void
    const gate = new Promise<void>((resolve) => (letGo = resolve))
    let isTurnTaken!: () => void
    const turnTaken = new Promise<void>((resolve) => (isTurnTaken = resolve))
    const turn = transaction(() =>
      native({
        sqlite: () => undefined,
        postgres: async (client) => {
          await client.query('SELECT pg_advisory_xact_lock(hashtextextended($1, 0))', [`inventory.hold:${variantId}`])
          isTurnTaken()
          await gate
        },
      }),
    )
    await turnTaken
    const second = checkout.start(id).then(
      () => 'paying',
      (err: Error) => err.name,
    )
    await until(async () => (await waiting()) === 1)
    // A's session arrives and A tags its holds: it must wait for B's reservation, not land inside it.
    let isFirstDone = false
    void first.then(() => (isFirstDone = true))
    answer.release()
    await until(async () => isFirstDone || (await waiting()) === 2)
    letGo()
    await turn
    expect(await Promise.all([first, second])).toEqual(['CheckoutOpen', 'paying'])
    const holds = await activeHoldsOf(engine, variantId)
    expect(holds).toHaveLength(1)
    const open = (await stripe.checkout.sessions.list({ limit: 100 })).data.filter((s) => s.metadata?.cart_id === id && s.status === 'open')
    expect(open.map((s) => s.id)).toEqual([holds[0]!.sessionId])
  })

  it.runIf(name === 'postgres')('8 checkouts of one cart at once from two app servers hold its units once', async () => {
    const { variantId } = await variantRow(engine, 50)
    const id = await cartRow(engine, [{ variantId, quantity: 2 }])
    const servers = engine.appServers(2)
    try {
      const results = await Promise.allSettled(Array.from({ length: 8 }, () => checkout.start(id)))
      // each one that did not get a live session was told its cart changed or has a checkout open
      for (const r of results) if (r.status === 'rejected') expect(r.reason).toBeInstanceOf(CheckoutOpen)
      const holds = await activeHoldsOf(engine, variantId)
      expect(holds).toHaveLength(1)
      expect(holds[0]).toMatchObject({ cartId: id, quantity: 2 })
      const open = (await stripe.checkout.sessions.list({ limit: 100 })).data.filter((s) => s.metadata?.cart_id === id && s.status === 'open')
      expect(open.map((s) => s.id)).toEqual([holds[0]!.sessionId])
    } finally {
      await servers.end()
    }
  })
})
