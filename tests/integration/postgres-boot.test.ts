import fs from 'node:fs'
import path from 'node:path'
import pg from 'pg'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { readMigrations } from '@/db/migrate'
import { pgMigrationsFolder } from '@/db/pg/migrate'
import { postgresEngine } from '@/db/pg/steps'
import { usePostgres } from '@/db/tx'
import { CATALOG } from '@/demo/catalog'
import { allPictures } from '@/demo/pictures'
import * as inventory from '@/lib/inventory'
import { startPostgres, type Postgres } from '../support/postgres'
import { startServer, upWhenDown, type ServerHandle } from '../support/server'

// DATABASE_URL runs the store on PostgreSQL (lib/platform/boot.ts, decision 048): two app
// servers of the production build (npm run build first), each with its own STORAGE_DIR, booted
// at the same moment on one PostgreSQL with SEED_DEMO=1, as a shop on two machines would be.

let database: Postgres
let servers: ServerHandle[] = []
let pool: pg.Pool
let isPoolEnded = false

beforeAll(async () => {
  database = await startPostgres()
  // Each server names its connections, so the test can tell whose are left. Shutdown's budget
  // is short: with the database down, the job worker's claim waits for a primary until it ends.
  servers = await Promise.all(
    [0, 1].map((i) => startServer({ env: { DATABASE_URL: `${database.url}?application_name=till-${i}`, SEED_DEMO: '1', SHUTDOWN_TIMEOUT_SECONDS: '3' }, timeoutMs: 120_000 })),
  )
  pool = new pg.Pool({ connectionString: database.url, max: 4 })
  // an idle client's connection ends when the test halts the server: not a failure of the test
  pool.on('error', () => {})
}, 240_000)

afterAll(async () => {
  usePostgres(undefined)
  await Promise.all(servers.map((server) => server.stop()))
  if (!isPoolEnded) await pool?.end()
  await database?.stop()
})

const count = async (text: string) => Number((await pool.query<{ n: string }>(text)).rows[0]!.n)

/** What the product page says the selected variant has left (data-available), -1 if absent. */
const availableOn = (html: string) => Number(/data-available="(\d+)"/.exec(html)?.[1] ?? -1)

/** Asks until the response cache answers the page (x-till-cache HIT), then gives that answer. */
async function warm(url: string): Promise<string> {
  for (let tries = 0; ; tries++) {
    const res = await fetch(url)
    const body = await res.text()
    expect(res.status, url).toBe(200)
    if (res.headers.get('x-till-cache') === 'HIT' || tries >= 6) return body
  }
}

describe('the store on PostgreSQL, two app servers booted at once', () => {
  it('both come up healthy on it, migrated once and seeded once, with no SQLite store in their storage folders', async () => {
    const known = readMigrations(pgMigrationsFolder())
    for (const server of servers) {
      const res = await fetch(`${server.url}/up`)
      const body: unknown = await res.json()
      expect(res.status, JSON.stringify(body)).toBe(200)
      expect(body).toMatchObject({ status: 'ok', engine: 'postgres', schemaVersion: known.length, migration: known.at(-1)!.tag })
      expect(fs.existsSync(path.join(server.storageDir, 'store.sqlite3'))).toBe(false)
    }
    expect(await count('SELECT count(*) AS n FROM drizzle.__drizzle_migrations')).toBe(known.length)
    expect(await count('SELECT count(*) AS n FROM products')).toBe(CATALOG.length)
    expect(await count('SELECT count(DISTINCT slug) AS n FROM products')).toBe(CATALOG.length)
    expect(await count('SELECT count(*) AS n FROM product_images')).toBe(allPictures().length)
    // the first admin (ADMIN_EMAIL), made by whichever server came first
    expect(await count('SELECT count(*) AS n FROM admin_users')).toBe(1)
  })

  it('both serve the seeded catalog: /api/products, a product page, search, a collection and the pictures', async () => {
    const active = CATALOG.filter((p) => (p.status ?? 'active') === 'active')
    const product = active[0]!
    const picture = allPictures().find((p) => p.productSlug === product.slug)!
    for (const server of servers) {
      const api = await fetch(`${server.url}/api/products`)
      expect(api.status).toBe(200)
      const { products } = (await api.json()) as { products: { slug: string }[] }
      expect(products.map((p) => p.slug).sort()).toEqual(active.map((p) => p.slug).sort())

      const page = await fetch(`${server.url}/products/${product.slug}`)
      expect(page.status).toBe(200)
      expect(await page.text()).toContain(product.title)

      const found = await fetch(`${server.url}/search?q=${encodeURIComponent(product.title.split(' ')[0]!)}`)
      expect(found.status).toBe(200)
      expect(await found.text()).toContain(`/products/${product.slug}`)

      expect((await fetch(`${server.url}/collections/outerwear`)).status).toBe(200)

      // pictures are served from each server's own STORAGE_DIR: the one that did not seed wrote them too
      const image = await fetch(`${server.url}/uploads/products/${picture.file}`)
      expect(image.status, server.storageDir).toBe(200)
      expect(image.headers.get('content-type')).toBe('image/jpeg')
    }
  })

  it("hears a stock change made by the store's code elsewhere in both servers' cached pages within a second", async () => {
    const { rows } = await pool.query<{ id: string; slug: string; stock: number }>(
      `SELECT v.id, p.slug, v.stock FROM variants v JOIN products p ON p.id = v.product_id WHERE p.status = 'active' AND v.stock > 0 ORDER BY v.id DESC LIMIT 1`,
    )
    const variant = { id: Number(rows[0]!.id), slug: rows[0]!.slug, stock: rows[0]!.stock }
    const paths = servers.map((server) => `${server.url}/products/${variant.slug}?variant=${variant.id}`)
    for (const url of paths) expect(availableOn(await warm(url))).toBe(variant.stock)
    const admin = (await pool.query<{ id: string; email: string }>('SELECT id, email FROM admin_users LIMIT 1')).rows[0]!

    // A third app server's domain code on the same database: the owner counts the shelf empty.
    usePostgres(postgresEngine(pool))
    await inventory.adjustByAdmin({ id: Number(admin.id), email: admin.email }, { variantId: variant.id, delta: -variant.stock, note: 'counted: none left' })
    const changedAt = Date.now()

    const seen = await Promise.all(
      paths.map(async (url) => {
        let available = -1
        while (Date.now() - changedAt < 1_000) {
          available = availableOn(await (await fetch(url)).text())
          if (available === 0) return { available, ms: Date.now() - changedAt }
          await new Promise((resolve) => setTimeout(resolve, 50))
        }
        return { available, ms: Date.now() - changedAt }
      }),
    )
    for (const [i, result] of seen.entries()) expect(result.available, `server ${i} shows the change within a second (${result.ms} ms)`).toBe(0)
  })

  it('answers /up 503 with a plain reason while PostgreSQL is down, and 200 again once it is back, listening again', async () => {
    await database.halt()
    try {
      for (const server of servers) {
        const res = await upWhenDown(server.url)
        expect(res.status).toBe(503)
        const body = (await res.json()) as { status: string; engine: string; reason: string }
        expect(body).toMatchObject({ status: 'error', engine: 'postgres' })
        expect(body.reason).toMatch(/PostgreSQL|connect|terminat/i)
      }
    } finally {
      await database.resume()
    }
    for (const server of servers) {
      await expect.poll(async () => (await fetch(`${server.url}/up`)).status, { timeout: 40_000, interval: 250 }).toBe(200)
      expect((await fetch(`${server.url}/api/products`)).status).toBe(200)
    }

    // the change listeners are back: a change is heard again, within a second
    const { rows } = await pool.query<{ id: string; slug: string; stock: number }>(
      `SELECT v.id, p.slug, v.stock FROM variants v JOIN products p ON p.id = v.product_id WHERE p.status = 'active' AND v.stock > 0 ORDER BY v.id LIMIT 1`,
    )
    const variant = { id: Number(rows[0]!.id), slug: rows[0]!.slug, stock: rows[0]!.stock }
    const url = `${servers[1]!.url}/products/${variant.slug}?variant=${variant.id}`
    // the listener reconnects with a backoff of up to a second; the cache answers again once it has
    await expect.poll(async () => (await fetch(url)).headers.get('x-till-cache'), { timeout: 10_000, interval: 200 }).toBe('HIT')
    expect(availableOn(await warm(url))).toBe(variant.stock)
    const admin = (await pool.query<{ id: string; email: string }>('SELECT id, email FROM admin_users LIMIT 1')).rows[0]!
    usePostgres(postgresEngine(pool))
    await inventory.adjustByAdmin({ id: Number(admin.id), email: admin.email }, { variantId: variant.id, delta: 1, note: 'found one more' })
    const changedAt = Date.now()
    let available = -1
    while (Date.now() - changedAt < 1_000 && available !== variant.stock + 1) {
      available = availableOn(await (await fetch(url)).text())
      if (available !== variant.stock + 1) await new Promise((resolve) => setTimeout(resolve, 50))
    }
    expect(available, `within a second (${Date.now() - changedAt} ms)`).toBe(variant.stock + 1)
  })

  it('answers /up 503 while PostgreSQL takes no writes, and 200 once it does again', async () => {
    // the whole server refuses writes, as a standby would (a session of its own may still turn it off)
    const readOnly = async (on: boolean) => {
      const client = new pg.Client({ connectionString: database.url })
      await client.connect()
      try {
        await client.query('SET default_transaction_read_only = off')
        await client.query(`ALTER SYSTEM SET default_transaction_read_only = ${on ? 'on' : 'off'}`)
        await client.query('SELECT pg_reload_conf()')
      } finally {
        await client.end()
      }
    }
    await readOnly(true)
    try {
      const res = await upWhenDown(servers[0]!.url)
      expect(res.status).toBe(503)
      const body = (await res.json()) as { reason: string }
      expect(body.reason).toMatch(/read-only/)
    } finally {
      await readOnly(false)
    }
    await expect.poll(async () => (await fetch(`${servers[0]!.url}/up`)).status, { timeout: 40_000, interval: 250 }).toBe(200)
  })

  it('ends both servers cleanly on SIGTERM, their PostgreSQL connections closed, even with PostgreSQL down', async () => {
    usePostgres(undefined)
    isPoolEnded = true
    await pool.end()
    const [first, second] = servers as [ServerHandle, ServerHandle]
    expect(await first.stop('SIGTERM')).toBe(0)
    const client = new pg.Client({ connectionString: database.url })
    await client.connect()
    try {
      // a backend ends just after its client has gone
      await expect
        .poll(async () => Number((await client.query<{ n: string }>(`SELECT count(*) AS n FROM pg_stat_activity WHERE application_name = 'till-0'`)).rows[0]!.n), {
          timeout: 5_000,
          interval: 100,
        })
        .toBe(0)
      expect(Number((await client.query<{ n: string }>(`SELECT count(*) AS n FROM pg_stat_activity WHERE application_name = 'till-1'`)).rows[0]!.n)).toBeGreaterThan(0)
    } finally {
      await client.end()
    }
    // the other one while its database is gone: its listener, job worker and pools are looking
    // for a primary, and still it stops within its 3 s budget (the helper would SIGKILL it
    // after 10 s: exit null; the listener alone would wait 30 s for a primary)
    await database.halt()
    // by the time /up says so, the listener has lost its connection and is looking for a primary
    expect((await upWhenDown(second.url)).status).toBe(503)
    const stoppedAt = Date.now()
    expect(await second.stop('SIGTERM')).toBe(0)
    expect(Date.now() - stoppedAt).toBeLessThan(10_000)
    for (const server of servers) expect(server.output()).not.toMatch(/Unhandled|uncaught|shutdown failed/i)
  })
})
