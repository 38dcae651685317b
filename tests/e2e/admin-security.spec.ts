import fs from 'node:fs'
import path from 'node:path'
import { expect, test } from '@playwright/test'
import { storeRows } from '../support/store-file'
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
  '/admin/orders/1/packing-slip',
  '/admin/products',
  '/admin/products/new',
  '/admin/products/bulk',
  '/admin/products/1',
  '/admin/inventory',
  '/admin/inventory/1',
  '/admin/events',
  '/admin/jobs',
  '/admin/reconciliation',
  '/admin/audit',
  '/admin/staff',
  '/admin/import',
  '/admin/import/1',
  '/admin/account',
]
const ROUTES: [string, string][] = [
  ['GET', '/admin/orders/export'],
  ['POST', '/admin/products/1/images'],
  ['POST', '/admin/products/1/download'],
  ['GET', '/admin/products/export'],
  ['POST', '/admin/import/upload'],
]

/** Plausible fields for any admin action, so each one gets as far as its own checks. */
const ACTION_FIELDS = { orderId: '1', productId: '1', variantId: '1', imageId: '1', jobId: '1', eventId: 'evt_1', delta: '5', note: 'x', amount: '1.00', carrier: 'UPS', trackingNumber: 'ABC123', title: 'Hijacked', current: 'x', next: 'y', confirm: 'y', direction: 'up', email: 'intruder@example.com', role: 'owner', limit: '99999', userId: '1', inviteId: '1', token: 'x'.repeat(43), password: 'intruder password' }

function isSignInRedirect(res: Response): boolean {
  return [302, 303, 307, 308].includes(res.status) && /\/admin\/sign-in/.test(res.headers.get('location') ?? '')
}

type AdminAction = { id: string; filename: string; exportedName: string; route: string }

/** Every server action the build knows under app/admin (sign-in aside), with a page it is posted to. */
function adminActions(): AdminAction[] {
  const manifest = JSON.parse(fs.readFileSync(path.join(__dirname, '..', '..', '.next', 'server', 'server-reference-manifest.json'), 'utf8')) as {
    node: Record<string, { workers: Record<string, unknown>; filename?: string; exportedName?: string }>
  }
  return Object.entries(manifest.node)
    .filter(([, a]) => a.filename?.startsWith('app/admin/') && a.exportedName !== 'signInAction')
    .map(([id, a]) => {
      const worker = Object.keys(a.workers).find((w) => w.startsWith('app/admin/'))!
      const route = worker.replace(/^app/, '').replace('/(console)', '').replace(/\/page$/, '').replace(/\[\w+\]/g, '1') || '/admin'
      return { id, filename: a.filename!, exportedName: a.exportedName ?? '', route }
    })
}

/** Posts an action as a form without JavaScript would, with plausible fields for every action. */
function postAction(action: AdminAction, headers: Record<string, string> = {}): Promise<Response> {
  const body = new FormData()
  body.append(`$ACTION_ID_${action.id}`, '')
  for (const [k, v] of Object.entries(ACTION_FIELDS)) body.append(k, v)
  return fetch(`${server.url}${action.route}`, { method: 'POST', redirect: 'manual', headers: { origin: server.url, ...headers }, body })
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

async function signIn(origin = server.url, password = TEST_ADMIN.password, address?: string, email = TEST_ADMIN.email): Promise<Response> {
  const [form] = await formsOn('/admin/sign-in', '')
  const body = new FormData()
  for (const [k, v] of form!.fields) body.append(k, v)
  body.set('email', email)
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
  // the code page of sign-in, without a password checked first, sends back to sign-in
  const verify = await fetch(`${server.url}/admin/sign-in/verify`, { redirect: 'manual' })
  expect(isSignInRedirect(verify) && !/verify/.test(verify.headers.get('location') ?? ''), `verify answered ${verify.status}`).toBe(true)
  for (const [method, route] of ROUTES) {
    const res = await fetch(`${server.url}${route}`, { method, redirect: 'manual', headers: { origin: server.url } })
    expect(isSignInRedirect(res) || res.status === 401 || res.status === 403, `${method} ${route} answered ${res.status}`).toBe(true)
    expect(await res.text()).not.toContain('@')
  }

  // every server action the build knows under app/admin, posted as a form without a session
  const actions = adminActions()
  expect(actions.length).toBeGreaterThanOrEqual(15)
  for (const action of actions) {
    const res = await postAction(action)
    // 303 is the action's own redirect; a page render would answer 307, so the action ran and refused
    expect(isSignInRedirect(res) && res.status === 303, `${action.exportedName} at ${action.route} answered ${res.status}`).toBe(true)
  }

  // collect every action form while signed in, then post each one without the cookie
  const signedIn = await signIn()
  const cookie = sessionCookie(signedIn)!.split(';')[0]!
  const db = storeRows(server.storageDir)
  const variant = (await db.get<{ id: number; productId: number }>('SELECT id, product_id AS "productId" FROM variants ORDER BY id LIMIT 1'))!
  const forms = (
    await Promise.all(['/admin', '/admin/products/new', '/admin/products/bulk', `/admin/products/${variant.productId}`, '/admin/inventory', '/admin/events', '/admin/jobs', '/admin/reconciliation', '/admin/staff', '/admin/account'].map((p) => formsOn(p, cookie)))
  ).flat()
  const markers = new Set(forms.map((f) => f.marker))
  // sign-out, product create/update/archive, variant add/update, stock, pictures, reconcile, password
  expect(markers.size).toBeGreaterThanOrEqual(9)
  const auditBefore = (await db.get<{ n: number }>('SELECT count(*) AS n FROM audit_log'))!.n
  const stockBefore = (await db.get<{ stock: number }>('SELECT stock FROM variants WHERE id = ?', variant.id))!.stock
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
  expect((await db.get<{ n: number }>('SELECT count(*) AS n FROM audit_log'))!.n).toBe(auditBefore)
  expect((await db.get<{ stock: number }>('SELECT stock FROM variants WHERE id = ?', variant.id))!.stock).toBe(stockBefore)
  expect((await db.get<{ n: number }>(`SELECT count(*) AS n FROM products WHERE title = 'Hijacked'`))!.n).toBe(0)
  expect((await db.get<{ n: number }>('SELECT count(*) AS n FROM admin_invites'))!.n).toBe(0)
  expect((await db.get<{ n: number }>('SELECT count(*) AS n FROM admin_users'))!.n).toBe(1)

  // and the same forms posted from another site, with the cookie, change nothing either
  for (const form of forms.filter((f) => f.page === '/admin/inventory').slice(0, 1)) {
    const body = new FormData()
    for (const [k, v] of form.fields) body.append(k, v)
    body.set('delta', '5')
    body.set('note', 'cross-site')
    const res = await fetch(`${server.url}${form.page}`, { method: 'POST', redirect: 'manual', headers: { origin: 'https://evil.example', cookie }, body })
    expect(res.status === 303 ? /sign-in/.test(res.headers.get('location') ?? '') : res.status >= 400, `cross-origin action answered ${res.status}`).toBe(true)
  }
  expect((await db.get<{ stock: number }>('SELECT stock FROM variants WHERE id = ?', variant.id))!.stock).toBe(stockBefore)
  await db.close()
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
  const db = storeRows(server.storageDir)
  expect((await db.get<{ n: number }>('SELECT count(*) AS n FROM admin_sessions WHERE id = ?', decodeURIComponent(token)))!.n).toBe(0)
  // a second sign-in gives a different token (rotated)
  const again = sessionCookie(await signIn())!
  expect(again).not.toEqual(cookie)

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
  const images = async () => (await db.get<{ n: number }>('SELECT count(*) AS n FROM product_images'))!.n
  const imagesBefore = await images()
  const form = new FormData()
  form.set('image', new Blob([new Uint8Array([0x89, 0x50, 0x4e, 0x47])], { type: 'image/png' }), 'x.png')
  const upload = await fetch(`${server.url}/admin/products/1/images`, { method: 'POST', redirect: 'manual', headers: { cookie: again.split(';')[0]!, origin: 'https://evil.example' }, body: form })
  expect(upload.status).toBe(403)
  expect(await images()).toBe(imagesBefore)
  // so does the catalog import's upload, the other route proxy.ts does not see
  const csv = new FormData()
  csv.set('file', new Blob(['product_slug\n'], { type: 'text/csv' }), 'x.csv')
  const imported = await fetch(`${server.url}/admin/import/upload`, { method: 'POST', redirect: 'manual', headers: { cookie: again.split(';')[0]!, origin: 'https://evil.example' }, body: csv })
  expect(imported.status).toBe(403)
  expect((await db.get<{ n: number }>('SELECT count(*) AS n FROM catalog_imports'))!.n).toBe(0)
  // and a digital product's file upload, the third: no file is attached, none is written
  const download = new FormData()
  download.set('file', new Blob(['not for sale'], { type: 'application/pdf' }), 'x.pdf')
  const attached = await fetch(`${server.url}/admin/products/1/download`, { method: 'POST', redirect: 'manual', headers: { cookie: again.split(';')[0]!, origin: 'https://evil.example' }, body: download })
  expect(attached.status).toBe(403)
  expect((await db.get<{ n: number }>('SELECT count(*) AS n FROM product_files'))!.n).toBe(0)
  expect(fs.existsSync(path.join(server.storageDir, 'downloads'))).toBe(false)
  await db.close()
})

// Pages and actions only an owner may use; a staff member has orders, products and stock.
const OWNER_PAGES = ['/admin/discounts', '/admin/events', '/admin/jobs', '/admin/reconciliation', '/admin/audit', '/admin/staff']
const OWNER_ACTION_FILES = ['app/admin/(console)/discounts/actions.ts', 'app/admin/(console)/ops-actions.ts', 'app/admin/(console)/staff/actions.ts']

// Jobs the store queues by the clock (lib/jobs/handlers.ts), whatever a request does: a slot
// queued or run while the test looks is not an action's doing. Anything else an action queued
// stays a row whether or not the worker has run it since, so every status counts.
const SCHEDULED_KINDS = ['reconcile', 'holds.release_expired', 'stock_alerts.scan', 'carts.purge_idle', 'accounts.purge_expired', 'backups.run'].map((k) => `'${k}'`).join(', ')

test('a staff member is refused every owner-only page and action, and a cross-site post changes no staff', async () => {
  const db = storeRows(server.storageDir)
  const owner = (await db.get<{ id: number; hash: string }>('SELECT id, password_hash AS hash FROM admin_users WHERE email = ?', TEST_ADMIN.email))!
  await db.run(`INSERT INTO admin_users (email, password_hash, role) VALUES ('staff@till.test', ?, 'staff') ON CONFLICT DO NOTHING`, owner.hash)
  const staffCookie = sessionCookie(await signIn(server.url, TEST_ADMIN.password, undefined, 'staff@till.test'))!.split(';')[0]!
  const counts = () =>
    db.get(`SELECT (SELECT count(*) FROM audit_log WHERE action <> 'admin.sign_in') AS audit, (SELECT count(*) FROM admin_invites) AS invites, (SELECT count(*) FROM admin_settings) AS settings, (SELECT count(*) FROM admin_users WHERE removed_at IS NULL) AS people, (SELECT count(*) FROM jobs WHERE kind NOT IN (${SCHEDULED_KINDS})) AS jobs`)
  const before = await counts()

  for (const page of ['/admin', '/admin/orders', '/admin/products', '/admin/inventory']) {
    expect((await fetch(`${server.url}${page}`, { headers: { cookie: staffCookie }, redirect: 'manual' })).status, page).toBe(200)
  }
  for (const page of OWNER_PAGES) {
    const res = await fetch(`${server.url}${page}`, { headers: { cookie: staffCookie }, redirect: 'manual' })
    expect(res.status, page).toBe(307)
    expect(res.headers.get('location'), page).toMatch(/^\/admin\?error=Only\+the\+owner|^\/admin\?error=Only%20the%20owner/)
    expect(await res.text(), page).not.toContain(TEST_ADMIN.email)
  }
  const ownerActions = adminActions().filter((a) => OWNER_ACTION_FILES.includes(a.filename))
  // discounts 2, operations 3, staff and its settings 5
  expect(ownerActions.length).toBeGreaterThanOrEqual(10)
  for (const action of ownerActions) {
    const res = await postAction(action, { cookie: staffCookie })
    expect(res.status, action.exportedName).toBe(303)
    const location = new URL(res.headers.get('location') ?? '', server.url)
    expect(location.pathname, action.exportedName).toBe('/admin')
    expect(location.searchParams.get('error'), action.exportedName).toMatch(/^Only the owner/)
  }
  expect(await counts()).toEqual(before)

  // when the owner requires a second factor, a staff member without one reaches only the
  // account page (to set it up) and sign-out
  await db.run('INSERT INTO admin_settings (id, require_two_factor) VALUES (1, 1) ON CONFLICT (id) DO UPDATE SET require_two_factor = 1')
  for (const page of ['/admin', '/admin/orders', '/admin/products/1']) {
    const res = await fetch(`${server.url}${page}`, { headers: { cookie: staffCookie }, redirect: 'manual' })
    expect(res.status, page).toBe(307)
    const location = new URL(res.headers.get('location') ?? '', server.url)
    expect(location.pathname, page).toBe('/admin/account')
    expect(location.searchParams.get('error'), page).toMatch(/^The owner requires two-factor sign-in/)
  }
  expect((await fetch(`${server.url}/admin/account`, { headers: { cookie: staffCookie }, redirect: 'manual' })).status).toBe(200)
  await db.run('DELETE FROM admin_settings')

  // the owner's own staff actions, posted from another site with the owner's cookie
  const ownerCookie = sessionCookie(await signIn())!.split(';')[0]!
  for (const action of adminActions().filter((a) => a.filename === 'app/admin/(console)/staff/actions.ts')) {
    const res = await postAction(action, { cookie: ownerCookie, origin: 'https://evil.example' })
    expect(res.status === 303 ? /sign-in/.test(res.headers.get('location') ?? '') : res.status >= 400, `${action.exportedName} cross-site answered ${res.status}`).toBe(true)
  }
  expect(await counts()).toEqual(before)
  // and the owner, from the store itself, is let through the same way
  const own = await postAction(adminActions().find((a) => a.exportedName === 'removeMemberAction')!, { cookie: ownerCookie })
  expect(own.status).toBe(303)
  expect(decodeURIComponent(own.headers.get('location') ?? '')).toMatch(/yourself/)
  await db.close()
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
