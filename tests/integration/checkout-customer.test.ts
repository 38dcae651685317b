import { sql } from 'drizzle-orm'
import Stripe from 'stripe'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type * as accounts from '@/lib/accounts'
import * as checkout from '@/lib/checkout'
import { resetEnv } from '@/lib/env'
import { setClient as setStripeClient } from '@/lib/payments/stripe'
import { ENGINES, useEngine, type TestEngine } from '../support/engines'
import { startStripeServer, type StripeServer } from '../support/stripe-server'

// "Checkout remembers": a signed-in shopper's Checkout Session is made for their Stripe
// Customer, created once per account and stored against it, so Stripe's page prefills. On
// both engines through db/tx.ts.

let made = 0

async function newAccount(engine: TestEngine, email: string): Promise<accounts.Account> {
  const [row] = await engine.rows<{ id: number | string }>(sql`INSERT INTO accounts (email, created_at) VALUES (${email}, ${Date.now()}) RETURNING id`)
  return { id: Number(row!.id), email, stripeCustomerId: null, sessionId: 'test' }
}

/** A variant of 10 units at $25 and a cart of one of it, inserted with raw SQL on either engine; the cart's id. */
async function cartOfOne(engine: TestEngine): Promise<string> {
  const n = ++made
  const [product] = await engine.rows<{ id: number | string }>(sql`INSERT INTO products (slug, title) VALUES (${`customer-p-${n}`}, ${`Product ${n}`}) RETURNING id`)
  const [variant] = await engine.rows<{ id: number | string }>(
    sql`INSERT INTO variants (product_id, sku, title, price_cents, stock) VALUES (${Number(product!.id)}, ${`CUSTOMER-${n}`}, 'Default', 2500, 10) RETURNING id`,
  )
  const id = `customer-cart-${n}`
  await engine.rows(sql`INSERT INTO carts (id) VALUES (${id}) RETURNING id`)
  await engine.rows(sql`INSERT INTO cart_lines (cart_id, variant_id, quantity) VALUES (${id}, ${Number(variant!.id)}, 1) RETURNING id`)
  return id
}

const storedCustomer = async (engine: TestEngine, id: number) => (await engine.rows<{ c: string | null }>(sql`SELECT stripe_customer_id AS c FROM accounts WHERE id = ${id}`))[0]!.c

describe.each(ENGINES)('checkout for a signed-in shopper on %s', (name) => {
  const engine = useEngine(name)
  let stripeServer: StripeServer
  let stripe: Stripe
  beforeAll(async () => {
    stripeServer = await startStripeServer({ asyncDelayMs: 60_000 })
    stripe = new Stripe(stripeServer.secretKey, { host: stripeServer.host, port: stripeServer.port, protocol: 'http' })
    Object.assign(process.env, { PAYMENTS: 'stripe', STRIPE_SECRET_KEY: stripeServer.secretKey, STRIPE_WEBHOOK_SECRET: stripeServer.webhookSecret, STRIPE_API_BASE: stripeServer.url, APP_URL: 'http://127.0.0.1:3999', JOBS: 'off' })
    resetEnv()
    setStripeClient(undefined)
  })
  afterAll(async () => {
    setStripeClient(undefined)
    for (const key of ['PAYMENTS', 'STRIPE_SECRET_KEY', 'STRIPE_WEBHOOK_SECRET', 'STRIPE_API_BASE', 'APP_URL', 'JOBS']) delete process.env[key]
    resetEnv()
    await stripeServer.close()
  })

  it('creates the Customer once (even for two checkouts at once), stores it, and Checkout starts from it', async () => {
    const shopper = await newAccount(engine, 'sam@example.com')
    const [a, b] = await Promise.all([checkout.start(await cartOfOne(engine), null, shopper), checkout.start(await cartOfOne(engine), null, shopper)])
    const customerId = await storedCustomer(engine, shopper.id)
    expect(customerId).toMatch(/^cus_/)
    const [sa, sb] = await Promise.all([stripe.checkout.sessions.retrieve(a.sessionId), stripe.checkout.sessions.retrieve(b.sessionId)])
    expect([sa.customer, sb.customer]).toEqual([customerId, customerId])
    expect(sa.customer_details?.email).toBe('sam@example.com')
    const customer = await stripe.customers.retrieve(customerId!)
    expect(customer).toMatchObject({ email: 'sam@example.com', metadata: { account_id: String(shopper.id) } })

    // The shopper pays; the address they enter is saved on the Customer and the next
    // checkout's page starts with it.
    stripeServer.emulator.control.pay({ session: a.sessionId, name: 'Sam Shopper', address: { line1: '1 Harbour Street', city: 'Portland', postal_code: '04101', country: 'US' } })
    const next = await checkout.start(await cartOfOne(engine), null, { ...shopper, stripeCustomerId: customerId })
    const page = await (await fetch(next.url)).text()
    expect(page).toContain('value="sam@example.com"')
    expect(page).toContain('value="1 Harbour Street"')
    expect(await storedCustomer(engine, shopper.id)).toBe(customerId)
  })

  it('a guest checks out as before, with no Customer', async () => {
    const { sessionId } = await checkout.start(await cartOfOne(engine))
    expect((await stripe.checkout.sessions.retrieve(sessionId)).customer).toBeNull()
  })
})
