import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { makeCart, someVariant } from '../support/running-store'
import { startServer, type ServerHandle } from '../support/server'
import { storeRows, type StoreRows } from '../support/store-file'
import { actionIdsIn, cartCookie, dynamicNames, fill, leaks, multipart, rowCounts, send, walkRoutes, type RawRequest, type RawResponse } from './support'

// Every route under app/ against the production build, sent what an attacker or a broken
// client sends: paths that do not decode, traversal, huge and odd headers, every method,
// bodies that do not parse, forged server-action calls. Nothing may answer 5xx, no answer
// may show a stack trace or a file path, and nothing refused may reach the database.

let server: ServerHandle
let db: StoreRows
const sent: RawResponse[] = []

type Sample = { slug: string; variantId: number; collection: string; upload: string; actionIds: string[]; cartId: string }
let sample: Sample

async function hit(req: RawRequest): Promise<RawResponse> {
  const res = await send(server.url, req)
  sent.push(res)
  return res
}

/** Sends every request, a few at a time, and returns the ones that failed the rules. */
async function sweep(requests: RawRequest[]): Promise<string[]> {
  const problems: string[] = []
  let next = 0
  const worker = async () => {
    while (next < requests.length) {
      const req = requests[next++]!
      const res = await hit(req)
      if (res.status >= 500) problems.push(`${res.status} ${res.request}`)
      else if (res.status === 0) problems.push(`no answer: ${res.request}`)
      const leaked = leaks(res.text, server.storageDir)
      if (leaked.length > 0) problems.push(`leaks ${leaked.join(', ')}: ${res.request}`)
    }
  }
  await Promise.all(Array.from({ length: 4 }, worker))
  return problems
}

const origin = () => server.url

beforeAll(async () => {
  server = await startServer({ env: { JOBS: 'off' } })
  db = storeRows(server.storageDir)
  const variant = await someVariant(db)
  const product = { slug: variant.slug }
  const collection = await db.get<{ slug: string }>('SELECT slug FROM collections ORDER BY id LIMIT 1')
  const image = (await db.get<{ path: string }>('SELECT path FROM product_images ORDER BY id LIMIT 1'))!
  const cartId = await makeCart(db, [{ variantId: variant.id, quantity: 1 }])
  const pages = await Promise.all([
    fetch(`${server.url}/products/${product.slug}`).then((r) => r.text()),
    fetch(`${server.url}/cart`, { headers: { cookie: cartCookie(cartId) } }).then((r) => r.text()),
    fetch(`${server.url}/checkout/cancel`).then((r) => r.text()),
  ])
  sample = {
    slug: product.slug,
    variantId: variant.id,
    collection: collection?.slug ?? 'all',
    upload: image.path.replace(/^\/?uploads\//, ''),
    actionIds: [...new Set(pages.flatMap(actionIdsIn))],
    cartId,
  }
})

afterAll(async () => {
  const failures = sent.filter((r) => r.status >= 500).length
  console.log(`security: ${sent.length} hostile requests, ${failures} responses >= 500`)
  await db?.close()
  await server?.stop()
})

// Path segments that are not valid percent-encoding, or try to climb out of a folder.
const HOSTILE_SEGMENTS = [
  '%ff',
  '%c0%ae%c0%ae',
  '%E2%82',
  '%e0%80%af',
  '%',
  '%%32%65',
  '%zz',
  '..%2f..%2f..%2fetc%2fpasswd',
  '..%5c..%5cwindows',
  '%2e%2e',
  '%2e%2e%2f%2e%2e%2fstore.sqlite3',
  '%00',
  '%00.png',
  'x%00.svg',
  '.env',
  '..;',
  '%0d%0aSet-Cookie:%20injected=1',
  '%3Cscript%3Ealert(1)%3C%2Fscript%3E',
  '%F0%9F%98%80',
  '%E6%97%A5%E6%9C%AC',
  'a'.repeat(4000),
  '-1',
  '99999999999999999999999',
  '__proto__',
  'constructor',
]

const METHODS = ['GET', 'HEAD', 'OPTIONS', 'POST', 'PUT', 'PATCH', 'DELETE', 'TRACE', 'PROPFIND', 'FOO']

const HOSTILE_QUERIES = [
  '?q=%ff',
  '?q=%00',
  `?q=${'a'.repeat(7000)}`,
  `?q=${'%E2%80%AE'.repeat(300)}`,
  '?%ff=%ff',
  '?page=-1&sort=__proto__',
  '?page=1e309&sort=%ff',
  '?page[]=1&q[]=x',
  '?variant=%ff',
  '?variant=1&variant=2',
  '?variant=99999999999999999999',
  '?session_id=%ff',
  '?session_id=cs_test_' + 'A'.repeat(600),
  '?notice=%ff&error=%3Cscript%3E',
  '?_rsc=%ff',
  '?poll=-5',
]

const HOSTILE_HEADERS: Record<string, string>[] = [
  { Cookie: 'till_cart=%ff' },
  { Cookie: `till_cart=${'A'.repeat(43)}` },
  { Cookie: `till_cart=${'A'.repeat(5000)}` },
  { Cookie: 'till_cart=../../etc/passwd; till_cart=x; =; ;;' },
  { Cookie: `x=${'y'.repeat(14_000)}` },
  { 'X-Filler': 'z'.repeat(70_000) },
  { RSC: '1', 'Next-Router-State-Tree': '%ff' },
  { RSC: '1', 'Next-Router-State-Tree': '[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]' },
  { RSC: '1', 'Next-Router-Prefetch': '1', 'Next-Router-Segment-Prefetch': '/%ff' },
  { 'Next-Url': '%ff', RSC: '1' },
  { 'x-middleware-subrequest': 'middleware:middleware:middleware:middleware:middleware' },
  { 'x-middleware-prefetch': '1' },
  { 'x-forwarded-host': '%ff', 'x-forwarded-proto': 'gopher', 'x-forwarded-for': 'not-an-ip, ::1' },
  { Host: 'evil.example' },
  { Host: '%ff' },
  { Accept: '%ff', 'Accept-Language': '*;q=%ff', 'Accept-Encoding': 'garbage' },
  { Range: 'bytes=999999999-1', 'If-None-Match': '%ff', 'If-Modified-Since': 'yesterday' },
  { 'Content-Type': 'multipart/form-data' },
]

// Headers Next's router, proxy and prefetching react to. Sent at a cache miss, none may leave
// anything but the real page for the next plain visitor: Next answers some of them with `{}`
// or a payload, which the response cache must neither store nor send.
const NEXT_REACTS_TO: Record<string, string>[] = [
  { 'X-Middleware-Prefetch': '1' },
  { 'x-middleware-subrequest': 'middleware' },
  { RSC: '1' },
  { 'Next-Router-Prefetch': '1' },
  { 'Next-Router-State-Tree': '%5B%22%22%5D' },
  { 'Next-Url': '/' },
  { Purpose: 'prefetch' },
  { 'Sec-Purpose': 'prefetch' },
  { 'x-nextjs-data': '1' },
  { 'x-invoke-path': '/' },
  { Range: 'bytes=0-10' },
]

describe('headers Next reacts to, at a page cache miss', () => {
  it('never leave the next plain visitor anything but the full page', async () => {
    const pages = ['/', '/products', `/products/${sample.slug}`, `/collections/${sample.collection}`, '/search?q=a', '/cart']
    const problems: string[] = []
    for (const page of pages) {
      for (const headers of NEXT_REACTS_TO) {
        const res = await hit({ path: page, headers })
        if (res.status >= 500) problems.push(`${res.status} ${res.request}`)
      }
      const plain = await hit({ path: page })
      if (plain.status !== 200 || !/text\/html/.test(plain.headers['content-type'] ?? '') || !/<html/i.test(plain.text)) {
        problems.push(`${page}: a plain visit got ${plain.status} ${plain.headers['content-type'] ?? 'no type'} ${JSON.stringify(plain.text.slice(0, 40))}`)
      }
    }
    expect(problems).toEqual([])
  })
})

describe('hostile requests to every route', () => {
  it('finds the routes under app/', () => {
    const routes = walkRoutes()
    expect(routes.map((r) => r.pattern)).toEqual(expect.arrayContaining(['/', '/products/[slug]', '/uploads/[...path]', '/api/stripe/webhook', '/checkout/cancel', '/checkout/success', '/up']))
    expect(sample.actionIds.length).toBeGreaterThanOrEqual(2)
  })

  it('answers hostile paths, queries, methods and headers on every route with no 5xx, no leak, no write', async () => {
    const before = await rowCounts(db)
    const valid: Record<string, string> = { slug: sample.slug, variant: String(sample.variantId), token: 'x'.repeat(24), path: sample.upload }
    const requests: RawRequest[] = []
    for (const route of walkRoutes()) {
      const values = route.pattern.startsWith('/collections') ? { ...valid, slug: sample.collection } : valid
      const plain = fill(route.pattern, values, 'x')
      for (const name of dynamicNames(route.pattern)) {
        for (const segment of HOSTILE_SEGMENTS) requests.push({ path: fill(route.pattern, { ...values, [name]: segment }, 'x') })
      }
      for (const query of HOSTILE_QUERIES) requests.push({ path: `${plain}${query}` })
      for (const method of METHODS) requests.push({ method, path: plain })
      for (const headers of HOSTILE_HEADERS) requests.push({ path: plain, headers })
      // Bodies that do not parse, to every route, as forms and as JSON.
      for (const [contentType, body] of [
        ['application/json', '{"a":'],
        ['application/json', '[' .repeat(50_000)],
        ['application/x-www-form-urlencoded', 'a=%ff&b=%00&variantId=1e309'],
        ['multipart/form-data; boundary=zzz', 'not multipart at all'],
        ['multipart/form-data', '--x\r\n'],
        ['text/plain', '\u0000\u0001\u0002'],
      ] as const) {
        requests.push({ method: 'POST', path: plain, headers: { 'Content-Type': contentType, Origin: origin() }, body })
      }
    }
    // Raw bytes no client should send: the server's HTTP parser refuses them with a 400.
    for (const path of ['/products/\u00fc\u00e9', '/search?q=\u0000', '/ /', '/products/a b']) requests.push({ path })
    const problems = await sweep(requests)
    expect(problems).toEqual([])
    expect(await rowCounts(db)).toEqual(before)
    expect((await fetch(`${server.url}/up`)).status).toBe(200)
  }, 600_000)
})

describe('invalid percent-encoding', () => {
  it('answers 400 instead of 500', async () => {
    const paths = [
      '/products/%ff',
      `/products/${'%ff'}/1`,
      `/products/x/%ff`,
      '/collections/%ff',
      '/orders/%ff',
      '/uploads/%c0%ae%c0%ae/x.png',
      '/uploads/products/%ff.svg',
      '/emulator/checkout/%ff',
      '/v1/checkout/sessions/%ff',
      '/products/%E2%82',
    ]
    for (const path of paths) {
      const res = await hit({ path })
      expect(res.status, path).toBe(400)
      expect(res.text).toMatch(/not valid/)
    }
    for (const path of ['/search?q=%ff', '/products?q=%ff&page=%ff']) expect((await hit({ path })).status, path).toBe(200)
  })
})

describe('server action posts', () => {
  const addForm = (actionId: string) =>
    multipart([
      [`$ACTION_ID_${actionId}`, ''],
      ['productSlug', sample.slug],
      ['variantId', String(sample.variantId)],
      ['quantity', '1'],
    ])

  it('from another origin are refused with 403 and change nothing', async () => {
    const before = await rowCounts(db)
    for (const actionId of sample.actionIds) {
      const form = addForm(actionId)
      const foreign: Record<string, string>[] = [{ Origin: 'https://evil.example' }, { Origin: 'null' }, { Origin: `http://127.0.0.1:1` }, { 'Sec-Fetch-Site': 'cross-site' }, { Origin: 'https://evil.example', 'X-Forwarded-Host': 'evil.example' }]
      for (const headers of foreign) {
        for (const path of [`/products/${sample.slug}`, '/cart', '/checkout/cancel']) {
          const res = await hit({ method: 'POST', path, headers: { ...headers, 'Content-Type': form.contentType, Cookie: cartCookie(sample.cartId) }, body: form.body })
          expect(res.status, `${path} ${JSON.stringify(headers)}`).toBe(403)
        }
      }
      const fetchCall = await hit({ method: 'POST', path: '/cart', headers: { Origin: 'https://evil.example', 'Next-Action': actionId, 'Content-Type': 'text/plain;charset=UTF-8' }, body: '[]' })
      expect(fetchCall.status).toBe(403)
    }
    expect(await rowCounts(db)).toEqual(before)
  }, 180_000)

  it('with an Origin that is not a URL get 400', async () => {
    const res = await hit({ method: 'POST', path: '/cart', headers: { Origin: 'not a url', 'Next-Action': sample.actionIds[0]!, 'Content-Type': 'text/plain' }, body: '[]' })
    expect(res.status).toBe(400)
  })

  it('with broken bodies, made-up action ids or oversize bodies get a 4xx and change nothing', async () => {
    const before = await rowCounts(db)
    const id = sample.actionIds[0]!
    const base = { Origin: origin(), Cookie: cartCookie(sample.cartId) }
    const requests: RawRequest[] = []
    const textCall = (body: string, actionId = id) => ({ method: 'POST', path: '/cart', headers: { ...base, 'Next-Action': actionId, 'Content-Type': 'text/plain;charset=UTF-8' }, body })
    const formCall = (fields: [string, string][], actionId: string | null = id) => {
      const form = multipart(fields)
      return { method: 'POST', path: '/cart', headers: { ...base, ...(actionId ? { 'Next-Action': actionId } : {}), 'Content-Type': form.contentType }, body: form.body }
    }
    for (const body of ['{{{', '"$Q9"', '["$@5"]', '1', '"$T"', '["$n12a"]', '["$h1"]', '["$Q1"]', '["$1:a:b"]', '["$"]', '[' + '['.repeat(200) + ']'.repeat(200) + ']', '\u00ff\u00fe', '']) {
      requests.push(textCall(body))
    }
    for (const actionId of ['zzzz', '00', 'f'.repeat(42), '7f' + '0'.repeat(40), '%ff', 'a'.repeat(5000), '../../etc/passwd']) requests.push(textCall('[]', actionId))
    requests.push(formCall([['x', '1']]))
    requests.push(formCall([['0', '["$1"]']]))
    requests.push(formCall([['0', '["$1"]'], ['1', '{"a":1}']]))
    requests.push(formCall([['1', '{{'], ['0', '["$1"]']]))
    requests.push(formCall([['0', '{"not":"an array"}']]))
    requests.push(formCall([['$ACTION_REF_1', ''], ['1_$ACTION_ID', id], ['1_$ACTION_BOUND', 'garbage']], null))
    requests.push(formCall([['$ACTION_REF_1', '']], null))
    requests.push(formCall([['$ACTION_ID_zzzz', '']], null))
    requests.push(formCall([[`$ACTION_ID_${'0'.repeat(42)}`, '']], null))
    requests.push({ method: 'POST', path: '/cart', headers: { ...base, 'Content-Type': 'multipart/form-data; boundary=XYZ' }, body: 'garbage without a boundary' })
    requests.push({ method: 'POST', path: '/cart', headers: { ...base, 'Content-Type': 'multipart/form-data' }, body: 'garbage' })
    requests.push({ method: 'POST', path: '/cart', headers: { ...base, 'Content-Type': 'multipart/form-data; boundary=b', 'Next-Action': id }, body: '--b\r\nContent-Disposition: form-data; name="0"\r\n\r\n["$K1"' })
    // Over the 1 MB limit: announced by Content-Length, and chunked with no length at all.
    const big = 'a'.repeat(1_200_000)
    const bigForm = multipart([[`$ACTION_ID_${id}`, ''], ['variantId', big]])
    requests.push({ method: 'POST', path: '/cart', headers: { ...base, 'Content-Type': bigForm.contentType }, body: bigForm.body })
    requests.push({ method: 'POST', path: '/cart', headers: { ...base, 'Content-Length': '999999999999' }, body: 'x' })
    requests.push({ method: 'POST', path: '/cart', headers: { ...base, 'Content-Length': 'abc' }, body: 'x' })
    const chunk = (s: string) => `${Buffer.byteLength(s).toString(16)}\r\n${s}\r\n`
    requests.push({ method: 'POST', path: '/cart', headers: { ...base, 'Transfer-Encoding': 'chunked', 'Content-Type': bigForm.contentType }, body: chunk(bigForm.body.slice(0, 700_000)) + chunk(bigForm.body.slice(700_000)) + '0\r\n\r\n' })
    requests.push({ method: 'POST', path: '/cart', headers: { ...base, 'Transfer-Encoding': 'chunked', 'Next-Action': id, 'Content-Type': 'text/plain' }, body: chunk(`["${'b'.repeat(1_100_000)}"]`) + '0\r\n\r\n' })

    const statuses: number[] = []
    const wrong: string[] = []
    for (const req of requests) {
      const res = await hit(req)
      statuses.push(res.status)
      const detail = `${res.status} ${res.request} ${JSON.stringify(req.headers)} ${String(req.body).slice(0, 80)}`
      if (res.status < 400 || res.status >= 500) wrong.push(detail)
      if (leaks(res.text, server.storageDir).length > 0) wrong.push(`leak: ${detail}`)
    }
    expect(wrong).toEqual([])
    expect(statuses.filter((s) => s === 413).length).toBeGreaterThanOrEqual(4)
    expect(await rowCounts(db)).toEqual(before)
  }, 180_000)

  it('called with arguments that are not a form answer without a 5xx and change nothing', async () => {
    const before = await rowCounts(db)
    for (const body of ['[]', '["x"]', '[null]', '[{"a":1}]', '["$T"]', '{"a":1}', '["$undefined"]', '["$D2020-01-01"]']) {
      for (const actionId of sample.actionIds) {
        const res = await hit({ method: 'POST', path: '/cart', headers: { Origin: origin(), 'Next-Action': actionId, 'Content-Type': 'text/plain;charset=UTF-8' }, body })
        expect(res.status, `${actionId} ${body}`).toBeLessThan(500)
      }
    }
    expect(await rowCounts(db)).toEqual(before)
  })

  it('from the shop itself still work', async () => {
    // The add-to-cart form's action id is the one the product page carries.
    const productHtml = await (await fetch(`${server.url}/products/${sample.slug}`)).text()
    const legit = addForm(actionIdsIn(productHtml)[0]!)
    const res = await hit({ method: 'POST', path: `/products/${sample.slug}`, headers: { Origin: origin(), 'Content-Type': legit.contentType }, body: legit.body })
    expect(res.status).toBe(303)
    expect(new URL(res.headers.location ?? '', server.url).searchParams.get('notice')).toMatch(/^Added 1 /)
  })
})

describe('TRACE', () => {
  it('answers 405 (the request cannot even be represented as a fetch Request)', async () => {
    for (const path of ['/', '/up', '/api/products', '/cart', '/api/stripe/webhook']) {
      const res = await hit({ method: 'TRACE', path })
      expect(res.status, path).toBe(405)
    }
  })
})
