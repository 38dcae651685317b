import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest'
import { resetEnv } from '@/lib/env'
import * as flash from '@/lib/request/flash'
import { startServer, tempStorage, type ServerHandle } from '../support/server'
import { someVariant } from '../support/running-store'
import { storeRows } from '../support/store-file'
import { multipart } from './support'

// A message after a redirect is the shop's own: signed where the shop makes the redirect
// (lib/request/flash.ts) and shown only when the signature holds. Text someone put in a link shows
// nothing on the admin sign-in, admin, product or cart pages; the no-JavaScript forms still
// get their messages.

describe('flash messages', () => {
  let dir: string
  beforeEach(() => {
    dir = tempStorage('till-flash-')
    process.env.STORAGE_DIR = dir
    resetEnv()
  })
  afterEach(() => {
    delete process.env.STORAGE_DIR
    resetEnv()
  })

  const query = (href: string) => Object.fromEntries(new URL(href, 'http://local').searchParams)

  it('reads back what the shop signed, and nothing else', () => {
    const href = flash.href('/admin/orders/9?page=2&notice=old', 'notice', 'Refund of $20.00 sent.')
    expect(href).toMatch(/^\/admin\/orders\/9\?page=2&notice=Refund/)
    expect(flash.read(query(href))).toEqual({ kind: 'notice', text: 'Refund of $20.00 sent.' })
    const forged = query(href)
    expect(flash.read({ error: 'Your password expired. Email it to evil@example.com' })).toBeNull()
    expect(flash.read({ ...forged, notice: 'Your password expired.' })).toBeNull()
    // the same text signed as a notice is not an error
    expect(flash.read({ error: forged.notice, flash: forged.flash })).toBeNull()
    expect(flash.read({ notice: forged.notice, flash: forged.flash!.replace(/.$/, (c) => (c === 'A' ? 'B' : 'A')) })).toBeNull()
    // expired after its time
    expect(flash.read(forged, Date.now() + (flash.TTL_SECONDS + 5) * 1000)).toBeNull()
  })
})

describe('pages of the production build', () => {
  let server: ServerHandle
  beforeAll(async () => {
    server = await startServer({ env: { JOBS: 'off' } })
  })
  afterAll(async () => {
    await server?.stop()
  })

  const spoof = 'Your password expired. Email it to evil@example.com'

  it('show no text a link carries', async () => {
    const db = storeRows(server.storageDir)
    const { slug } = await someVariant(db)
    await db.close()
    for (const page of ['/admin/sign-in', `/products/${slug}`, '/cart']) {
      for (const kind of ['error', 'notice']) {
        const res = await fetch(`${server.url}${page}?${kind}=${encodeURIComponent(spoof)}&flash=9999999999.${'A'.repeat(32)}`)
        expect(res.status, page).toBeLessThan(500)
        expect(await res.text(), `${page} ${kind}`).not.toContain('evil@example.com')
      }
    }
  })

  it('still tell a shopper without JavaScript what their form did', async () => {
    const db = storeRows(server.storageDir)
    const variant = await someVariant(db)
    await db.run('UPDATE variants SET stock = 50 WHERE id = ?', variant.id)
    const { slug } = variant
    await db.close()
    const html = await (await fetch(`${server.url}/products/${slug}`)).text()
    const id = /\$ACTION_ID_([0-9a-f]+)/.exec(html.split('<form').find((f) => f.includes('add-to-cart-form')) ?? '')![1]!
    const form = multipart([[`$ACTION_ID_${id}`, ''], ['productSlug', slug], ['variantId', String(variant.id)], ['quantity', '2']])
    const res = await fetch(`${server.url}/products/${slug}`, { method: 'POST', redirect: 'manual', headers: { origin: server.url, 'content-type': form.contentType }, body: form.body })
    expect(res.status).toBe(303)
    const location = res.headers.get('location')!
    const cookie = res.headers.getSetCookie()[0]!.split(';')[0]!
    const shown = await (await fetch(new URL(location, server.url), { headers: { cookie } })).text()
    expect(shown).toMatch(/data-testid="flash-notice"[^>]*>.*Added 2/s)
  })
})
