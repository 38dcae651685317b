import fs from 'node:fs'
import http from 'node:http'
import os from 'node:os'
import path from 'node:path'
import Stripe from 'stripe'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { startStripeServer, type StripeServer } from '../support/stripe-server'

// Drives the payments emulator only through the official SDK (and its test controls), over
// real HTTP, with a real webhook receiver. Nothing is mocked.

type Received = { headers: http.IncomingHttpHeaders; body: string; event: Stripe.Event }

type Receiver = {
  url: string
  received: Received[]
  /** Answer the next n deliveries with this status instead of 200 ('hang': never answer). */
  failNext(n: number, status?: number | 'hang'): void
  close(): Promise<void>
}

async function startReceiver(secret: string): Promise<Receiver> {
  const received: Received[] = []
  let failures = 0
  let failStatus: number | 'hang' = 500
  const verifier = new Stripe('sk_test_unused')
  const server = http.createServer((req, res) => {
    let body = ''
    req.setEncoding('utf8')
    req.on('data', (c: string) => (body += c))
    req.on('end', () => {
      if (failures > 0) {
        failures--
        if (failStatus !== 'hang') res.writeHead(failStatus).end('nope')
        return
      }
      try {
        const event = verifier.webhooks.constructEvent(body, req.headers['stripe-signature'] as string, secret)
        received.push({ headers: req.headers, body, event })
        res.writeHead(200, { 'Content-Type': 'application/json' }).end('{"received":true}')
      } catch (err) {
        res.writeHead(400).end(String(err))
      }
    })
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const address = server.address() as { port: number }
  return {
    url: `http://127.0.0.1:${address.port}/api/stripe/webhook`,
    received,
    failNext(n, status = 500) {
      failures = n
      failStatus = status
    },
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve())
        server.closeAllConnections()
      }),
  }
}

async function waitFor<T>(what: string, probe: () => T | undefined | Promise<T | undefined>, timeoutMs = 10_000): Promise<T> {
  const deadline = Date.now() + timeoutMs
  for (;;) {
    const value = await probe()
    if (value) return value
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`)
    await new Promise((r) => setTimeout(r, 25))
  }
}

let server: StripeServer
let receiver: Receiver
let stripe: Stripe

beforeEach(async () => {
  receiver = await startReceiver('whsec_test_emulator')
  server = await startStripeServer({
    webhookUrl: receiver.url,
    secretKey: 'sk_test_emulator_suite',
    webhookSecret: 'whsec_test_emulator',
    asyncDelayMs: 300,
    retrySchedule: [100, 200, 300],
    webhookTimeoutMs: 400,
  })
  stripe = new Stripe(server.secretKey, { host: server.host, port: server.port, protocol: 'http', telemetry: false, maxNetworkRetries: 0 })
})

afterEach(async () => {
  await server.close()
  await receiver.close()
})

async function control<T = Record<string, unknown>>(name: string, body: unknown = {}, key = server.secretKey): Promise<{ status: number; body: T }> {
  const res = await fetch(`${server.url}/emulator/test/${name}`, {
    method: 'POST',
    headers: { Authorization: `Bearer ${key}`, 'Content-Type': 'application/json' },
    body: JSON.stringify(body),
  })
  return { status: res.status, body: (await res.json()) as T }
}

function received(type: string, objectId?: string): Received[] {
  return receiver.received.filter((r) => r.event.type === type && (!objectId || (r.event.data.object as { id: string }).id === objectId))
}

function sessionParams(overrides: Partial<Stripe.Checkout.SessionCreateParams> = {}): Stripe.Checkout.SessionCreateParams {
  return {
    mode: 'payment',
    line_items: [
      {
        quantity: 2,
        price_data: {
          currency: 'usd',
          unit_amount: 1250,
          product_data: { name: 'Enamel mug — Blue', description: 'A mug', metadata: { variant_id: '12', sku: 'MUG-BLU' } },
        },
      },
      { quantity: 1, price_data: { currency: 'usd', unit_amount: 3000, product_data: { name: 'Teapot', metadata: { variant_id: '7', sku: 'POT' } } } },
    ],
    metadata: { cart_id: 'cart_abc', cart_version: '3' },
    client_reference_id: 'cart_abc',
    shipping_address_collection: { allowed_countries: ['US', 'CA', 'GB'] },
    shipping_options: [
      {
        shipping_rate_data: {
          display_name: 'Standard',
          type: 'fixed_amount',
          fixed_amount: { amount: 500, currency: 'usd' },
          delivery_estimate: { minimum: { unit: 'business_day', value: 3 }, maximum: { unit: 'business_day', value: 5 } },
        },
      },
      { shipping_rate_data: { display_name: 'Express', type: 'fixed_amount', fixed_amount: { amount: 1500, currency: 'usd' } } },
    ],
    expires_at: Math.floor(Date.now() / 1000) + 3600,
    success_url: 'http://shop.test/checkout/success?session_id={CHECKOUT_SESSION_ID}',
    cancel_url: 'http://shop.test/cart',
    ...overrides,
  }
}

async function payOnPage(sessionId: string, fields: Record<string, string>): Promise<Response> {
  const form = new URLSearchParams({
    email: 'ada@example.com',
    name: 'Ada Lovelace',
    line1: '12 Analytical Way',
    city: 'Toronto',
    state: 'ON',
    postal_code: 'M5V 2T6',
    country: 'CA',
    shipping_rate: '1',
    card: '4242 4242 4242 4242',
    ...fields,
  })
  return fetch(`${server.url}/emulator/checkout/${sessionId}`, {
    method: 'POST',
    body: form,
    headers: { 'Content-Type': 'application/x-www-form-urlencoded' },
    redirect: 'manual',
  })
}

describe('checkout sessions', () => {
  it('creates a session with price_data line items, metadata and shipping options', async () => {
    const session = await stripe.checkout.sessions.create(sessionParams())
    expect(session.id).toMatch(/^cs_test_/)
    expect(session.object).toBe('checkout.session')
    expect(session.url).toBe(`${server.url}/emulator/checkout/${session.id}`)
    expect(session.status).toBe('open')
    expect(session.payment_status).toBe('unpaid')
    expect(session.mode).toBe('payment')
    expect(session.currency).toBe('usd')
    expect(session.amount_subtotal).toBe(5500)
    // Stripe preselects the first shipping option.
    expect(session.shipping_cost?.amount_total).toBe(500)
    expect(session.amount_total).toBe(6000)
    expect(session.metadata).toEqual({ cart_id: 'cart_abc', cart_version: '3' })
    expect(session.client_reference_id).toBe('cart_abc')
    expect(session.payment_intent).toBeNull()
    expect(session.livemode).toBe(false)
    expect(session.shipping_address_collection?.allowed_countries).toEqual(['US', 'CA', 'GB'])
    expect(session.shipping_options).toHaveLength(2)
    expect(session.shipping_options[1]!.shipping_amount).toBe(1500)
    expect(session.expires_at).toBeGreaterThan(session.created)
    expect(session.success_url).toContain('{CHECKOUT_SESSION_ID}')

    const expanded = await stripe.checkout.sessions.retrieve(session.id, { expand: ['line_items.data.price.product'] })
    expect(expanded.line_items?.data).toHaveLength(2)
    const first = expanded.line_items!.data[0]!
    expect(first.id).toMatch(/^li_/)
    expect(first.description).toBe('Enamel mug — Blue')
    expect(first.quantity).toBe(2)
    expect(first.amount_subtotal).toBe(2500)
    expect(first.amount_total).toBe(2500)
    expect(first.price?.unit_amount).toBe(1250)
    const product = first.price?.product as Stripe.Product
    expect(product.id).toMatch(/^prod_/)
    expect(product.name).toBe('Enamel mug — Blue')
    expect(product.metadata).toEqual({ variant_id: '12', sku: 'MUG-BLU' })

    const shallow = await stripe.checkout.sessions.retrieve(session.id, { expand: ['line_items'] })
    expect(typeof shallow.line_items!.data[0]!.price!.product).toBe('string')
    expect((await stripe.checkout.sessions.retrieve(session.id)).line_items).toBeUndefined()
  })

  it('replays an idempotent create and rejects the same key with a different body', async () => {
    const params = sessionParams()
    const first = await stripe.checkout.sessions.create(params, { idempotencyKey: 'checkout-cart_abc-v3' })
    const again = await stripe.checkout.sessions.create(params, { idempotencyKey: 'checkout-cart_abc-v3' })
    expect(again.id).toBe(first.id)
    expect(again.lastResponse.headers['idempotent-replayed']).toBe('true')
    const sessions = await stripe.checkout.sessions.list({ limit: 100 })
    expect(sessions.data).toHaveLength(1)

    const err = await stripe.checkout.sessions.create({ ...params, metadata: { cart_id: 'other' } }, { idempotencyKey: 'checkout-cart_abc-v3' }).catch((e: unknown) => e)
    expect(err).toBeInstanceOf(Stripe.errors.StripeIdempotencyError)
    expect((err as Stripe.errors.StripeError).statusCode).toBe(400)
    expect((err as Stripe.errors.StripeError).message).toMatch(/same parameters/)
  })

  it('pages line items past 100 with the SDK auto-pagination', async () => {
    const lines = Array.from({ length: 130 }, (_, i) => ({ name: `Item ${i}`, unit_amount: 100 + i, quantity: 1 + (i % 3), variant_id: 1000 + i }))
    const { status, body: foreign } = await control<Stripe.Checkout.Session>('foreign-session', { line_items: lines, email: 'buyer@example.com' })
    expect(status).toBe(200)
    const firstPage = await stripe.checkout.sessions.listLineItems(foreign.id, { limit: 100 })
    expect(firstPage.data).toHaveLength(100)
    expect(firstPage.has_more).toBe(true)
    expect(firstPage.url).toBe(`/v1/checkout/sessions/${foreign.id}/line_items`)
    const all = await stripe.checkout.sessions.listLineItems(foreign.id, { limit: 100, expand: ['data.price.product'] }).autoPagingToArray({ limit: 10_000 })
    expect(all).toHaveLength(130)
    expect(all.map((l) => (l.price!.product as Stripe.Product).metadata.variant_id)).toEqual(lines.map((l) => String(l.variant_id)))
    expect(new Set(all.map((l) => l.id)).size).toBe(130)

    const smallPages: string[] = []
    for await (const item of stripe.checkout.sessions.listLineItems(foreign.id, { limit: 7 })) smallPages.push(item.id)
    expect(smallPages).toEqual(all.map((l) => l.id))

    // Like Stripe, a payment-mode session created through the API takes at most 100 lines.
    const tooMany = Array.from({ length: 101 }, (_, i) => ({ quantity: 1, price_data: { currency: 'usd', unit_amount: 100, product_data: { name: `L${i}` } } }))
    const err = (await stripe.checkout.sessions.create(sessionParams({ line_items: tooMany })).catch((e: unknown) => e)) as Stripe.errors.StripeError
    expect(err.statusCode).toBe(400)
    expect(err.param).toBe('line_items')
  })

  it('lists sessions newest first with status, payment_intent and created filters, in both directions', async () => {
    const ids: string[] = []
    for (let i = 0; i < 5; i++) ids.push((await stripe.checkout.sessions.create(sessionParams())).id)
    // The same controls are methods on the in-process emulator.
    const paid = server.emulator.control.pay({ session: ids[1]! })
    const newestFirst = [...ids].reverse()

    const all = await stripe.checkout.sessions.list({ limit: 2 }).autoPagingToArray({ limit: 100 })
    expect(all.map((s) => s.id)).toEqual(newestFirst)
    const page = await stripe.checkout.sessions.list({ limit: 2, starting_after: newestFirst[1] })
    expect(page.data.map((s) => s.id)).toEqual(newestFirst.slice(2, 4))
    expect(page.has_more).toBe(true)
    const back = await stripe.checkout.sessions.list({ limit: 2, ending_before: newestFirst[3] })
    expect(back.data.map((s) => s.id)).toEqual(newestFirst.slice(1, 3))

    expect((await stripe.checkout.sessions.list({ status: 'complete' })).data.map((s) => s.id)).toEqual([ids[1]])
    expect((await stripe.checkout.sessions.list({ status: 'open' })).data).toHaveLength(4)
    expect((await stripe.checkout.sessions.list({ payment_intent: paid.payment_intent as string })).data.map((s) => s.id)).toEqual([ids[1]])
    const now = Math.floor(Date.now() / 1000)
    expect((await stripe.checkout.sessions.list({ created: { gte: now - 60, lte: now + 60 } })).data).toHaveLength(5)
    expect((await stripe.checkout.sessions.list({ created: { gt: now + 60 } })).data).toHaveLength(0)

    const badCursor = (await stripe.checkout.sessions.list({ starting_after: 'cs_test_missing' }).catch((e: unknown) => e)) as Stripe.errors.StripeError
    expect(badCursor.statusCode).toBe(400)
    expect(badCursor.param).toBe('starting_after')
    const badLimit = (await stripe.checkout.sessions.list({ limit: 101 }).catch((e: unknown) => e)) as Stripe.errors.StripeError
    expect(badLimit.param).toBe('limit')
  })

  it('names the offending param for bad input instead of failing', async () => {
    const cases: [Partial<Stripe.Checkout.SessionCreateParams> | Record<string, unknown>, string][] = [
      { success_url: undefined } as never,
      { expires_at: Math.floor(Date.now() / 1000) + 60 },
      { expires_at: Math.floor(Date.now() / 1000) + 25 * 3600 },
      { customer_email: 'not-an-email' },
      { line_items: [{ quantity: 1, price_data: { currency: 'usd', unit_amount: -5, product_data: { name: 'X' } } }] },
      { line_items: [{ quantity: 1, price_data: { currency: 'usd', unit_amount: 5 } }] } as never,
      { surprise: 'yes' } as never,
    ].map((o, i) => [o, ['success_url', 'expires_at', 'expires_at', 'customer_email', 'line_items[0][price_data][unit_amount]', 'line_items[0][price_data][product_data]', 'surprise'][i]!])
    for (const [override, param] of cases) {
      const err = (await stripe.checkout.sessions.create({ ...sessionParams(), ...override } as Stripe.Checkout.SessionCreateParams).catch((e: unknown) => e)) as Stripe.errors.StripeError
      expect(err, param).toBeInstanceOf(Stripe.errors.StripeInvalidRequestError)
      expect(err.statusCode, param).toBe(400)
      expect(err.param, param).toBe(param)
    }
    const missing = (await stripe.checkout.sessions.retrieve('cs_test_nope').catch((e: unknown) => e)) as Stripe.errors.StripeError
    expect(missing.statusCode).toBe(404)
    expect(missing.code).toBe('resource_missing')
  })
})

describe('paying', () => {
  it('pays with 4242 on the hosted page, redirects to success_url and delivers a signed checkout.session.completed', async () => {
    const session = await stripe.checkout.sessions.create(sessionParams())
    const page = await fetch(session.url!)
    expect(page.status).toBe(200)
    const html = await page.text()
    for (const label of ['Email', 'Full name', 'Address line 1', 'Country', 'Card number', 'Pay later (bank transfer — settles in a few seconds)', 'Enamel mug — Blue', 'Standard', 'Express']) {
      expect(html).toContain(label)
    }
    expect(html).toMatch(/simulated/i)
    expect(html).toContain('<label for="card">Card number</label>')

    const res = await payOnPage(session.id, {})
    expect(res.status).toBe(303)
    expect(res.headers.get('location')).toBe(`http://shop.test/checkout/success?session_id=${session.id}`)

    const [delivery] = await waitFor('completed webhook', () => {
      const r = received('checkout.session.completed', session.id)
      return r.length ? r : undefined
    })
    // Verified by the receiver with stripe.webhooks.constructEvent; check the header format too.
    expect(delivery!.headers['stripe-signature']).toMatch(/^t=\d+,v1=[0-9a-f]{64}$/)
    const event = delivery!.event
    expect(event.id).toMatch(/^evt_/)
    expect(event.object).toBe('event')
    expect(event.api_version).toBe(Stripe.API_VERSION)
    expect(event.livemode).toBe(false)
    expect(event.request).toEqual({ id: null, idempotency_key: null })
    const completed = event.data.object as Stripe.Checkout.Session
    expect(completed.status).toBe('complete')
    expect(completed.payment_status).toBe('paid')

    const paid = await stripe.checkout.sessions.retrieve(session.id)
    expect(paid.status).toBe('complete')
    expect(paid.payment_status).toBe('paid')
    expect(paid.url).toBeNull()
    expect(paid.payment_intent).toMatch(/^pi_/)
    expect(paid.shipping_cost).toMatchObject({ amount_total: 1500, shipping_rate: expect.stringMatching(/^shr_/) })
    expect(paid.amount_total).toBe(5500 + 1500)
    expect(paid.total_details?.amount_shipping).toBe(1500)
    expect(paid.customer_details).toMatchObject({ email: 'ada@example.com', name: 'Ada Lovelace', address: { line1: '12 Analytical Way', city: 'Toronto', country: 'CA', postal_code: 'M5V 2T6', state: 'ON', line2: null } })
    expect(paid.collected_information?.shipping_details).toEqual({ name: 'Ada Lovelace', address: paid.customer_details!.address })

    // What the store reads for its receipts: the shipping rate and the charge, expanded in one call.
    const expanded = await stripe.checkout.sessions.retrieve(session.id, { expand: ['shipping_cost.shipping_rate', 'payment_intent.latest_charge'] })
    const rate = expanded.shipping_cost?.shipping_rate as Stripe.ShippingRate
    expect(rate).toMatchObject({ object: 'shipping_rate', id: paid.shipping_cost!.shipping_rate, display_name: 'Express' })
    const expandedCharge = (expanded.payment_intent as Stripe.PaymentIntent).latest_charge as Stripe.Charge
    expect(expandedCharge.payment_method_details).toMatchObject({ type: 'card', card: { brand: 'visa', last4: '4242' } })

    const intent = await stripe.paymentIntents.retrieve(paid.payment_intent as string)
    expect(intent.status).toBe('succeeded')
    expect(intent.amount).toBe(7000)
    expect(intent.amount_received).toBe(7000)
    const charge = await stripe.charges.retrieve(intent.latest_charge as string)
    expect(charge.id).toMatch(/^ch_/)
    expect(charge.paid).toBe(true)
    expect(charge.status).toBe('succeeded')
    expect(charge.payment_intent).toBe(intent.id)
    expect(charge.payment_method_details?.card?.last4).toBe('4242')

    const byIntent = await stripe.checkout.sessions.list({ payment_intent: intent.id })
    expect(byIntent.data.map((s) => s.id)).toEqual([session.id])

    // A second submit (double click) lands on the same success page and charges nothing more.
    const twice = await payOnPage(session.id, {})
    expect(twice.status).toBe(200)
    expect(await twice.text()).toContain('Payment complete')
    expect((await stripe.events.list({ type: 'checkout.session.completed' })).data).toHaveLength(1)
  })

  it('declines 4000 0000 0000 0002 and leaves the session open and unpaid', async () => {
    const session = await stripe.checkout.sessions.create(sessionParams())
    const res = await payOnPage(session.id, { card: '4000 0000 0000 0002' })
    expect(res.status).toBe(402)
    const html = await res.text()
    expect(html).toContain('Your card was declined.')
    expect(html).toContain('value="ada@example.com"')
    const after = await stripe.checkout.sessions.retrieve(session.id)
    expect(after.status).toBe('open')
    expect(after.payment_status).toBe('unpaid')
    expect(after.payment_intent).toBeNull()

    const viaControl = await control<{ error: { type: string; code: string; decline_code: string } }>('pay', { session: session.id, card: '4000000000000002' })
    expect(viaControl.status).toBe(402)
    expect(viaControl.body.error).toMatchObject({ type: 'card_error', code: 'card_declined', decline_code: 'generic_decline' })
    expect((await stripe.events.list()).data).toHaveLength(0)
  })

  it('completes a pay-later session unpaid, then settles it with async_payment_succeeded', async () => {
    const session = await stripe.checkout.sessions.create(sessionParams())
    const res = await payOnPage(session.id, { card: '', pay_later: '1' })
    expect(res.status).toBe(303)
    const completed = await waitFor('completed', () => received('checkout.session.completed', session.id)[0])
    expect((completed.event.data.object as Stripe.Checkout.Session).payment_status).toBe('unpaid')
    const processing = await stripe.paymentIntents.retrieve((completed.event.data.object as Stripe.Checkout.Session).payment_intent as string)
    expect(processing.status).toBe('processing')

    const succeeded = await waitFor('async succeeded', () => received('checkout.session.async_payment_succeeded', session.id)[0])
    expect((succeeded.event.data.object as Stripe.Checkout.Session).payment_status).toBe('paid')
    const after = await stripe.checkout.sessions.retrieve(session.id)
    expect(after.payment_status).toBe('paid')
    expect((await stripe.paymentIntents.retrieve(after.payment_intent as string)).status).toBe('succeeded')
  })

  it('fails a pay-later payment made with 4000 0000 0000 0341 (async_payment_failed)', async () => {
    const session = await stripe.checkout.sessions.create(sessionParams())
    expect((await payOnPage(session.id, { card: '4000 0000 0000 0341', pay_later: 'on' })).status).toBe(303)
    const failed = await waitFor('async failed', () => received('checkout.session.async_payment_failed', session.id)[0])
    expect((failed.event.data.object as Stripe.Checkout.Session).payment_status).toBe('unpaid')
    const intent = await stripe.paymentIntents.retrieve((failed.event.data.object as Stripe.Checkout.Session).payment_intent as string)
    expect(intent.status).toBe('requires_payment_method')
    expect(received('checkout.session.async_payment_succeeded', session.id)).toHaveLength(0)

    // The control endpoint does the same without a browser.
    const other = await stripe.checkout.sessions.create(sessionParams())
    expect((await control('pay', { session: other.id, asyncOutcome: 'failed' })).status).toBe(200)
    await waitFor('async failed (control)', () => received('checkout.session.async_payment_failed', other.id)[0])
  })
})

describe('expiry', () => {
  it('expires a session through the API and emits checkout.session.expired', async () => {
    const session = await stripe.checkout.sessions.create(sessionParams())
    const expired = await stripe.checkout.sessions.expire(session.id)
    expect(expired.status).toBe('expired')
    expect(expired.url).toBeNull()
    await waitFor('expired webhook', () => received('checkout.session.expired', session.id)[0])
    const again = (await stripe.checkout.sessions.expire(session.id).catch((e: unknown) => e)) as Stripe.errors.StripeError
    expect(again.statusCode).toBe(400)
    expect(again.message).toMatch(/status of "expired"/)
    const page = await fetch(session.url!)
    expect(page.status).toBe(410)
    expect(await page.text()).toContain('This checkout has expired')
  })

  it('sweeps open sessions past expires_at', async () => {
    const session = await stripe.checkout.sessions.create(sessionParams({ expires_at: Math.floor(Date.now() / 1000) + 31 * 60 }))
    expect((await control('advance-clock', { seconds: 32 * 60 })).status).toBe(200)
    await waitFor('expired webhook', () => received('checkout.session.expired', session.id)[0])
    expect((await stripe.checkout.sessions.retrieve(session.id)).status).toBe('expired')
    expect((await stripe.checkout.sessions.list({ status: 'expired' })).data.map((s) => s.id)).toEqual([session.id])
  })
})

describe('refunds and disputes', () => {
  async function paidIntent(): Promise<{ session: Stripe.Checkout.Session; intent: string }> {
    const session = await stripe.checkout.sessions.create(sessionParams())
    const { body } = await control<Stripe.Checkout.Session>('pay', { session: session.id, shipping_rate_index: 0 })
    return { session: body, intent: body.payment_intent as string }
  }

  it('refunds partially, then the rest, emitting charge.refunded each time; over-refunding is a 400', async () => {
    const { session, intent } = await paidIntent()
    expect(session.amount_total).toBe(6000)
    const partial = await stripe.refunds.create({ payment_intent: intent, amount: 1000 })
    expect(partial.id).toMatch(/^re_/)
    expect(partial.amount).toBe(1000)
    expect(partial.status).toBe('succeeded')
    expect(partial.payment_intent).toBe(intent)

    const tooMuch = (await stripe.refunds.create({ payment_intent: intent, amount: 5001 }).catch((e: unknown) => e)) as Stripe.errors.StripeError
    expect(tooMuch.statusCode).toBe(400)
    expect(tooMuch.param).toBe('amount')

    const rest = await stripe.refunds.create({ charge: partial.charge as string })
    expect(rest.amount).toBe(5000)
    const events = await waitFor('two charge.refunded', () => {
      const r = received('charge.refunded')
      return r.length === 2 ? r : undefined
    })
    const charges = events.map((e) => e.event.data.object as Stripe.Charge)
    expect(charges.map((c) => c.amount_refunded).sort((a, b) => a - b)).toEqual([1000, 6000])
    const last = charges.find((c) => c.amount_refunded === 6000)!
    expect(last).toMatchObject({ amount: 6000, refunded: true, payment_intent: intent })
    expect(last.refunds?.data.map((r) => r.id)).toEqual([rest.id, partial.id])

    const charge = await stripe.charges.retrieve(partial.charge as string)
    expect(charge.refunded).toBe(true)
    expect(charge.amount_refunded).toBe(6000)
    const again = (await stripe.refunds.create({ payment_intent: intent }).catch((e: unknown) => e)) as Stripe.errors.StripeError
    expect(again.statusCode).toBe(400)
    expect(again.code).toBe('charge_already_refunded')
  })

  it('creates a dispute on a charge and emits charge.dispute.created', async () => {
    const { intent } = await paidIntent()
    const pi = await stripe.paymentIntents.retrieve(intent)
    const { status, body: dispute } = await control<Stripe.Dispute>('dispute', { charge: pi.latest_charge })
    expect(status).toBe(200)
    expect(dispute).toMatchObject({ object: 'dispute', charge: pi.latest_charge, payment_intent: intent, amount: 6000, status: 'needs_response' })
    const delivered = await waitFor('dispute webhook', () => received('charge.dispute.created')[0])
    expect(delivered.event.data.object).toMatchObject({ id: dispute.id, charge: pi.latest_charge, payment_intent: intent })
    expect((await stripe.charges.retrieve(pi.latest_charge as string)).disputed).toBe(true)
  })

  it('lists disputes by charge and payment intent, and closes them won or lost with charge.dispute.closed', async () => {
    const first = await paidIntent()
    const second = await paidIntent()
    const { body: won } = await control<Stripe.Dispute>('dispute', { payment_intent: first.intent })
    const { body: accepted } = await control<Stripe.Dispute>('dispute', { payment_intent: second.intent })
    const byIntent = await stripe.disputes.list({ payment_intent: first.intent })
    expect(byIntent.data.map((d) => d.id)).toEqual([won.id])
    expect((await stripe.disputes.list({ charge: accepted.charge as string })).data.map((d) => d.id)).toEqual([accepted.id])
    expect((await stripe.disputes.list()).data.map((d) => d.id)).toEqual([accepted.id, won.id])
    // The card network decides one; the merchant accepts (closes) the other, which loses it.
    const { status, body: closed } = await control<Stripe.Dispute>('close-dispute', { dispute: won.id, outcome: 'won' })
    expect(status).toBe(200)
    expect(closed.status).toBe('won')
    expect((await stripe.disputes.close(accepted.id)).status).toBe('lost')
    const again = (await stripe.disputes.close(accepted.id).catch((e: unknown) => e)) as Stripe.errors.StripeError
    expect(again.statusCode).toBe(400)
    const events = await stripe.events.list({ types: ['charge.dispute.closed'] })
    expect(events.data.map((e) => [(e.data.object as Stripe.Dispute).id, (e.data.object as Stripe.Dispute).status])).toEqual([
      [accepted.id, 'lost'],
      [won.id, 'won'],
    ])
    expect(events.data[0]!.data.previous_attributes).toEqual({ status: 'needs_response' })
  })
})

describe('events and webhooks', () => {
  it('lists events newest first with types[] and created filters, and pages them', async () => {
    const a = await stripe.checkout.sessions.create(sessionParams())
    const b = await stripe.checkout.sessions.create(sessionParams())
    await control('pay', { session: a.id })
    await stripe.checkout.sessions.expire(b.id)
    await control('foreign-session', { line_items: [{ name: 'Gift card', unit_amount: 2500, variant_id: 3 }] })

    const all = await stripe.events.list()
    expect(all.object).toBe('list')
    expect(all.url).toBe('/v1/events')
    expect(all.data.map((e) => e.type)).toEqual(['checkout.session.completed', 'checkout.session.expired', 'checkout.session.completed'])

    const completed = await stripe.events.list({ types: ['checkout.session.completed'] })
    expect(completed.data).toHaveLength(2)
    const wildcard = await stripe.events.list({ type: 'checkout.session.*' })
    expect(wildcard.data).toHaveLength(3)
    const future = await stripe.events.list({ created: { gte: Math.floor(Date.now() / 1000) + 3600 } })
    expect(future.data).toHaveLength(0)
    const recent = await stripe.events.list({ created: { gte: Math.floor(Date.now() / 1000) - 60 }, types: ['checkout.session.expired'] })
    expect(recent.data.map((e) => (e.data.object as { id: string }).id)).toEqual([b.id])

    const paged: string[] = []
    await stripe.events.list({ limit: 1 }).autoPagingEach((e) => {
      paged.push(e.id)
    })
    expect(paged).toEqual(all.data.map((e) => e.id))
    const one = await stripe.events.retrieve(all.data[0]!.id)
    expect(one.id).toBe(all.data[0]!.id)
  })

  it('retries a delivery after the receiver answers 500, then marks it delivered', async () => {
    receiver.failNext(2, 500)
    const session = await stripe.checkout.sessions.create(sessionParams())
    await control('pay', { session: session.id })
    const delivered = await waitFor('completed after retries', () => received('checkout.session.completed', session.id)[0])
    const { body } = await control<{ data: { event_id: string; status: string; attempts: number; last_status: number }[] }>('deliveries', { event: delivered.event.id })
    expect(body.data).toHaveLength(1)
    expect(body.data[0]).toMatchObject({ status: 'delivered', attempts: 3, last_status: 200 })
    await waitFor('pending_webhooks 0', async () => ((await stripe.events.retrieve(delivered.event.id)).pending_webhooks === 0 ? true : undefined))
  })

  it('keeps undelivered events in its database across a restart', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'till-emulator-restart-'))
    const dbFile = path.join(dir, 'emulator.sqlite3')
    const options = { webhookUrl: receiver.url, secretKey: 'sk_test_restart', webhookSecret: 'whsec_test_emulator', dbFile }
    const first = await startStripeServer({ ...options, isBackgroundOn: false })
    const client = new Stripe(first.secretKey, { host: first.host, port: first.port, protocol: 'http', telemetry: false, maxNetworkRetries: 0 })
    const session = await client.checkout.sessions.create(sessionParams())
    first.emulator.control.pay({ session: session.id })
    await first.close()
    expect(received('checkout.session.completed', session.id)).toHaveLength(0)

    const second = await startStripeServer(options)
    try {
      await waitFor('delivery after restart', () => received('checkout.session.completed', session.id)[0])
    } finally {
      await second.close()
      fs.rmSync(dir, { recursive: true, force: true })
    }
  })

  it('retries after a timeout', async () => {
    receiver.failNext(1, 'hang')
    const session = await stripe.checkout.sessions.create(sessionParams())
    await control('pay', { session: session.id })
    const delivered = await waitFor('completed after a timeout', () => received('checkout.session.completed', session.id)[0])
    const { body } = await control<{ data: { status: string; attempts: number }[] }>('deliveries', { event: delivered.event.id })
    expect(body.data[0]).toMatchObject({ status: 'delivered', attempts: 2 })
  })

  it('gives up after the retry schedule when the receiver is down, and records events without delivering while webhooks are off', async () => {
    await control('webhooks', { url: 'http://127.0.0.1:9/refused' })
    const session = await stripe.checkout.sessions.create(sessionParams())
    await control('pay', { session: session.id })
    const failed = await waitFor('the delivery to fail for good', async () => {
      const { body } = await control<{ data: { status: string; attempts: number; last_error: string | null; last_status: number | null }[] }>('deliveries')
      return body.data[0]?.status === 'failed' ? body.data[0] : undefined
    })
    // One attempt plus one per entry of the retry schedule.
    expect(failed).toMatchObject({ attempts: 4, last_status: null })
    expect(failed.last_error).toBeTruthy()

    expect((await control('webhooks', { webhooks: 'off', url: receiver.url })).body).toEqual({ webhooks: 'off', url: receiver.url })
    const quiet = await stripe.checkout.sessions.create(sessionParams())
    await control('pay', { session: quiet.id })
    const event = (await stripe.events.list({ type: 'checkout.session.completed', limit: 1 })).data[0]!
    expect((event.data.object as { id: string }).id).toBe(quiet.id)
    expect(event.pending_webhooks).toBe(0)
    expect((await control<{ data: unknown[] }>('deliveries', { event: event.id })).body.data).toHaveLength(0)
    await new Promise((r) => setTimeout(r, 300))
    expect(received('checkout.session.completed', quiet.id)).toHaveLength(0)
  })
})

describe('authentication and routing', () => {
  it('answers a bad API key with 401 in Stripe format', async () => {
    const wrong = new Stripe('sk_test_wrong_key_123456', { host: server.host, port: server.port, protocol: 'http', telemetry: false, maxNetworkRetries: 0 })
    const err = (await wrong.checkout.sessions.list().catch((e: unknown) => e)) as Stripe.errors.StripeError
    expect(err).toBeInstanceOf(Stripe.errors.StripeAuthenticationError)
    expect(err.statusCode).toBe(401)
    expect(err.message).toMatch(/^Invalid API Key provided: sk_test_/)
    expect((await control('pay', { session: 'cs_test_x' }, 'sk_test_wrong')).status).toBe(401)
  })

  it('answers unknown routes with a Stripe-style 404', async () => {
    const res = await fetch(`${server.url}/v1/customers`, { headers: { Authorization: `Bearer ${server.secretKey}` } })
    expect(res.status).toBe(404)
    const body = (await res.json()) as { error: { type: string; message: string } }
    expect(body.error.type).toBe('invalid_request_error')
    expect(body.error.message).toMatch(/Unrecognized request URL \(GET: \/v1\/customers\)/)
    expect((await fetch(`${server.url}/somewhere`)).status).toBe(404)
  })
})
