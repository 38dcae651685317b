import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import * as clientAddress from '@/lib/request/client-address'
import { parseEnv } from '@/lib/env'
import { PEER_HEADER } from '@/server/contract'
import { startServer, type ServerHandle } from '../support/server'
import { makeCart, someVariant } from '../support/running-store'
import { storeRows } from '../support/store-file'
import { cartCookie, multipart, send } from './support'

// One rule for who is asking (lib/request/client-address.ts): X-Forwarded-For is believed only as
// far as TRUSTED_PROXIES reach, from the socket peer leftwards. Spoofed, appended and
// multi-hop headers, then the production build: the checkout limiter cannot be dodged by a
// rotating header, and the peer the front server stamps cannot be forged.

const resolve = (peer: string | null, forwardedFor: string | null, trusted: string[] = []) => clientAddress.resolve({ peer, forwardedFor, trusted })

describe('the client address', () => {
  it('is the socket peer when no proxy is trusted: a spoofed header is ignored', () => {
    expect(resolve('203.0.113.7', '1.2.3.4')).toBe('203.0.113.7')
    expect(resolve('::ffff:203.0.113.7', '1.2.3.4, 5.6.7.8')).toBe('203.0.113.7')
    expect(resolve('2001:DB8::1', null)).toBe('2001:db8::1')
    expect(resolve(null, '1.2.3.4')).toBeNull()
    expect(resolve('not-an-address', '1.2.3.4')).toBeNull()
  })

  it('behind one trusted proxy, is the entry that proxy appended, whatever the client put before it', () => {
    const proxy = ['172.16.0.0/12']
    expect(resolve('172.18.0.2', '203.0.113.7', proxy)).toBe('203.0.113.7')
    // the client sent its own X-Forwarded-For; the proxy appended the real address
    expect(resolve('172.18.0.2', '10.9.9.9, 203.0.113.7', proxy)).toBe('203.0.113.7')
    expect(resolve('172.18.0.2', 'garbage, <script>, 203.0.113.7', proxy)).toBe('203.0.113.7')
    // a peer that is not the proxy gets no say over the header
    expect(resolve('198.51.100.4', '203.0.113.7', proxy)).toBe('198.51.100.4')
  })

  it('through several trusted hops (CDN, then load balancer), is the first untrusted from the right', () => {
    const hops = ['10.0.0.0/8', '192.0.2.10', '2001:db8:cd0::/48']
    expect(resolve('10.0.0.5', '1.1.1.1, 203.0.113.7, 192.0.2.10', hops)).toBe('203.0.113.7')
    expect(resolve('10.0.0.5', '203.0.113.7, 2001:db8:cd0::9', hops)).toBe('203.0.113.7')
    // every hop trusted: the leftmost one is as near the client as we know
    expect(resolve('10.0.0.5', '10.1.1.1, 192.0.2.10', hops)).toBe('10.1.1.1')
    // an entry that is not an address ends the walk at the last trusted hop
    expect(resolve('10.0.0.5', '203.0.113.7, bogus', hops)).toBe('10.0.0.5')
    expect(resolve('10.0.0.5', '', hops)).toBe('10.0.0.5')
  })

  it('TRUSTED_PROXIES takes addresses and ranges, and refuses anything else by name', () => {
    expect(parseEnv({ TRUSTED_PROXIES: '172.16.0.0/12, 10.0.0.7,::1, 2001:db8::/32' }).trustedProxies).toEqual(['172.16.0.0/12', '10.0.0.7', '::1', '2001:db8::/32'])
    expect(parseEnv({}).trustedProxies).toEqual([])
    for (const bad of ['cdn.example.com', '10.0.0.0/33', '10.0.0.1/8/2', '::1/129']) expect(() => parseEnv({ TRUSTED_PROXIES: bad })).toThrow(/TRUSTED_PROXIES/)
  })
})

describe('the production build', () => {
  let server: ServerHandle
  beforeAll(async () => {
    server = await startServer({ env: { JOBS: 'off', CHECKOUT_LIMIT_PER_ADDRESS: '3', CHECKOUT_LIMIT_PER_CART: '50' } })
  })
  afterAll(async () => {
    await server?.stop()
  })

  /** Presses "Checkout" on a fresh cart with these extra headers; whether it reached the payment page. */
  async function pressCheckout(extra: Record<string, string>): Promise<boolean> {
    const db = storeRows(server.storageDir)
    const variant = await someVariant(db)
    await db.run('UPDATE variants SET stock = 1000 WHERE id = ?', variant.id)
    const cartId = await makeCart(db, [{ variantId: variant.id, quantity: 1 }])
    await db.close()
    const html = await (await fetch(`${server.url}/cart`, { headers: { cookie: cartCookie(cartId) } })).text()
    const id = /\$ACTION_ID_([0-9a-f]+)/.exec(html.split('<form').find((f) => f.includes('checkout-button')) ?? '')![1]!
    const form = multipart([[`$ACTION_ID_${id}`, '']])
    const res = await send(server.url, { method: 'POST', path: '/cart', headers: { Origin: server.url, Cookie: cartCookie(cartId), 'Content-Type': form.contentType, ...extra }, body: form.body })
    expect(res.status).toBe(303)
    return /\/emulator\/checkout\/cs_test_/.test(res.headers.location ?? '')
  }

  it('limits checkout starts by the socket peer, however the headers rotate', async () => {
    const results: boolean[] = []
    for (let i = 0; i < 6; i++) {
      results.push(await pressCheckout({ 'X-Forwarded-For': `10.77.0.${i}`, [PEER_HEADER]: `10.88.0.${i}`, 'X-Real-IP': `10.99.0.${i}` }))
    }
    expect(results).toEqual([true, true, true, false, false, false])
  })
})
