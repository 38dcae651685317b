import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { gunzipSync } from 'node:zlib'
import { startServer, type ServerHandle } from '../support/server'
import { makeCart, openStore, someVariant } from '../support/store-file'

// The response cache in front of Next (scripts/response-cache.mjs), against the production
// build: which requests it answers, which it leaves to Next, and what empties it.

let server: ServerHandle

beforeAll(async () => {
  server = await startServer()
})

afterAll(async () => {
  await server?.stop()
})

const get = (path: string, headers: Record<string, string> = {}) => fetch(`${server.url}${path}`, { headers, redirect: 'manual' })

/** Asks until Next's own cache has the page (x-nextjs-cache MISS is never kept), then once more. */
async function warm(path: string, headers: Record<string, string> = {}): Promise<{ headers: Headers; body: string }> {
  let res: Response
  let body: string
  let tries = 0
  do {
    res = await get(path, headers)
    body = await res.text()
  } while (res.headers.get('x-till-cache') !== 'HIT' && ++tries < 5)
  return { headers: res.headers, body }
}

describe('response cache', () => {
  it('answers anonymous catalog pages from stored bytes, the same bytes and headers Next sent', async () => {
    for (const path of ['/', '/products?sort=price', '/search?q=rain', '/collections/outerwear', '/products/harbor-rain-jacket']) {
      const { body: firstBody } = await warm(path)
      const again = await get(path)
      expect(again.status, path).toBe(200)
      expect(again.headers.get('x-till-cache'), path).toBe('HIT')
      expect(await again.text(), path).toBe(firstBody)
      expect(again.headers.get('content-security-policy'), path).toContain("default-src 'self'")
      expect(again.headers.get('content-type'), path).toBe('text/html; charset=utf-8')
    }
  })

  it('keeps one copy per Accept-Encoding, compressed as asked', async () => {
    const path = '/collections/outerwear'
    await warm(path, { 'accept-encoding': 'identity' })
    const zipped = await new Promise<{ encoding: string | undefined; html: string; cache: string | undefined }>((resolve, reject) => {
      // fetch() decompresses on its own; the raw bytes show what was actually sent
      import('node:http').then(({ get: httpGet }) => {
        const ask = () =>
          httpGet(`${server.url}${path}`, { headers: { 'accept-encoding': 'gzip' } }, (res) => {
            const chunks: Buffer[] = []
            res.on('data', (c: Buffer) => chunks.push(c))
            res.on('end', () => {
              const body = Buffer.concat(chunks)
              const encoding = res.headers['content-encoding']
              const cache = res.headers['x-till-cache'] as string | undefined
              if (cache !== 'HIT' && tries++ < 5) return ask()
              resolve({ encoding, cache, html: (encoding === 'gzip' ? gunzipSync(body) : body).toString('utf8') })
            })
          }).on('error', reject)
        let tries = 0
        ask()
      }, reject)
    })
    expect(zipped.cache).toBe('HIT')
    expect(zipped.encoding).toBe('gzip')
    expect(zipped.html).toContain('</html>')
    const plain = await get(path, { 'accept-encoding': 'identity' })
    expect(plain.headers.get('x-till-cache')).toBe('HIT')
    expect(plain.headers.get('content-encoding')).toBeNull()
  })

  it('leaves per-visitor and router requests to Next', async () => {
    await warm('/products/harbor-rain-jacket')
    const cases: [string, Record<string, string>][] = [
      ['/products/harbor-rain-jacket?notice=Added', {}],
      ['/products/harbor-rain-jacket', { rsc: '1' }],
      ['/products/harbor-rain-jacket', { rsc: '1', 'next-router-prefetch': '1' }],
      ['/products/harbor-rain-jacket?_rsc=abc', {}],
      ['/cart', { cookie: 'till_cart=whatever' }],
      ['/cart/count', {}],
      ['/up', {}],
      ['/admin', {}],
    ]
    for (const [path, headers] of cases) {
      for (let i = 0; i < 2; i++) {
        const res = await get(path, headers)
        await res.arrayBuffer()
        expect(res.headers.get('x-till-cache'), `${path} ${JSON.stringify(headers)}`).toBeNull()
      }
    }
  })

  it('answers a new visitor (no cookie at all) the shared empty cart, and anyone with a cookie from Next', async () => {
    const { body } = await warm('/cart')
    expect(body).toContain('Your cart')
    const again = await get('/cart')
    expect(again.headers.get('x-till-cache')).toBe('HIT')
    expect(again.headers.get('set-cookie')).toBeNull()
  })

  it('answers a matching If-None-Match with 304', async () => {
    const path = '/collections/outerwear'
    const res = await warm(path)
    const etag = res.headers.get('etag')
    expect(etag).toBeTruthy()
    const again = await get(path, { 'if-none-match': etag! })
    expect(again.status).toBe(304)
    expect(again.headers.get('etag')).toBe(etag)
  })

  it('empties when another process commits to the store (the other release of a deploy)', async () => {
    const path = '/'
    expect((await warm(path)).headers.get('x-till-cache')).toBe('HIT')
    const store = openStore(server.storageDir)
    try {
      makeCart(store, [{ variantId: someVariant(store).id, quantity: 1 }])
    } finally {
      store.close()
    }
    const after = await get(path)
    await after.arrayBuffer()
    expect(after.status).toBe(200)
    expect(after.headers.get('x-till-cache')).toBeNull()
  })
})
