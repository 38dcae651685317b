import fs from 'node:fs'
import path from 'node:path'
import { expect, test } from '@playwright/test'
import { openStore } from '../support/store-file'
import { startServer, TEST_ADMIN, type ServerHandle } from '../support/server'

// The admin's locks, checked over plain HTTP against the production build: nothing admin
// answers with data without a session, cross-site posts are refused, password guessing is
// slowed down, and the session cookie carries the right flags. Its own server, because the
// rate-limit test locks the admin out for a while.

let server: ServerHandle

test.beforeAll(async () => {
  test.setTimeout(120_000)
  server = await startServer()
})

test.afterAll(async () => {
  await server?.stop()
})

const PAGES = [
  '/admin',
  '/admin/orders',
  '/admin/orders/1',
  '/admin/products',
  '/admin/products/new',
  '/admin/products/1',
  '/admin/inventory',
  '/admin/inventory/1',
  '/admin/events',
  '/admin/jobs',
  '/admin/reconciliation',
  '/admin/audit',
  '/admin/account',
]
const ROUTES: [string, string][] = [
  ['GET', '/admin/orders/export'],
  ['POST', '/admin/products/1/images'],
]

function isSignInRedirect(res: Response): boolean {
  return [302, 303, 307, 308].includes(res.status) && /\/admin\/sign-in/.test(res.headers.get('location') ?? '')
}

type Form = { page: string; fields: [string, string][]; marker: string }

const unescapeHtml = (text: string) => text.replace(/&quot;/g, '"').replace(/&#x27;|&#39;/g, "'").replace(/&lt;/g, '<').replace(/&gt;/g, '>').replace(/&amp;/g, '&')

/**
 * Every server-action form on a page: its hidden fields (the action id among them). A plain
 * action names itself in $ACTION_ID_<id>; a form run through useActionState carries its action
 * as a bound reference ($ACTION_REF_n, and $ACTION_n:0 = {"id": …, "bound": …}).
 */
async function formsOn(page: string, cookie: string): Promise<Form[]> {
  const html = await (await fetch(`${server.url}${page}`, { headers: { cookie } })).text()
  return [...html.matchAll(/<form\b[\s\S]*?<\/form>/g)]
    .map((m) => m[0])
    .filter((f) => f.includes('$ACTION_ID_') || f.includes('$ACTION_REF_'))
    .map((form) => {
      const fields = [...form.matchAll(/<input\b[^>]*>/g)]
        .map((m) => [unescapeHtml(/name="([^"]*)"/.exec(m[0])?.[1] ?? ''), unescapeHtml(/value="([^"]*)"/.exec(m[0])?.[1] ?? '')] as [string, string])
        .filter(([name]) => name)
      const bound = fields.find(([name]) => /^\$ACTION_\d+:0$/.test(name))?.[1]
      const marker = /\$ACTION_ID_(\w+)/.exec(form)?.[1] ?? (bound ? (JSON.parse(bound) as { id: string }).id : 'bound')
      return { page, marker, fields }
    })
}

async function signIn(origin = server.url, password = TEST_ADMIN.password, address?: string): Promise<Response> {
  const [form] = await formsOn('/admin/sign-in', '')
  const body = new FormData()
  for (const [k, v] of form!.fields) body.append(k, v)
  body.set('email', TEST_ADMIN.email)
  body.set('password', password)
  return fetch(`${server.url}/admin/sign-in`, { method: 'POST', redirect: 'manual', headers: { origin, ...(address ? { 'x-forwarded-for': address } : {}) }, body })
}

/**
 * The message of a refused sign-in: in ?error= of a redirect, or, when the form comes back
 * filled in (useActionState without JavaScript), in the page's alert.
 */
async function errorOf(res: Response): Promise<string> {
  const location = res.headers.get('location')
  if (location) return new URL(location, server.url).searchParams.get('error') ?? ''
  const html = await res.text()
  return unescapeHtml(/data-testid="flash-error"[^>]*>([\s\S]*?)<\/div>/.exec(html)?.[1]?.replace(/<[^>]+>/g, ' ') ?? '')
}

function sessionCookie(res: Response): string | null {
  const header = res.headers.getSetCookie().find((c) => c.startsWith('till_admin='))
  return header && !/till_admin=;/.test(header) ? header : null
}

test('without a session every admin page, route handler and server action leads to sign-in, never data', async () => {
  for (const page of PAGES) {
    const res = await fetch(`${server.url}${page}`, { redirect: 'manual' })
    expect(isSignInRedirect(res), `${page} answered ${res.status}`).toBe(true)
    expect(await res.text(), page).not.toMatch(/Revenue|Orders<|owner@till\.test/)
  }
  for (const [method, route] of ROUTES) {
    const res = await fetch(`${server.url}${route}`, { method, redirect: 'manual', headers: { origin: server.url } })
    expect(isSignInRedirect(res) || res.status === 401 || res.status === 403, `${method} ${route} answered ${res.status}`).toBe(true)
    expect(await res.text()).not.toContain('@')
  }

  // every server action the build knows under app/admin, posted as a form without a session
  const manifest = JSON.parse(fs.readFileSync(path.join(__dirname, '..', '..', '.next', 'server', 'server-reference-manifest.json'), 'utf8')) as {
    node: Record<string, { workers: Record<string, unknown>; filename?: string; exportedName?: string }>
  }
  const adminActions = Object.entries(manifest.node).filter(([, a]) => a.filename?.startsWith('app/admin/') && a.exportedName !== 'signInAction')
  expect(adminActions.length).toBeGreaterThanOrEqual(15)
  for (const [id, action] of adminActions) {
    const worker = Object.keys(action.workers).find((w) => w.startsWith('app/admin/'))!
    const route = worker.replace(/^app/, '').replace('/(console)', '').replace(/\/page$/, '').replace(/\[\w+\]/g, '1') || '/admin'
    const body = new FormData()
    body.append(`$ACTION_ID_${id}`, '')
    for (const [k, v] of Object.entries({ orderId: '1', productId: '1', variantId: '1', imageId: '1', jobId: '1', eventId: 'evt_1', delta: '5', note: 'x', amount: '1.00', carrier: 'UPS', trackingNumber: 'ABC123', title: 'Hijacked', current: 'x', next: 'y', confirm: 'y', direction: 'up' })) body.append(k, v)
    const res = await fetch(`${server.url}${route}`, { method: 'POST', redirect: 'manual', headers: { origin: server.url }, body })
    // 303 is the action's own redirect; a page render would answer 307, so the action ran and refused
    expect(isSignInRedirect(res) && res.status === 303, `${action.exportedName} at ${route} answered ${res.status}`).toBe(true)
  }

  // collect every action form while signed in, then post each one without the cookie
  const signedIn = await signIn()
  const cookie = sessionCookie(signedIn)!.split(';')[0]!
  const sqlite = openStore(server.storageDir)
  const variant = sqlite.prepare('SELECT id, product_id AS productId FROM variants ORDER BY id LIMIT 1').get() as { id: number; productId: number }
  const forms = (
    await Promise.all(['/admin', '/admin/products/new', `/admin/products/${variant.productId}`, '/admin/inventory', '/admin/events', '/admin/jobs', '/admin/reconciliation', '/admin/account'].map((p) => formsOn(p, cookie)))
  ).flat()
  const markers = new Set(forms.map((f) => f.marker))
  // sign-out, product create/update/archive, variant add/update, stock, pictures, reconcile, password
  expect(markers.size).toBeGreaterThanOrEqual(9)
  const auditBefore = (sqlite.prepare('SELECT count(*) AS n FROM audit_log').get() as { n: number }).n
  const stockBefore = (sqlite.prepare('SELECT stock FROM variants WHERE id = ?').get(variant.id) as { stock: number }).stock
  const seen = new Set<string>()
  for (const form of forms) {
    if (seen.has(form.marker)) continue
    seen.add(form.marker)
    const body = new FormData()
    for (const [k, v] of form.fields) body.append(k, v)
    body.set('delta', '5')
    body.set('note', 'sneaky')
    body.set('title', 'Hijacked')
    const res = await fetch(`${server.url}${form.page}`, { method: 'POST', redirect: 'manual', headers: { origin: server.url }, body })
    expect(isSignInRedirect(res), `action ${form.marker} on ${form.page} answered ${res.status}`).toBe(true)
  }
  expect((sqlite.prepare('SELECT count(*) AS n FROM audit_log').get() as { n: number }).n).toBe(auditBefore)
  expect((sqlite.prepare('SELECT stock FROM variants WHERE id = ?').get(variant.id) as { stock: number }).stock).toBe(stockBefore)
  expect((sqlite.prepare(`SELECT count(*) AS n FROM products WHERE title = 'Hijacked'`).get() as { n: number }).n).toBe(0)

  // and the same forms posted from another site, with the cookie, change nothing either
  for (const form of forms.filter((f) => f.page === '/admin/inventory').slice(0, 1)) {
    const body = new FormData()
    for (const [k, v] of form.fields) body.append(k, v)
    body.set('delta', '5')
    body.set('note', 'cross-site')
    const res = await fetch(`${server.url}${form.page}`, { method: 'POST', redirect: 'manual', headers: { origin: 'https://evil.example', cookie }, body })
    expect(res.status === 303 ? /sign-in/.test(res.headers.get('location') ?? '') : res.status >= 400, `cross-origin action answered ${res.status}`).toBe(true)
  }
  expect((sqlite.prepare('SELECT stock FROM variants WHERE id = ?').get(variant.id) as { stock: number }).stock).toBe(stockBefore)
  sqlite.close()
})

test('sign-in sets an httpOnly, SameSite=Lax session cookie scoped to /admin, and refuses another origin', async () => {
  const res = await signIn()
  expect(res.status).toBe(303)
  expect(res.headers.get('location')).toMatch(/\/admin$/)
  const cookie = sessionCookie(res)!
  expect(cookie).toMatch(/HttpOnly/i)
  expect(cookie).toMatch(/SameSite=Lax/i)
  expect(cookie).toMatch(/Path=\/admin/)
  // APP_URL is http here, so the cookie cannot be Secure (the browser would drop it)
  expect(cookie).not.toMatch(/;\s*Secure/i)
  // the token is random and only its hash is stored
  const token = /till_admin=([^;]+)/.exec(cookie)![1]!
  const sqlite = openStore(server.storageDir)
  expect((sqlite.prepare('SELECT count(*) AS n FROM admin_sessions WHERE id = ?').get(decodeURIComponent(token)) as { n: number }).n).toBe(0)
  // a second sign-in gives a different token (rotated)
  const again = sessionCookie(await signIn())!
  expect(again).not.toEqual(cookie)
  sqlite.close()

  // admin pages are private: never stored by a cache, never indexed
  const dashboard = await fetch(`${server.url}/admin`, { headers: { cookie: cookie.split(';')[0]! } })
  expect(dashboard.status).toBe(200)
  expect(dashboard.headers.get('cache-control')).toMatch(/no-store/)
  expect(await dashboard.text()).toMatch(/<meta name="robots" content="noindex, nofollow/)
  expect(await (await fetch(`${server.url}/robots.txt`)).text()).toMatch(/Disallow: \/admin/)

  const crossSite = await signIn('https://evil.example')
  expect(sessionCookie(crossSite)).toBeNull()
  expect(crossSite.status === 303 ? /sign-in\?error=/.test(crossSite.headers.get('location') ?? '') : crossSite.status >= 400).toBe(true)
  // The picture upload is the one route proxy.ts does not see (its body may pass 1 MB): it
  // refuses another origin itself, even with a valid session, and writes nothing.
  const before = openStore(server.storageDir)
  const images = () => (before.prepare('SELECT count(*) AS n FROM product_images').get() as { n: number }).n
  const imagesBefore = images()
  const form = new FormData()
  form.set('image', new Blob([new Uint8Array([0x89, 0x50, 0x4e, 0x47])], { type: 'image/png' }), 'x.png')
  const upload = await fetch(`${server.url}/admin/products/1/images`, { method: 'POST', redirect: 'manual', headers: { cookie: again.split(';')[0]!, origin: 'https://evil.example' }, body: form })
  expect(upload.status).toBe(403)
  expect(images()).toBe(imagesBefore)
  before.close()
})

test('ten wrong passwords are rate-limited, even when the right one follows', async () => {
  for (let i = 0; i < 10; i++) {
    const res = await signIn(server.url, `wrong password ${i}`, '203.0.113.7')
    expect(sessionCookie(res)).toBeNull()
    expect(await errorOf(res)).toMatch(/do not match|Too many/)
  }
  const res = await signIn(server.url, TEST_ADMIN.password, '203.0.113.7')
  expect(sessionCookie(res)).toBeNull()
  expect(await errorOf(res)).toMatch(/Too many failed sign-in attempts/)
})
