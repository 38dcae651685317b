import crypto from 'node:crypto'
import fs from 'node:fs'
import path from 'node:path'
import pg from 'pg'
import sharp from 'sharp'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { postgresEngine } from '@/db/pg/steps'
import { usePostgres } from '@/db/tx'
import * as adminAuth from '@/lib/admin-auth'
import { RESIZED_WIDTHS, resizedPath } from '@/lib/picture-sizes'
import { startPostgres, type Postgres } from '../support/postgres'
import { startServer, TEST_ADMIN, type ServerHandle } from '../support/server'

// Pictures and digital files on two app servers of one PostgreSQL, each with its own
// STORAGE_DIR (docs/decisions/049-files-in-the-database.md): what the owner uploads through
// server A is stored in the database with its row, and server B, which never saw the upload,
// serves the same bytes (the picture's smaller copies too, and a paid download), keeping a
// copy on its own disk. A key nobody stored is 404 on both. Needs `npm run build` first.

let database: Postgres
let a: ServerHandle
let b: ServerHandle
let pool: pg.Pool
let cookie: string
let productId: number

beforeAll(async () => {
  database = await startPostgres()
  // one after the other: the second finds the catalog seeded and migrations applied
  a = await startServer({ env: { DATABASE_URL: database.url }, timeoutMs: 120_000 })
  b = await startServer({ env: { DATABASE_URL: database.url }, timeoutMs: 120_000 })
  pool = new pg.Pool({ connectionString: database.url, max: 4 })
  pool.on('error', () => {})
  // the owner signs in (the session is a row every app server reads)
  usePostgres(postgresEngine(pool))
  try {
    const { token } = await adminAuth.signIn(TEST_ADMIN.email, TEST_ADMIN.password, '127.0.0.1')
    cookie = `${adminAuth.COOKIE}=${token}`
  } finally {
    usePostgres(undefined)
  }
  productId = Number((await pool.query<{ id: string }>('SELECT id FROM products ORDER BY id LIMIT 1')).rows[0]!.id)
}, 300_000)

afterAll(async () => {
  usePostgres(undefined)
  await Promise.all([a, b].filter(Boolean).map((server) => server.stop()))
  await pool?.end()
  await database?.stop()
})

/** A multipart post to an admin upload route of `server`, as the product page's form sends it. */
async function postFile(server: ServerHandle, route: 'images' | 'download', field: string, file: { name: string; type: string; bytes: Buffer }): Promise<URL> {
  const form = new FormData()
  form.set(field, new Blob([new Uint8Array(file.bytes)], { type: file.type }), file.name)
  if (route === 'images') form.set('alt', 'A picture uploaded on A')
  // serialised first, so the request says its length (the route refuses a body that does not)
  const encoded = new Request('http://127.0.0.1/', { method: 'POST', body: form })
  const res = await fetch(`${server.url}/admin/products/${productId}/${route}`, {
    method: 'POST',
    headers: { cookie, origin: server.url, 'content-type': encoded.headers.get('content-type')! },
    body: Buffer.from(await encoded.arrayBuffer()),
    redirect: 'manual',
  })
  expect(res.status, await res.clone().text()).toBe(303)
  const location = new URL(res.headers.get('location')!, server.url)
  expect(location.searchParams.get('error'), location.href).toBeNull()
  return location
}

const bytesOf = async (res: Response) => Buffer.from(await res.arrayBuffer())
const sha256 = (bytes: Buffer) => crypto.createHash('sha256').update(bytes).digest('hex')

describe('files on two app servers of one PostgreSQL', () => {
  it('a picture uploaded through A (and its smaller copies) is served by B with the same bytes, from the database, then from its own disk', async () => {
    const picture = await sharp({ create: { width: 1400, height: 1000, channels: 3, background: { r: 20, g: 110, b: 90 } } })
      .jpeg()
      .toBuffer()
    await postFile(a, 'images', 'image', { name: 'green.jpg', type: 'image/jpeg', bytes: picture })

    const { rows } = await pool.query<{ path: string }>('SELECT path FROM product_images WHERE product_id = $1 ORDER BY id DESC LIMIT 1', [productId])
    const rel = rows[0]!.path
    expect(rel).toMatch(/^products\/[0-9a-f]{32}\.jpg$/)
    const keys = [rel, ...RESIZED_WIDTHS.map((width) => resizedPath(rel, width))]
    // the bytes are in the database, checked by their sha256
    const stored = await pool.query<{ key: string; sha256: string; bytes: Buffer; size_bytes: string }>('SELECT key, sha256, bytes, size_bytes FROM stored_files WHERE key = ANY($1) ORDER BY key', [keys])
    expect(stored.rows.map((r) => r.key).sort()).toEqual([...keys].sort())
    for (const row of stored.rows) expect([sha256(row.bytes), Number(row.size_bytes)]).toEqual([row.sha256, row.bytes.length])

    // B never saw the upload
    for (const key of keys) expect(fs.existsSync(path.join(b.storageDir, 'uploads', key)), key).toBe(false)
    for (const key of keys) {
      const fromA = await fetch(`${a.url}/uploads/${key}`)
      const fromB = await fetch(`${b.url}/uploads/${key}`)
      expect([fromA.status, fromB.status], key).toEqual([200, 200])
      expect(fromB.headers.get('content-type')).toBe('image/jpeg')
      const bytes = await bytesOf(fromB)
      expect(bytes.equals(await bytesOf(fromA)), key).toBe(true)
      expect(bytes.equals(stored.rows.find((r) => r.key === key)!.bytes), key).toBe(true)
      // B keeps a whole copy, and serves it from there next
      expect(fs.readFileSync(path.join(b.storageDir, 'uploads', key)).equals(bytes), key).toBe(true)
    }
    await pool.query('DELETE FROM stored_files WHERE key = $1', [rel])
    expect((await fetch(`${b.url}/uploads/${rel}`)).status).toBe(200)
    expect(fs.readdirSync(path.join(b.storageDir, 'uploads', 'products')).filter((name) => name.endsWith('.tmp'))).toEqual([])
  })

  it('a digital product\'s file uploaded through A is downloaded through B', async () => {
    const book = Buffer.concat([Buffer.from('%PDF-1.7\n'), crypto.randomBytes(300_000)])
    await postFile(a, 'download', 'file', { name: 'field-guide.pdf', type: 'application/pdf', bytes: book })
    const file = (await pool.query<{ storage_key: string }>('SELECT storage_key FROM product_files WHERE product_id = $1', [productId])).rows[0]!
    expect(fs.existsSync(path.join(a.storageDir, 'downloads', file.storage_key))).toBe(true)
    expect(fs.existsSync(path.join(b.storageDir, 'downloads', file.storage_key))).toBe(false)

    // a paid order of it with its link (the link's token is a MAC of the line under the order's token)
    const publicToken = `token_${crypto.randomBytes(12).toString('hex')}`
    const order = (await pool.query<{ id: string }>(`INSERT INTO orders (stripe_checkout_session_id, public_token, status, total_cents, currency) VALUES ($1, $2, 'paid', 900, 'usd') RETURNING id`, [`cs_${publicToken}`, publicToken])).rows[0]!
    const line = (await pool.query<{ id: string }>(`INSERT INTO order_lines (order_id, title, quantity, unit_amount_cents, total_cents) VALUES ($1, 'Field guide', 1, 900, 900) RETURNING id`, [order.id])).rows[0]!
    const token = crypto.createHmac('sha256', publicToken).update(`download:${line.id}`).digest('base64url')
    await pool.query(`INSERT INTO download_grants (order_id, order_line_id, product_id, token_hash, download_limit, expires_at) VALUES ($1, $2, $3, $4, 5, $5)`, [
      order.id,
      line.id,
      productId,
      crypto.createHash('sha256').update(token).digest('hex'),
      Date.now() + 86_400_000,
    ])

    const res = await fetch(`${b.url}/downloads/${token}`)
    expect(res.status, await res.clone().text()).toBe(200)
    expect(res.headers.get('content-disposition')).toContain('field-guide.pdf')
    expect((await bytesOf(res)).equals(book)).toBe(true)
    expect(fs.readFileSync(path.join(b.storageDir, 'downloads', file.storage_key)).equals(book)).toBe(true)
    expect(Number((await pool.query('SELECT download_count FROM download_grants WHERE order_id = $1', [order.id])).rows[0].download_count)).toBe(1)
  })

  it('a key nobody stored is a plain 404 on both; a hostile one too', async () => {
    const missing = `products/${'0'.repeat(32)}.jpg`
    for (const server of [a, b]) {
      for (const key of [missing, resizedPath(missing, 640)]) {
        const res = await fetch(`${server.url}/uploads/${key}`)
        expect([res.status, await res.text()], `${server.url} ${key}`).toEqual([404, 'Not found'])
      }
      for (const key of ['products/%2e%2e/%2e%2e/store.sqlite3', '..%2F..%2Fetc%2Fpasswd.png', 'products/a.jpg%00.png']) {
        expect((await fetch(`${server.url}/uploads/${key}`)).status, `${server.url} ${key}`).toBe(404)
      }
    }
  })
})
