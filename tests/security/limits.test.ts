import fs from 'node:fs'
import http from 'node:http'
import path from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { count, makeCart, someVariant } from '../support/running-store'
import { startServer, type ServerHandle } from '../support/server'
import { storeRows, type StoreRows } from '../support/store-file'
import { cartCookie, leaks, multipart, rowCounts, rssMb, send, type RawRequest, type RawResponse } from './support'

// The limits that keep one client from hurting the shop, against the production build with
// small limits: checkout starts per cart and per address, units per item, look-ups of
// unknown checkouts, the success page's polling, the webhook's body cap, the cancel page
// that only cancels on a same-origin POST, and the headers that protect uploads and HTTPS.

const LIMITS = { CHECKOUT_LIMIT_PER_ADDRESS: '3', CHECKOUT_LIMIT_PER_CART: '2', SESSION_LOOKUP_LIMIT_PER_ADDRESS: '2', CART_MAX_UNITS_PER_ITEM: '5' }

let server: ServerHandle
let db: StoreRows
let variant: { id: number; productId: number }
let slug: string
const sent: RawResponse[] = []

async function hit(req: RawRequest): Promise<RawResponse> {
  const res = await send(server.url, req)
  sent.push(res)
  expect(res.status, res.request).toBeGreaterThan(0)
  expect(res.status, res.request).toBeLessThan(500)
  expect(leaks(res.text, server.storageDir), res.request).toEqual([])
  return res
}

beforeAll(async () => {
  // As behind a proxy on this host: X-Forwarded-For from 127.0.0.1 is believed (lib/request/client-address.ts).
  server = await startServer({ env: { JOBS: 'off', TRUSTED_PROXIES: '127.0.0.1', ...LIMITS } })
  db = storeRows(server.storageDir)
  const some = await someVariant(db)
  variant = some
  slug = some.slug
  await db.run('UPDATE variants SET stock = 1000 WHERE id = ?', variant.id)
})

afterAll(async () => {
  console.log(`security (limits): ${sent.length} requests, ${sent.filter((r) => r.status >= 500).length} responses >= 500`)
  await db?.close()
  await server?.stop()
})

/** The server-action id of the form on `html` that contains `marker`. */
function formActionId(html: string, marker: string): string {
  const form = html.split('<form').find((chunk) => chunk.includes(marker))
  const id = form && /\$ACTION_ID_([0-9a-f]+)/.exec(form)?.[1]
  if (!id) throw new Error(`no server-action form with ${marker}`)
  return id
}

async function cartPage(cartId: string): Promise<string> {
  return (await fetch(`${server.url}/cart`, { headers: { cookie: cartCookie(cartId) } })).text()
}

/** Presses "Checkout" on the cart page from `address`; the 303's Location. */
async function pressCheckout(cartId: string, address: string, origin = server.url): Promise<string> {
  const form = multipart([[`$ACTION_ID_${formActionId(await cartPage(cartId), 'checkout-button')}`, '']])
  const res = await hit({ method: 'POST', path: '/cart', headers: { Origin: origin, Cookie: cartCookie(cartId), 'X-Forwarded-For': address, 'Content-Type': form.contentType }, body: form.body })
  expect(res.status).toBe(303)
  return res.headers.location ?? ''
}

const isPaymentPage = (location: string) => /\/emulator\/checkout\/cs_test_/.test(location)
const errorOf = (location: string) => new URL(location, server.url).searchParams.get('error')
const activeHolds = (cartId: string) => count(db, `SELECT count(*) AS n FROM stock_holds WHERE cart_id = ? AND status = 'active'`, cartId)
const newCart = () => makeCart(db, [{ variantId: variant.id, quantity: 1 }])

describe('checkout starts', () => {
  it('are limited per cart, whatever address they come from', async () => {
    const cartId = await newCart()
    expect(isPaymentPage(await pressCheckout(cartId, '10.1.0.1'))).toBe(true)
    expect(isPaymentPage(await pressCheckout(cartId, '10.1.0.2'))).toBe(true)
    const holds = await activeHolds(cartId)
    const third = await pressCheckout(cartId, '10.1.0.3')
    expect(errorOf(third)).toMatch(/too many checkout attempts/i)
    // the refused start neither released nor placed holds
    expect(await activeHolds(cartId)).toBe(holds)
  })

  it('are limited per client address (the hop the trusted proxy appended), and other addresses are unaffected', async () => {
    const carts: string[] = []
    for (let i = 0; i < 5; i++) carts.push(await newCart())
    // a client's own X-Forwarded-For entries before the proxy's change nothing
    for (const [i, cartId] of carts.slice(0, 3).entries()) expect(isPaymentPage(await pressCheckout(cartId, `192.168.0.${i}, 10.2.0.1`))).toBe(true)
    const before = await rowCounts(db)
    expect(errorOf(await pressCheckout(carts[3]!, '10.2.0.1'))).toMatch(/too many checkout attempts/i)
    expect(await rowCounts(db)).toEqual(before)
    expect(await activeHolds(carts[3]!)).toBe(0)
    expect(isPaymentPage(await pressCheckout(carts[4]!, '10.2.0.2'))).toBe(true)
  })
})

describe('units of one item in a cart', () => {
  it('are capped at CART_MAX_UNITS_PER_ITEM by add and by set, with a clear message', async () => {
    const productHtml = await (await fetch(`${server.url}/products/${slug}`)).text()
    const addId = formActionId(productHtml, 'add-to-cart-form')
    const add = async (quantity: number, cookie?: string) => {
      const form = multipart([[`$ACTION_ID_${addId}`, ''], ['productSlug', slug], ['variantId', String(variant.id)], ['quantity', String(quantity)]])
      const res = await hit({ method: 'POST', path: `/products/${slug}`, headers: { Origin: server.url, 'Content-Type': form.contentType, ...(cookie ? { Cookie: cookie } : {}) }, body: form.body })
      expect(res.status).toBe(303)
      const url = new URL(res.headers.location ?? '', server.url)
      return { error: url.searchParams.get('error'), notice: url.searchParams.get('notice'), cookie: res.headers['set-cookie']?.split(';')[0] ?? cookie }
    }
    const tooMany = await add(6)
    expect(tooMany.error).toBe('You can have at most 5 of one item.')
    const first = await add(3)
    expect(first.notice).toMatch(/^Added 3 /)
    const cartId = first.cookie!.split('=')[1]!
    const second = await add(3, first.cookie)
    expect(second.error).toBe('You can have at most 5 of one item.')
    expect(await db.get('SELECT quantity FROM cart_lines WHERE cart_id = ?', cartId)).toEqual({ quantity: 3 })

    const updateId = formActionId(await cartPage(cartId), 'name="quantity"')
    const form = multipart([[`$ACTION_ID_${updateId}`, ''], ['variantId', String(variant.id)], ['quantity', '6']])
    const res = await hit({ method: 'POST', path: '/cart', headers: { Origin: server.url, Cookie: first.cookie!, 'Content-Type': form.contentType }, body: form.body })
    expect(new URL(res.headers.location ?? '', server.url).searchParams.get('error')).toBe('You can have at most 5 of one item.')
    expect(await db.get('SELECT quantity FROM cart_lines WHERE cart_id = ?', cartId)).toEqual({ quantity: 3 })
  })
})

describe('the success page', () => {
  const success = (sessionId: string, address: string, extra = '') => hit({ path: `/checkout/success?session_id=${sessionId}${extra}`, headers: { 'X-Forwarded-For': address } })

  it('never looks up a malformed session id, and limits look-ups of unknown ones per address', async () => {
    for (const bad of ['cs_abcdefgh', 'cs_test_short', 'cs_prod_' + 'a'.repeat(40), 'cs_test_' + 'a'.repeat(40) + '_x', 'pi_test_' + 'a'.repeat(40)]) {
      expect((await success(bad, '10.3.0.1')).text).toMatch(/could not find that checkout/)
    }
    // malformed ids cost nothing: both of this address's look-ups are still there
    const unknown = (n: number) => `cs_test_${String(n).padStart(40, 'Z')}`
    expect((await success(unknown(1), '10.3.0.1')).text).toMatch(/could not find that checkout/)
    expect((await success(unknown(2), '10.3.0.1')).text).toMatch(/could not find that checkout/)
    const limited = await success(unknown(3), '10.3.0.1')
    expect(limited.text).toMatch(/data-testid="lookup-limited"/)
    expect(limited.text).toMatch(/Too many look-ups/)
    expect((await success(unknown(4), '10.3.0.2')).text).toMatch(/could not find that checkout/)
  })

  it('stops refreshing itself after a bound and offers a link; a session started here is never limited', async () => {
    const location = await pressCheckout(await newCart(), '10.4.0.1')
    const sessionId = /cs_test_[A-Za-z0-9]+/.exec(location)![0]
    // this address has used up its look-ups of unknown sessions
    for (let n = 0; n < 3; n++) await success(`cs_test_${String(n).padStart(40, 'Y')}`, '10.4.0.9')
    const first = await success(sessionId, '10.4.0.9')
    expect(first.text).toMatch(/Confirming your payment/)
    expect(first.text).toMatch(/http-equiv="refresh" content="3;url=\/checkout\/success\?session_id=cs_test_[A-Za-z0-9]+&amp;poll=1"/)
    const last = await success(sessionId, '10.4.0.9', '&poll=20')
    expect(last.text).toMatch(/data-testid="polling-stopped"/)
    expect(last.text).not.toMatch(/http-equiv="refresh"/)
    expect(last.text).toMatch(/data-testid="check-again"/)
    expect((await success(sessionId, '10.4.0.9', '&poll=999999')).text).not.toMatch(/http-equiv="refresh"/)
  })
})

describe('the cancel page', () => {
  it('shows a button on GET and cancels only on a same-origin POST', async () => {
    const cartId = await newCart()
    expect(isPaymentPage(await pressCheckout(cartId, '10.5.0.1'))).toBe(true)
    expect(await activeHolds(cartId)).toBe(1)

    const page = await hit({ path: '/checkout/cancel', headers: { Cookie: cartCookie(cartId) } })
    expect(page.status).toBe(200)
    expect(page.text).toMatch(/data-testid="cancel-checkout"/)
    expect(await activeHolds(cartId)).toBe(1)

    const form = multipart([[`$ACTION_ID_${formActionId(page.text, 'cancel-checkout')}`, '']])
    const forged = await hit({ method: 'POST', path: '/checkout/cancel', headers: { Origin: 'https://evil.example', Cookie: cartCookie(cartId), 'Content-Type': form.contentType }, body: form.body })
    expect(forged.status).toBe(403)
    expect(await activeHolds(cartId)).toBe(1)

    const res = await hit({ method: 'POST', path: '/checkout/cancel', headers: { Origin: server.url, Cookie: cartCookie(cartId), 'Content-Type': form.contentType }, body: form.body })
    expect(res.status).toBe(303)
    expect(new URL(res.headers.location ?? '', server.url).searchParams.get('notice')).toMatch(/checkout canceled/i)
    expect(await activeHolds(cartId)).toBe(0)
  })
})

/** Streams a body of up to `total` bytes until the server answers; how much was sent by then. */
function upload(url: string, total: number, headers: Record<string, string>): Promise<{ status: number; sentBytes: number }> {
  return new Promise((resolve) => {
    const req = http.request(url, { method: 'POST', headers })
    const chunk = Buffer.alloc(64 * 1024, 'a')
    let sentBytes = 0
    let answered = false
    req.on('response', (res) => {
      answered = true
      res.resume()
      resolve({ status: res.statusCode ?? 0, sentBytes })
      req.destroy()
    })
    req.on('error', () => {
      if (!answered) resolve({ status: 0, sentBytes })
    })
    const pump = () => {
      while (!answered && sentBytes < total) {
        sentBytes += chunk.length
        if (!req.write(chunk)) {
          req.once('drain', pump)
          return
        }
      }
      if (!answered) req.end()
    }
    pump()
  })
}

describe('the webhook', () => {
  // The emulator delivers real events for earlier tests' checkouts meanwhile, so what is
  // checked is that nothing forged was recorded.
  const forgedRows = () => db.get(`SELECT (SELECT count(*) FROM stripe_events WHERE id LIKE 'evt_forged%') + (SELECT count(*) FROM orders WHERE stripe_checkout_session_id LIKE 'cs_test_forged%') AS n`)
  const webhook = (headers: Record<string, string>, body: string, method = 'POST') => hit({ method, path: '/api/stripe/webhook', headers: { 'Content-Type': 'application/json', ...headers }, body })

  it('refuses forged, missing and malformed signatures with 400 and records nothing', async () => {
    const { orders } = await rowCounts(db)
    const event = JSON.stringify({ id: 'evt_forged', type: 'checkout.session.completed', data: { object: { id: 'cs_test_forged' } } })
    const now = Math.floor(Date.now() / 1000)
    for (const signature of [`t=${now},v1=${'0'.repeat(64)}`, `t=1,v1=${'0'.repeat(64)}`, 'garbage', '', 't=,v1=', `t=${now}`, 'v1=' + 'f'.repeat(64), `t=${now},v1=${'0'.repeat(64)},v0=x`.repeat(100)]) {
      expect((await webhook({ 'Stripe-Signature': signature }, event)).status, signature.slice(0, 40)).toBe(400)
    }
    expect((await webhook({}, event)).status).toBe(400)
    expect((await webhook({ 'Stripe-Signature': `t=${now},v1=00` }, '{"a":')).status).toBe(400)
    expect((await webhook({ 'Stripe-Signature': `t=${now},v1=00` }, '\u0000\u00ff')).status).toBe(400)
    for (const method of ['GET', 'PUT', 'DELETE', 'PATCH']) expect((await webhook({}, '', method)).status, method).toBe(405)
    expect(await forgedRows()).toEqual({ n: 0 })
    expect((await rowCounts(db)).orders).toBe(orders)
  })

  it('answers 413 to a large Content-Length before reading the body', async () => {
    const res = await hit({ method: 'POST', path: '/api/stripe/webhook', headers: { 'Content-Type': 'application/json', 'Stripe-Signature': 't=1,v1=00', 'Content-Length': String(300 * 1024 * 1024) }, body: '{"a":1}', timeoutMs: 10_000 })
    expect(res.status).toBe(413)
    const streamed = await upload(`${server.url}/api/stripe/webhook`, 128 * 1024 * 1024, { 'content-type': 'application/json', 'stripe-signature': 't=1,v1=00', 'content-length': String(128 * 1024 * 1024) })
    expect(streamed.status).toBe(413)
    expect(streamed.sentBytes).toBeLessThan(32 * 1024 * 1024)
  })

  it('stops reading a chunked body once it passes 1 MB, and its memory does not grow with the body', async () => {
    const rssBefore = rssMb(server.process.pid!)
    const streamed = await upload(`${server.url}/api/stripe/webhook`, 128 * 1024 * 1024, { 'content-type': 'application/json', 'stripe-signature': 't=1,v1=00', 'transfer-encoding': 'chunked' })
    const rssAfter = rssMb(server.process.pid!)
    console.log(`security: chunked 128 MB webhook upload answered ${streamed.status} after ${(streamed.sentBytes / 1024 / 1024).toFixed(1)} MB sent; server RSS ${rssBefore.toFixed(0)} -> ${rssAfter.toFixed(0)} MB`)
    expect(streamed.status).toBe(413)
    expect(streamed.sentBytes).toBeLessThan(32 * 1024 * 1024)
    expect(rssAfter - rssBefore).toBeLessThan(100)
    // a body just under the limit is still read (and refused for its signature)
    expect((await webhook({ 'Stripe-Signature': 't=1,v1=00' }, `{"id":"evt_forged_big","pad":"${'p'.repeat(1_000_000)}"}`)).status).toBe(400)
    expect(await forgedRows()).toEqual({ n: 0 })
  })
})

describe('response headers', () => {
  it('give uploads the sandbox policy, not the pages’ one', async () => {
    // An SVG can carry script: the demo's pictures are JPEGs, so the test puts one in place.
    fs.writeFileSync(path.join(server.storageDir, 'uploads', 'products', 'probe.svg'), '<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 1 1"><script>alert(1)</script></svg>')
    const image = (await db.get<{ path: string }>(`SELECT path FROM product_images ORDER BY id LIMIT 1`))!
    for (const [uploadPath, type] of [['products/probe.svg', 'image/svg+xml'], [image.path, 'image/jpeg']] as const) {
      const res = await hit({ path: `/uploads/${uploadPath}` })
      expect(res.status).toBe(200)
      expect(res.headers['content-type']).toBe(type)
      expect(res.headers['content-security-policy']).toBe("default-src 'none'; style-src 'unsafe-inline'; sandbox")
      expect(res.headers['x-content-type-options']).toBe('nosniff')
    }
    const missing = await hit({ path: '/uploads/products/nope.svg' })
    expect(missing.headers['content-security-policy']).toBe("default-src 'none'; style-src 'unsafe-inline'; sandbox")
    const page = await hit({ path: '/' })
    expect(page.headers['content-security-policy']).toMatch(/^default-src 'self'/)
  })

  it('send no HSTS when APP_URL is http', async () => {
    const res = await hit({ path: '/' })
    expect(res.status).toBe(200)
    expect(res.headers['strict-transport-security']).toBeUndefined()
  })

  it('send HSTS when APP_URL is https', async () => {
    const https = await startServer({ env: { JOBS: 'off', APP_URL: 'https://shop.example' } })
    try {
      for (const path of ['/', '/products', '/up', '/cart/count']) {
        const res = await send(https.url, { path })
        sent.push(res)
        expect(res.status, path).toBe(200)
        expect(res.headers['strict-transport-security'], path).toBe('max-age=63072000; includeSubDomains')
      }
    } finally {
      await https.stop()
    }
  })
})

describe('keep-alive connections', () => {
  /** GET /up on `agent`; whether the request went out on a socket the agent reused. */
  function up(agent: http.Agent): Promise<{ status: number; reused: boolean }> {
    return new Promise((resolve, reject) => {
      const req = http.get(`${server.url}/up`, { agent }, (res) => {
        res.resume()
        res.on('end', () => resolve({ status: res.statusCode ?? 0, reused: req.reusedSocket }))
      })
      req.on('error', reject)
    })
  }

  it('stay open past Node’s 5 s default, so a pooled client reusing one after a pause is answered', async () => {
    // With the default, the server closes the idle socket after 5 s and a client reusing it at
    // that moment meets a reset; here the pause is longer than the default, and the same
    // socket must still be open and answer.
    const agent = new http.Agent({ keepAlive: true, maxSockets: 1 })
    try {
      expect(await up(agent)).toEqual({ status: 200, reused: false })
      await new Promise((resolve) => setTimeout(resolve, 6_000))
      expect(await up(agent)).toEqual({ status: 200, reused: true })
    } finally {
      agent.destroy()
    }
  }, 20_000)
})
