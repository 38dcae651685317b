import Stripe from 'stripe'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { startStripeServer, type StripeServer } from '../support/stripe-server'

// The emulator's Customers, Checkout prefilled from a Customer, recovery URLs of expired
// sessions (after_expiration[recovery]) and promotional consent (consent_collection), driven
// through the official SDK and the hosted page over real HTTP, as Stripe documents them.

let server: StripeServer
let stripe: Stripe

beforeEach(async () => {
  server = await startStripeServer({ secretKey: 'sk_test_emulator_customers', webhookSecret: 'whsec_test_customers' })
  stripe = new Stripe(server.secretKey, { host: server.host, port: server.port, protocol: 'http', telemetry: false, maxNetworkRetries: 0 })
})

afterEach(async () => {
  await server.close()
})

async function control(name: string, body: unknown = {}): Promise<Record<string, unknown>> {
  const res = await fetch(`${server.url}/emulator/test/${name}`, { method: 'POST', headers: { Authorization: `Bearer ${server.secretKey}`, 'Content-Type': 'application/json' }, body: JSON.stringify(body) })
  return (await res.json()) as Record<string, unknown>
}

const params = (overrides: Partial<Stripe.Checkout.SessionCreateParams> = {}): Stripe.Checkout.SessionCreateParams => ({
  mode: 'payment',
  line_items: [{ quantity: 2, price_data: { currency: 'usd', unit_amount: 1250, product_data: { name: 'Enamel mug', metadata: { variant_id: '12' } } } }],
  metadata: { cart_id: 'cart_abc' },
  client_reference_id: 'cart_abc',
  shipping_address_collection: { allowed_countries: ['US', 'GB'] },
  expires_at: Math.floor(Date.now() / 1000) + 3600,
  success_url: 'http://shop.test/checkout/success?session_id={CHECKOUT_SESSION_ID}',
  cancel_url: 'http://shop.test/cart',
  ...overrides,
})

const form = (fields: Record<string, string>) => ({ method: 'POST', headers: { 'Content-Type': 'application/x-www-form-urlencoded' }, body: new URLSearchParams(fields).toString(), redirect: 'manual' as const })

describe('customers', () => {
  it('creates, retrieves and updates a Customer; an idempotency key makes one', async () => {
    const a = await stripe.customers.create({ email: 'sam@example.com', metadata: { account_id: '7' } }, { idempotencyKey: 'customer:account:7' })
    const b = await stripe.customers.create({ email: 'sam@example.com', metadata: { account_id: '7' } }, { idempotencyKey: 'customer:account:7' })
    expect(b.id).toBe(a.id)
    expect(a).toMatchObject({ object: 'customer', email: 'sam@example.com', metadata: { account_id: '7' }, shipping: null })
    expect(a.id).toMatch(/^cus_/)
    const updated = await stripe.customers.update(a.id, { name: 'Sam Shopper' })
    expect((await stripe.customers.retrieve(a.id)) as Stripe.Customer).toMatchObject({ name: 'Sam Shopper', email: 'sam@example.com' })
    expect(updated.name).toBe('Sam Shopper')
    await expect(stripe.customers.retrieve('cus_nope')).rejects.toMatchObject({ code: 'resource_missing' })
    await expect(stripe.customers.create({ email: 'not an email' })).rejects.toMatchObject({ param: 'email' })
  })

  it('prefills Checkout from the Customer and saves the shipping address back (customer_update)', async () => {
    const customer = await stripe.customers.create({ email: 'sam@example.com' })
    const first = await stripe.checkout.sessions.create(params({ customer: customer.id, customer_update: { shipping: 'auto', name: 'auto' } }))
    expect(first.customer).toBe(customer.id)
    expect(first.customer_email).toBeNull()
    expect(first.customer_details?.email).toBe('sam@example.com')
    const page = await (await fetch(first.url!)).text()
    expect(page).toContain('value="sam@example.com"')

    await control('pay', { session: first.id, card: '4242424242424242', name: 'Sam Shopper', address: { line1: '1 Harbour Street', city: 'Portland', postal_code: '04101', country: 'US' } })
    const paid = await stripe.checkout.sessions.retrieve(first.id)
    expect(paid.customer).toBe(customer.id)
    expect(paid.customer_details?.email).toBe('sam@example.com')
    const saved = (await stripe.customers.retrieve(customer.id)) as Stripe.Customer
    expect(saved.shipping).toMatchObject({ name: 'Sam Shopper', address: { line1: '1 Harbour Street', city: 'Portland', country: 'US' } })

    // The next checkout for the Customer starts with the address filled in.
    const second = await stripe.checkout.sessions.create(params({ customer: customer.id }))
    const prefilled = await (await fetch(second.url!)).text()
    expect(prefilled).toContain('value="1 Harbour Street"')
    expect(prefilled).toContain('value="Sam Shopper"')
  })

  it('refuses what Stripe refuses', async () => {
    const customer = await stripe.customers.create({ email: 'sam@example.com' })
    await expect(stripe.checkout.sessions.create(params({ customer: 'cus_missing' }))).rejects.toMatchObject({ code: 'resource_missing', param: 'customer' })
    await expect(stripe.checkout.sessions.create(params({ customer: customer.id, customer_email: 'x@example.com' }))).rejects.toMatchObject({ param: 'customer_email' })
    await expect(stripe.checkout.sessions.create(params({ customer_update: { shipping: 'auto' } }))).rejects.toMatchObject({ param: 'customer_update' })
    await expect(stripe.checkout.sessions.create(params({ consent_collection: { promotions: 'sometimes' as 'auto' } }))).rejects.toMatchObject({ param: 'consent_collection[promotions]' })
  })
})

describe('abandoned checkouts', () => {
  it('an expired session carries its recovery URL and the consent the shopper gave; the URL opens a copy', async () => {
    const session = await stripe.checkout.sessions.create(params({ after_expiration: { recovery: { enabled: true, allow_promotion_codes: true } }, consent_collection: { promotions: 'auto' } }))
    expect(session.after_expiration).toEqual({ recovery: { enabled: true, allow_promotion_codes: true, expires_at: null, url: null } })
    expect(session.consent_collection?.promotions).toBe('auto')
    expect(session.consent).toBeNull()
    const page = await (await fetch(session.url!)).text()
    expect(page).toContain('name="promotions_consent"')

    // The shopper types an email, ticks the box and leaves without paying.
    expect((await fetch(`${session.url!}/details`, form({ email: 'sam@example.com', promotions_consent: '1' }))).status).toBe(204)
    await control('advance-clock', { seconds: 3600 + 60 })
    const expired = await stripe.checkout.sessions.retrieve(session.id)
    expect(expired.status).toBe('expired')
    expect(expired.customer_details?.email).toBe('sam@example.com')
    expect(expired.consent).toEqual({ promotions: 'opt_in', terms_of_service: null })
    const recovery = expired.after_expiration!.recovery!
    expect(recovery.url).toMatch(/\/emulator\/recover\/cs_test_/)
    expect(recovery.expires_at).toBeGreaterThan(expired.expires_at + 29 * 24 * 3600)

    const opened = await fetch(recovery.url!, { redirect: 'manual' })
    expect(opened.status).toBe(303)
    const copyId = /\/emulator\/checkout\/(cs_test_[A-Za-z0-9]+)/.exec(opened.headers.get('location')!)![1]!
    const copy = await stripe.checkout.sessions.retrieve(copyId, { expand: ['line_items'] })
    expect(copy).toMatchObject({ status: 'open', recovered_from: session.id, metadata: { cart_id: 'cart_abc' }, client_reference_id: 'cart_abc', allow_promotion_codes: true, amount_subtotal: 2500 })
    expect(copy.line_items?.data.map((l) => [l.description, l.quantity])).toEqual([['Enamel mug', 2]])
  })

  it('a box left unticked is an opt-out, and a session without recovery gets no URL', async () => {
    const session = await stripe.checkout.sessions.create(params({ consent_collection: { promotions: 'auto' } }))
    await fetch(`${session.url!}/details`, form({ email: 'sam@example.com', promotions_consent: '0' }))
    const expired = await stripe.checkout.sessions.expire(session.id)
    expect(expired.consent?.promotions).toBe('opt_out')
    expect(expired.after_expiration).toBeNull()
    expect((await fetch(`${server.url}/emulator/recover/${session.id}`, { redirect: 'manual' })).status).toBe(404)
  })
})
