import { describe, expect, it } from 'vitest'
import * as guard from '@/server/request-guard'

const headers = (h: Record<string, string>) => new Headers(h)

describe('request guard', () => {
  it('refuses paths whose segments do not decode', () => {
    for (const bad of ['/products/%ff', '/uploads/%c0%ae%c0%ae/x.png', '/a/%E2%82', '/%', '/x/%zz']) expect(guard.checkPath(bad)?.status, bad).toBe(400)
    for (const good of ['/', '/products/jacket', '/search', '/products/%E2%82%AC', '/uploads/a%20b.png', '/products/%2e%2e']) expect(guard.checkPath(good), good).toBeNull()
  })

  it('refuses cross-site writes and lets reads and same-site writes through', () => {
    const same = { host: 'shop.test', origin: 'https://shop.test' }
    expect(guard.checkOrigin('POST', headers(same))).toBeNull()
    expect(guard.checkOrigin('POST', headers(same), 'https://shop.test')).toBeNull()
    expect(guard.checkOrigin('POST', headers({ host: 'shop.test' }))).toBeNull()
    expect(guard.checkOrigin('GET', headers({ host: 'shop.test', origin: 'https://evil.test' }))).toBeNull()
    expect(guard.checkOrigin('POST', headers({ host: 'shop.test', origin: 'https://evil.test' }))?.status).toBe(403)
    expect(guard.checkOrigin('POST', headers({ host: 'shop.test', origin: 'null' }))?.status).toBe(403)
    expect(guard.checkOrigin('POST', headers({ host: 'shop.test', 'sec-fetch-site': 'cross-site' }))?.status).toBe(403)
    expect(guard.checkOrigin('POST', headers({ host: 'shop.test', origin: 'garbage' }))?.status).toBe(400)
    // a forwarded host can be forged by a client, APP_URL cannot
    expect(guard.checkOrigin('POST', headers({ host: 'shop.test', 'x-forwarded-host': 'evil.test', origin: 'https://evil.test' }))).toBeNull()
    expect(guard.checkOrigin('POST', headers({ host: 'shop.test', 'x-forwarded-host': 'evil.test', origin: 'https://evil.test' }), 'https://shop.test')?.status).toBe(403)
    expect(guard.checkOrigin('POST', headers({ host: 'shop.test', origin: 'http://shop.test' }), 'https://shop.test')?.status).toBe(403)
  })

  it('refuses large or unreadable declared lengths', () => {
    expect(guard.checkDeclaredLength(headers({ 'content-length': String(guard.MAX_BODY_BYTES) }))).toBeNull()
    expect(guard.checkDeclaredLength(headers({ 'content-length': String(guard.MAX_BODY_BYTES + 1) }))?.status).toBe(413)
    expect(guard.checkDeclaredLength(headers({}))).toBeNull()
  })

  it('stops reading a body as soon as it passes the limit', async () => {
    let pulled = 0
    const endless = new ReadableStream<Uint8Array>({
      pull(controller) {
        pulled++
        controller.enqueue(new Uint8Array(64 * 1024))
      },
    })
    await expect(guard.readLimited(endless, 1024 * 1024)).rejects.toBeInstanceOf(guard.BodyTooLarge)
    expect(pulled).toBeLessThan(20)
    const small = new Blob(['hello']).stream()
    expect(new TextDecoder().decode(await guard.readLimited(small))).toBe('hello')
  })

  it('accepts the replies our forms send and refuses ones Next cannot decode', async () => {
    const text = (body: string) => guard.checkActionBody(headers({ 'next-action': 'ab', 'content-type': 'text/plain' }), new TextEncoder().encode(body))
    for (const ok of ['[]', '["x"]', '["$K1"]', '["$$dollar"]', '["$undefined", "$NaN", "$D2020-01-01", "$n12"]']) expect(await text(ok), ok).toBeNull()
    for (const bad of ['{{', '1', '"$T"', '["$@1"]', '["$Q1"]', '["$h1"]', '["$n1x"]', '["$1:a"]', '["$"]', '['.repeat(100) + ']'.repeat(100)]) expect((await text(bad))?.status, bad).toBe(400)

    const form = async (fields: [string, string][]) => {
      const data = new FormData()
      for (const [k, v] of fields) data.append(k, v)
      const request = new Request('http://x/', { method: 'POST', body: data })
      const body = new Uint8Array(await request.arrayBuffer())
      return guard.checkActionBody(headers({ 'next-action': 'ab', 'content-type': request.headers.get('content-type')! }), body)
    }
    expect(await form([['_1_variantId', '3'], ['0', '["$K1"]']])).toBeNull()
    expect(await form([['1', '{"a":1}'], ['0', '["$1"]']])).toBeNull()
    expect((await form([['0', '["$1"]'], ['1', '{"a":1}']]))?.status).toBe(400)
    expect((await form([['0', '["$1"]']]))?.status).toBe(400)
    expect((await form([['x', '1']]))?.status).toBe(400)
    const broken = await guard.checkActionBody(headers({ 'content-type': 'multipart/form-data; boundary=z' }), new TextEncoder().encode('nope'))
    expect(broken?.status).toBe(400)
  })

  it('sends HSTS only for an https APP_URL', () => {
    expect(guard.hstsHeader('https://shop.test')).toBe('max-age=63072000; includeSubDomains')
    expect(guard.hstsHeader('http://127.0.0.1:3000')).toBeNull()
  })
})

// The three upload routes read their own bodies: the front server lets them through up to the
// upload limit, and proxy.ts must not match them (Next would buffer a capped copy for it).
// The matcher is read by Next from proxy.ts's source, so the path is written there too; this
// keeps the two the same.
describe('upload paths', () => {
  it('are the paths proxy.ts leaves out, and only those among admin posts', async () => {
    const { config } = await import('@/proxy')
    const proxied = new RegExp(`^${config.matcher[0]}$`)
    for (const upload of ['/admin/products/12/images', '/admin/products/12/download', '/admin/import/upload']) {
      expect(guard.UPLOAD_PATH.test(upload)).toBe(true)
      expect(proxied.test(upload)).toBe(false)
    }
    for (const other of ['/admin/products/12', '/admin/import', '/admin/products/12/images/3', '/cart']) {
      expect(guard.UPLOAD_PATH.test(other)).toBe(false)
      expect(proxied.test(other)).toBe(true)
    }
  })
})
