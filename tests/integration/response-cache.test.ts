import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { randomBytes } from 'node:crypto'
import { gunzipSync } from 'node:zlib'
import Stripe from 'stripe'
import { startServer, type ServerHandle } from '../support/server'
import { commitElsewhere, makeCart, someVariant } from '../support/running-store'
import { storeRows, type StoreRows } from '../support/store-file'

// The response cache in front of Next (server/response-cache.ts), against the production
// build: which requests it answers, which it leaves to Next, and what empties it.

let server: ServerHandle
const SECRET_KEY = `sk_test_cache${randomBytes(8).toString('hex')}`

beforeAll(async () => {
  server = await startServer({ env: { STRIPE_SECRET_KEY: SECRET_KEY, STRIPE_WEBHOOK_SECRET: `whsec_cache${randomBytes(8).toString('hex')}` } })
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

  it('answers a matching If-None-Match with 304, weak or strong', async () => {
    const path = '/collections/outerwear'
    const res = await warm(path)
    const etag = res.headers.get('etag')
    expect(etag).toBeTruthy()
    const strong = etag!.replace(/^W\//, '')
    for (const inm of [etag!, `W/${strong}`, strong]) {
      const again = await get(path, { 'if-none-match': inm })
      expect(again.status, inm).toBe(304)
      expect(again.headers.get('etag')).toBe(etag)
    }
  })

  it('never answers or keeps a request carrying a header Next reacts to: the next plain visitor gets the page', async () => {
    const nextHeaders: Record<string, string>[] = [
      { 'x-middleware-prefetch': '1' },
      { 'x-middleware-subrequest': 'middleware:middleware:middleware:middleware:middleware' },
      { rsc: '1' },
      { 'next-router-prefetch': '1' },
      { 'next-router-state-tree': '%5B%22%22%2C%7B%7D%5D' },
      { 'next-router-segment-prefetch': '/_tree' },
      { 'next-url': '/cart' },
      { 'next-action': 'x' },
      { purpose: 'prefetch' },
      { 'sec-purpose': 'prefetch' },
      { 'x-nextjs-data': '1' },
      { 'x-invoke-path': '/admin' },
      { 'x-invoke-query': '%7B%7D' },
      { range: 'bytes=0-99' },
    ]
    for (const path of ['/', '/products', '/products/harbor-rain-jacket', '/collections/outerwear', '/search', '/cart']) {
      for (const [i, headers] of nextHeaders.entries()) {
        // a fresh URL each time: the header arrives at a miss, when its answer could be kept
        const url = path === '/cart' ? '/cart' : `${path}?h=${i}-${Math.random().toString(36).slice(2)}`
        const odd = await get(url, headers)
        await odd.arrayBuffer()
        expect(odd.headers.get('x-till-cache'), `${path} ${JSON.stringify(headers)}`).toBeNull()
        const plain = await get(url)
        const body = await plain.text()
        expect(plain.status, `${url} after ${JSON.stringify(headers)}`).toBe(200)
        expect(plain.headers.get('content-type'), `${url} after ${JSON.stringify(headers)}`).toBe('text/html; charset=utf-8')
        expect(body, `${url} after ${JSON.stringify(headers)}`).toContain('</html>')
      }
    }
  })

  it('leaves pages in place when another process writes carts and jobs (the other release of a deploy)', async () => {
    const path = '/'
    expect((await warm(path)).headers.get('x-till-cache')).toBe('HIT')
    const store = storeRows(server.storageDir)
    try {
      await makeCart(store, [{ variantId: (await someVariant(store)).id, quantity: 1 }])
      await store.run(`INSERT INTO jobs (kind, payload, run_at) VALUES ('bench.noop', '{}', ?)`, Date.now() + 3_600_000)
    } finally {
      await store.close()
    }
    await new Promise((r) => setTimeout(r, 700)) // past the cache's half-second poll
    const after = await get(path)
    await after.arrayBuffer()
    expect(after.headers.get('x-till-cache')).toBe('HIT')
  })

  it('shows a stock change made by another process within a second, and leaves other products cached', async () => {
    const store = storeRows(server.storageDir)
    try {
      const [sold] = await twoProducts(store)
      const soldPath = `/products/${sold.slug}?variant=${sold.variantId}`
      expect(availableOn((await warm(soldPath)).body)).toBeGreaterThan(0)
      const otherPath = await unrelatedProductPage(store, sold)
      // What the other release's lib/inventory writes: the stock, and the change it made.
      await commitElsewhere(
        server.storageDir,
        [
          ['UPDATE variants SET stock = 0 WHERE id = ?', sold.variantId],
          [
            `INSERT INTO catalog_changes (product_id, slug, is_sold_out, sold_out_variants, origin, created_at)
             SELECT ?, ?, CASE WHEN sum(stock) = 0 THEN 1 ELSE 0 END, sum(CASE WHEN stock = 0 THEN 1 ELSE 0 END), 'other-release', ? FROM variants WHERE product_id = ?`,
            sold.productId,
            sold.slug,
            Date.now(),
            sold.productId,
          ],
        ],
        'other-release',
      )
      const changedAt = Date.now()
      let seen = -1
      while (Date.now() - changedAt < 1_000) {
        const res = await get(soldPath)
        seen = availableOn(await res.text())
        if (seen === 0) break
        await new Promise((r) => setTimeout(r, 50))
      }
      expect(seen, 'sold out within a second').toBe(0)
      const kept = await get(otherPath)
      await kept.arrayBuffer()
      expect(kept.headers.get('x-till-cache')).toBe('HIT')
    } finally {
      await store.close()
    }
  })

  it('never shows a sold-out item as available once its sale is recorded, and keeps the other products cached', async () => {
    const store = storeRows(server.storageDir)
    try {
      const [, , sold] = [...(await twoProducts(store)), ...(await twoProducts(store, 2))]
      // One unit left of the variant, nothing else of the product: its sale sells it out.
      await commitElsewhere(
        server.storageDir,
        [
          ['UPDATE variants SET stock = 0 WHERE product_id = ?', sold.productId],
          ['UPDATE variants SET stock = 1 WHERE id = ?', sold.variantId],
          [`INSERT INTO catalog_changes (product_id, slug, origin, created_at) VALUES (?, ?, 'test', ?)`, sold.productId, sold.slug, Date.now()],
        ],
        'test',
      )
      const soldPath = `/products/${sold.slug}?variant=${sold.variantId}`
      await new Promise((r) => setTimeout(r, 700))
      expect(availableOn((await warm(soldPath)).body)).toBe(1)
      const otherPath = await unrelatedProductPage(store, sold)

      const sessionId = await paidSession(sold.variantId)
      await orderRecorded(store, sessionId)
      // From the moment the order is in the database, no one is shown the unit as available:
      // the very next request already sees it sold out, however slow the machine.
      const res = await get(soldPath)
      const body = await res.text()
      expect(availableOn(body)).toBe(0)
      const kept = await get(otherPath)
      await kept.arrayBuffer()
      expect(kept.headers.get('x-till-cache')).toBe('HIT')
    } finally {
      await store.close()
    }
  })
})

type Sellable = { productId: number; slug: string; variantId: number }

/** Two active products with a variant in stock, skipping the first `skip` such products. */
async function twoProducts(store: StoreRows, skip = 0): Promise<[Sellable, Sellable]> {
  const rows = await store.all<Sellable>(
    `SELECT p.id AS "productId", p.slug, min(v.id) AS "variantId" FROM products p JOIN variants v ON v.product_id = p.id
     WHERE p.status = 'active' AND v.stock > 0 GROUP BY p.id ORDER BY p.id LIMIT 2 OFFSET ?`,
    skip + 4,
  )
  return [rows[0]!, rows[1]!]
}

/**
 * A product page, warmed into the cache, that does not show `sold` (not among its related
 * products): a sale of `sold` has no reason to drop it.
 */
async function unrelatedProductPage(store: StoreRows, sold: Sellable): Promise<string> {
  const rows = await store.all<{ slug: string }>(`SELECT slug FROM products WHERE status = 'active' AND id != ? ORDER BY id DESC`, sold.productId)
  for (const { slug } of rows) {
    const { body, headers } = await warm(`/products/${slug}`)
    if (headers.get('x-till-cache') === 'HIT' && !body.includes(`href="/products/${sold.slug}"`)) return `/products/${slug}`
  }
  throw new Error(`every product page shows ${sold.slug}`)
}

/** What the product page says the selected variant has left (data-available), -1 if absent. */
function availableOn(html: string): number {
  const m = /data-available="(\d+)"/.exec(html)
  return m ? Number(m[1]) : -1
}

/** A Checkout Session for one unit, paid in the built-in emulator, whose webhook the store receives. */
async function paidSession(variantId: number): Promise<string> {
  const stripe = new Stripe(SECRET_KEY, { host: '127.0.0.1', port: server.port, protocol: 'http' })
  const session = await stripe.checkout.sessions.create({
    mode: 'payment',
    line_items: [{ quantity: 1, price_data: { currency: 'usd', unit_amount: 2500, product_data: { name: 'Test item', metadata: { variant_id: String(variantId) } } } }],
    metadata: { cart_id: `cache-test-${Date.now()}` },
    success_url: `${server.url}/checkout/success?session_id={CHECKOUT_SESSION_ID}`,
    cancel_url: `${server.url}/cart`,
  })
  const paid = await fetch(`${server.url}/emulator/test/pay`, {
    method: 'POST',
    headers: { authorization: `Bearer ${SECRET_KEY}`, 'content-type': 'application/json' },
    body: JSON.stringify({ session: session.id }),
  })
  expect(paid.ok, await paid.clone().text()).toBe(true)
  return session.id
}

/** Waits for the store to record the session's order; returns when it saw it. */
async function orderRecorded(store: StoreRows, sessionId: string): Promise<void> {
  const started = Date.now()
  while (Date.now() - started < 15_000) {
    if ((await store.get('SELECT 1 AS found FROM orders WHERE stripe_checkout_session_id = ?', sessionId)) !== undefined) return
    await new Promise((r) => setTimeout(r, 10))
  }
  throw new Error(`no order recorded for ${sessionId}`)
}
