import { EventEmitter } from 'node:events'
import { setFlagsFromString } from 'node:v8'
import { runInNewContext } from 'node:vm'
import { gzipSync } from 'node:zlib'
import { describe, expect, it } from 'vitest'
import { SHAREABLE_PAGES } from '@/app/(shop)/shareable-pages'
import type { Scope } from '@/server/contract'
import { createResponseCache, ENTRY_OVERHEAD_BYTES, etagMatches } from '@/server/response-cache'

// The response cache's rules (server/response-cache.ts), with requests and responses shaped as node:http's: which
// requests it may answer, which answers it may keep, what a change drops, one render per URL,
// stale copies, and what its entries really cost in memory. The same cache in front of the
// production build is tested in tests/integration/response-cache.test.ts.

type Headers = Record<string, string>
type Cache = {
  handle(req: object, res: object, pass: () => void): void
  invalidate(scope: Scope): void
  stats(): { entries: number; bytes: number }
}

class FakeResponse extends EventEmitter {
  status = 0
  headers: Record<string, string | string[]> = {}
  body = Buffer.alloc(0)
  destroyed = false
  writableEnded = false
  private set: Record<string, string> = {}
  setHeader(name: string, value: string) {
    this.set[name.toLowerCase()] = value
  }
  getHeaders() {
    return { ...this.set }
  }
  writeHead(code: number, headers: Record<string, string> = {}) {
    this.status = code
    this.headers = { ...this.set, ...headers }
    return this
  }
  write(chunk: string | Buffer) {
    this.body = Buffer.concat([this.body, Buffer.from(chunk)])
    return true
  }
  end(chunk?: string | Buffer) {
    if (chunk !== undefined) this.write(chunk)
    this.writableEnded = true
    this.emit('finish')
    this.emit('close')
  }
}

const PAGE_HEADERS = { 'content-type': 'text/html; charset=utf-8', etag: '"abc"', vary: 'Accept-Encoding' }
const html = (links: string[] = []) => `<!DOCTYPE html><html><body>${links.map((s) => `<a href="/products/${s}">${s}</a>`).join('')}</body></html>`

/** A cache in front of a fake Next that answers each path with `pages[path]` (default: a plain page). */
function setup(options: { staleMs?: number; ttlMs?: number; maxBytes?: number } = {}) {
  const renders: string[] = []
  const pages: Record<string, { status?: number; headers?: Headers; body?: string | Buffer; delayMs?: number }> = {}
  const cache = createResponseCache({
    pages: SHAREABLE_PAGES,
    maxBytes: options.maxBytes ?? 64 * 1024 * 1024,
    maxEntryBytes: 1024 * 1024,
    ttlMs: options.ttlMs ?? 60_000,
    staleMs: options.staleMs ?? 5_000,
    poll: () => true,
  }) as unknown as Cache
  const ask = (url: string, headers: Headers = {}, method = 'GET') =>
    new Promise<FakeResponse & { passed: boolean }>((resolve) => {
      const res = new FakeResponse() as FakeResponse & { passed: boolean }
      res.passed = false
      res.once('finish', () => resolve(res))
      cache.handle({ method, url, headers: { host: 'shop.test', ...headers } }, res, () => {
        res.passed = true
        renders.push(url)
        const page = pages[url.split('?')[0]!] ?? {}
        const answer = () => {
          res.writeHead(page.status ?? 200, { ...PAGE_HEADERS, ...page.headers })
          res.end(page.body ?? html())
        }
        if (page.delayMs) setTimeout(answer, page.delayMs)
        else answer()
      })
    })
  return { cache, ask, renders, pages }
}

describe('response cache: what it may answer and keep', () => {
  it('answers a plain page load from the copy it kept', async () => {
    const { ask, renders } = setup()
    await ask('/products/a')
    const again = await ask('/products/a', { 'user-agent': 'Mozilla/5.0', accept: 'text/html', 'x-forwarded-for': '203.0.113.9' })
    expect(again.passed).toBe(false)
    expect(again.headers['x-till-cache']).toBe('HIT')
    expect(renders).toEqual(['/products/a'])
  })

  it('never keeps a download link or an order page, even answered as a shareable 200', async () => {
    const { ask, renders, pages } = setup()
    const token = 'a'.repeat(43)
    pages[`/downloads/${token}`] = { headers: { 'content-type': 'application/pdf', 'cache-control': 'public, max-age=60' }, body: 'file' }
    for (const url of [`/downloads/${token}`, `/downloads/${token}`, `/orders/${token}`, `/orders/${token}`]) expect((await ask(url)).passed, url).toBe(true)
    expect(renders).toHaveLength(4)
  })

  it('neither answers nor keeps a request with any header outside the allow-list (Next reacts to them)', async () => {
    const { ask, renders, pages } = setup()
    const nextHeaders: Headers[] = [
      { 'x-middleware-prefetch': '1' },
      { 'x-middleware-subrequest': 'middleware' },
      { rsc: '1' },
      { 'next-router-prefetch': '1' },
      { 'next-router-state-tree': '%5B%5D' },
      { 'next-url': '/x' },
      { 'next-action': 'abc' },
      { purpose: 'prefetch' },
      { 'sec-purpose': 'prefetch' },
      { 'x-nextjs-data': '1' },
      { 'x-invoke-path': '/x' },
      { range: 'bytes=0-10' },
      { 'x-something-new': '1' },
    ]
    // What Next answers a prefetch: `{}`, no content type, an internal header.
    pages['/'] = { headers: { 'content-type': '', 'x-middleware-skip': '1' }, body: '{}' }
    for (const headers of nextHeaders) {
      const res = await ask('/', headers)
      expect(res.passed, JSON.stringify(headers)).toBe(true)
    }
    pages['/'] = {}
    const plain = await ask('/')
    expect(plain.passed).toBe(true)
    expect(plain.body.toString()).toContain('</html>')
    expect((await ask('/')).headers['x-till-cache']).toBe('HIT')
    expect(renders).toHaveLength(nextHeaders.length + 1)
  })

  it('keeps only a 200 HTML answer without cookies or Next internal headers', async () => {
    const { ask, pages } = setup()
    const refused: { status?: number; headers?: Headers }[] = [
      { headers: { 'x-middleware-skip': '1' } },
      { headers: { 'x-middleware-rewrite': '/x' } },
      { headers: { 'x-nextjs-rewritten-path': '/x' } },
      { headers: { 'x-nextjs-redirect': '/x' } },
      { headers: { 'x-nextjs-postponed': '1' } },
      { headers: { 'x-action-revalidated': '1' } },
      { headers: { 'content-type': 'application/json' } },
      { headers: { 'content-type': 'text/x-component' } },
      { headers: { 'set-cookie': 'a=b' } },
      { headers: { 'x-nextjs-cache': 'STALE' } },
      { status: 404 },
    ]
    for (const page of refused) {
      pages['/search'] = page
      await ask('/search')
      const again = await ask('/search')
      expect(again.passed, JSON.stringify(page)).toBe(true)
    }
    // what Next sends with a page from its own cache (ISR) is the page
    pages['/search'] = { headers: { 'x-nextjs-cache': 'HIT', 'x-nextjs-prerender': '1', 'x-nextjs-stale-time': '300' } }
    await ask('/search')
    expect((await ask('/search')).passed).toBe(false)
  })

  it('answers If-None-Match with 304, weak and strong alike', async () => {
    const { ask } = setup()
    await ask('/collections/c')
    for (const inm of ['"abc"', 'W/"abc"', '"x", W/"abc"', '*']) {
      const res = await ask('/collections/c', { 'if-none-match': inm })
      expect(res.status, inm).toBe(304)
      expect(res.body.length).toBe(0)
    }
    expect((await ask('/collections/c', { 'if-none-match': 'W/"other"' })).status).toBe(200)
    expect(etagMatches('W/"a"', 'W/"a"')).toBe(true)
    expect(etagMatches('"b"', 'W/"a"')).toBe(false)
  })
})

describe('response cache: what a change drops', () => {
  it('a sale of one product drops its page and leaves every other page in place', async () => {
    const { cache, ask, pages } = setup()
    pages['/'] = { body: html(['a', 'b']) }
    for (const url of ['/products/a', '/products/b', '/', '/collections/c']) await ask(url)
    cache.invalidate({ products: [{ slug: 'a', isSoldOutChanged: false, hasSoldOutVariant: false }] })
    expect((await ask('/products/b')).headers['x-till-cache']).toBe('HIT')
    expect((await ask('/')).headers['x-till-cache']).toBe('HIT')
    expect((await ask('/collections/c')).headers['x-till-cache']).toBe('HIT')
    expect((await ask('/products/a')).passed).toBe(true)
  })

  it('a product that sold out drops at once every page that shows it and every listing, never sent stale', async () => {
    const { cache, ask, pages } = setup({ staleMs: 60_000 })
    pages['/products/b'] = { body: html(['a']) } // b's page shows a as a related product
    for (const url of ['/products/a', '/products/b', '/products/c', '/', '/products?sort=price']) await ask(url)
    cache.invalidate({ products: [{ slug: 'a', isSoldOutChanged: true, hasSoldOutVariant: true }] })
    for (const url of ['/products/a', '/products/b', '/', '/products?sort=price']) {
      const res = await ask(url)
      expect(res.passed, url).toBe(true)
    }
    expect((await ask('/products/c')).headers['x-till-cache']).toBe('HIT')
  })

  it('a changed page is sent stale to others while one request renders it, for at most staleMs', async () => {
    let clock = 1_000_000
    const renders: string[] = []
    const cache = createResponseCache({ pages: SHAREABLE_PAGES, maxBytes: 1 << 24, maxEntryBytes: 1 << 20, ttlMs: 60_000, staleMs: 2_000, poll: () => true, now: () => clock }) as unknown as Cache
    let release: (() => void) | null = null
    const ask = (slow = false) =>
      new Promise<FakeResponse & { passed?: boolean }>((resolve) => {
        const res = new FakeResponse() as FakeResponse & { passed?: boolean }
        res.once('finish', () => resolve(res))
        cache.handle({ method: 'GET', url: '/products/a', headers: {} }, res, () => {
          res.passed = true
          renders.push('a')
          const answer = () => {
            res.writeHead(200, PAGE_HEADERS)
            res.end(html())
          }
          if (slow) release = answer
          else answer()
        })
      })
    await ask()
    cache.invalidate({ products: [{ slug: 'a', isSoldOutChanged: false, hasSoldOutVariant: false }] })
    const leader = ask(true)
    const others = await Promise.all([ask(), ask()])
    expect(others.map((r) => r.headers['x-till-cache'])).toEqual(['STALE', 'STALE'])
    release!()
    expect((await leader).passed).toBe(true)
    expect((await ask()).headers['x-till-cache']).toBe('HIT')
    expect(renders).toHaveLength(2)
    // Past the bound, a stale copy is not sent at all.
    cache.invalidate({ products: [{ slug: 'a', isSoldOutChanged: false, hasSoldOutVariant: false }] })
    clock += 2_001
    expect((await ask()).passed).toBe(true)
  })

  it('does not keep a render that was running when what it shows changed', async () => {
    const { cache, ask, pages } = setup()
    pages['/products/a'] = { delayMs: 30 }
    const during = ask('/products/a')
    cache.invalidate({ products: [{ slug: 'a', isSoldOutChanged: false, hasSoldOutVariant: false }] })
    await during
    expect((await ask('/products/a')).passed).toBe(true)
    // a change to another product does not concern it
    pages['/products/a'] = { delayMs: 30 }
    const other = ask('/products/a')
    cache.invalidate({ products: [{ slug: 'b', isSoldOutChanged: false, hasSoldOutVariant: false }] })
    await other
    expect((await ask('/products/a')).headers['x-till-cache']).toBe('HIT')
  })

  it('renders one URL once however many ask for it at the same time', async () => {
    const { ask, renders, pages } = setup()
    pages['/'] = { delayMs: 30 }
    const answers = await Promise.all(Array.from({ length: 20 }, () => ask('/')))
    expect(renders).toEqual(['/'])
    expect(answers.every((r) => r.status === 200 && r.body.toString().includes('</html>'))).toBe(true)
  })

  it('reads the products a compressed page links to', async () => {
    const { cache, ask, pages } = setup()
    pages['/products/b'] = { headers: { 'content-encoding': 'gzip' }, body: gzipSync(html(['z'])) }
    await ask('/products/b', { 'accept-encoding': 'gzip' })
    cache.invalidate({ products: [{ slug: 'y', isSoldOutChanged: true, hasSoldOutVariant: true }] })
    expect((await ask('/products/b', { 'accept-encoding': 'gzip' })).headers['x-till-cache']).toBe('HIT')
    // b's page shows z as a related product, with its sold-out badge
    cache.invalidate({ products: [{ slug: 'z', isSoldOutChanged: true, hasSoldOutVariant: true }] })
    expect((await ask('/products/b', { 'accept-encoding': 'gzip' })).passed).toBe(true)
  })
})

describe('response cache: memory', () => {
  it('counts at least what its entries really cost (measured around 20,000 tiny entries)', async () => {
    setFlagsFromString('--expose-gc')
    const gc = runInNewContext('gc') as () => void
    const { cache, ask } = setup()
    const used = () => {
      gc()
      gc()
      const m = process.memoryUsage()
      return m.heapUsed + m.external
    }
    // warm the code paths first so their compiled code is not counted
    for (let i = 0; i < 200; i++) await ask(`/search?q=warm${i}`)
    const before = used()
    const bytesBefore = cache.stats().bytes
    const n = 20_000
    for (let i = 0; i < n; i++) await ask(`/search?q=${i}`)
    const cost = (used() - before) / n
    const counted = (cache.stats().bytes - bytesBefore) / n
    expect(cache.stats().entries).toBe(n + 200)
    // What was measured, for ENTRY_OVERHEAD_BYTES' comment.
    console.info(`response cache: ${Math.round(cost)} bytes per tiny entry measured, ${Math.round(counted)} counted (overhead ${ENTRY_OVERHEAD_BYTES})`)
    expect(counted).toBeGreaterThanOrEqual(cost)
  }, 60_000)
})
