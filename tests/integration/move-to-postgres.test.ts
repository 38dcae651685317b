import crypto from 'node:crypto'
import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import Database from 'better-sqlite3'
import { getTableConfig, PgTable } from 'drizzle-orm/pg-core'
import pg from 'pg'
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest'
import { openDatabase, STORE_FILE } from '@/db'
import { migrate } from '@/db/pg/migrate'
import { CheckFailed, moveToPostgres } from '@/db/pg/move'
import * as pgSchema from '@/db/pg/schema'
import * as storage from '@/lib/platform/storage'
import { addOrders, demoStore as makeDemoStore } from '../support/demo-store'
import { npmRun } from '../support/npm-run'
import { startPostgres, type Postgres } from '../support/postgres'
import { startStripeServer } from '../support/stripe-server'

// npm run db:move-to-postgres against real SQLite stores and a real PostgreSQL: the demo store
// arrives exactly, a non-empty target is refused untouched, a row lost or changed on the way is
// caught before COMMIT, 10,000 orders move, and rows written during the move stay out of it.

const copiedTables = Object.values(pgSchema as Record<string, unknown>)
  .filter((value): value is PgTable => value instanceof PgTable)
  .map((table) => getTableConfig(table).name)
  .filter((name) => name !== 'product_search')

let server: Postgres
let admin: pg.Client
const pools: pg.Pool[] = []
const dirs: string[] = []
let databases = 0

beforeAll(async () => {
  server = await startPostgres()
  admin = new pg.Client({ connectionString: server.url })
  await admin.connect()
})

afterEach(() => {
  for (const dir of dirs.splice(0)) fs.rmSync(dir, { recursive: true, force: true })
})

afterAll(async () => {
  await Promise.all(pools.map((p) => p.end()))
  await admin?.end()
  await server?.stop()
})

/** An empty database of its own on the test's server. */
async function freshTarget(): Promise<{ url: string; pool: pg.Pool }> {
  const name = `move_${++databases}`
  await admin.query(`CREATE DATABASE ${name}`)
  const url = server.url.replace(/\/till$/, `/${name}`)
  const pool = new pg.Pool({ connectionString: url, max: 2 })
  pools.push(pool)
  return { url, pool }
}

/** A demo store whose folder goes after the test. */
function demoStore(): ReturnType<typeof makeDemoStore> {
  const store = makeDemoStore()
  dirs.push(store.dir)
  return store
}

const env = (dir: string, url: string, extra: Record<string, string> = {}) => ({ STORAGE_DIR: dir, DATABASE_URL: url, PAYMENTS: 'emulator', ...extra })

async function countsIn(pool: pg.Pool): Promise<Record<string, number>> {
  const counts: Record<string, number> = {}
  for (const table of [...copiedTables, 'product_search']) counts[table] = Number((await pool.query(`SELECT count(*) AS n FROM "${table}"`)).rows[0].n)
  return counts
}

/** The files under `root`, by their path under it. */
function filesUnder(root: string): string[] {
  return (fs.readdirSync(root, { recursive: true, withFileTypes: true }) as fs.Dirent[])
    .filter((e) => e.isFile())
    .map((e) => path.relative(root, path.join(e.parentPath, e.name)))
    .sort()
}

const sha256 = (bytes: Buffer) => crypto.createHash('sha256').update(bytes).digest('hex')

function sourceCounts(sqlite: Database.Database): Record<string, number> {
  return Object.fromEntries(copiedTables.map((table) => [table, (sqlite.prepare(`SELECT count(*) AS n FROM "${table}"`).get() as { n: number }).n]))
}

describe('npm run db:move-to-postgres', () => {
  it('refuses to start without DATABASE_URL, with one that is not postgres://, without a store, or with a store this release cannot move (exit 2), creating nothing', async () => {
    const { dir } = demoStore()
    const empty = fs.mkdtempSync(path.join(os.tmpdir(), 'till-move-empty-'))
    dirs.push(empty)
    // a store one migration behind this release, and a SQLite file that is no store at all
    const behind = demoStore()
    behind.sqlite.prepare('DELETE FROM __drizzle_migrations WHERE id = (SELECT max(id) FROM __drizzle_migrations)').run()
    const stranger = fs.mkdtempSync(path.join(os.tmpdir(), 'till-move-stranger-'))
    dirs.push(stranger)
    new Database(path.join(stranger, STORE_FILE)).exec('CREATE TABLE notes (body text)')
    const [noUrl, mysql, noStore, notMigrated, notAStore] = await Promise.all([
      npmRun('db:move-to-postgres', [], { STORAGE_DIR: dir, PAYMENTS: 'emulator' }),
      npmRun('db:move-to-postgres', [], env(dir, 'mysql://root@127.0.0.1/till')),
      npmRun('db:move-to-postgres', [], env(empty, server.url)),
      npmRun('db:move-to-postgres', [], env(behind.dir, server.url)),
      npmRun('db:move-to-postgres', [], env(stranger, server.url)),
    ])
    expect(noUrl.code, noUrl.stderr).toBe(2)
    expect(noUrl.stderr).toContain('DATABASE_URL is not set')
    expect(mysql.code, mysql.stderr).toBe(2)
    expect(mysql.stderr).toContain('DATABASE_URL: must start with postgres://')
    expect(noStore.code, noStore.stderr).toBe(2)
    expect(noStore.stderr).toContain(`no store at ${path.join(empty, STORE_FILE)}`)
    expect(notMigrated.code, notMigrated.stderr).toBe(2)
    expect(notMigrated.stderr).toMatch(/lacks 1 migration\(s\) of this release \(\w+\): run npm run db:migrate/)
    expect(notAStore.code, notAStore.stderr).toBe(2)
    expect(notAStore.stderr).toContain('is not a Till store')
    // nothing was created in the database they named
    expect((await admin.query(`SELECT count(*)::int AS n FROM pg_tables WHERE schemaname = 'public'`)).rows[0].n).toBe(0)
  })

  it('moves the demo store: every table arrives with its counts and exact values, and the next insert gets a new id', async () => {
    const { dir, sqlite } = demoStore()
    addOrders(sqlite, 20)
    // values that a careless copy changes: unicode, a JSON text whose key order and spacing
    // must survive, a null, a flag, a large amount, a millisecond time past 2^31
    const address = '{"name":"Zoë Ångström","line1":"Straße 1","line2":null,"city":"Zürich","postalCode":"8001","country":"CH"}'
    const { lastInsertRowid: orderId } = sqlite
      .prepare(
        `INSERT INTO orders (stripe_checkout_session_id, public_token, status, total_cents, currency, email, customer_name, shipping_address, is_tax_inclusive, paid_at, created_at, updated_at)
         VALUES ('cs_test_unicode', 'token_unicode', 'paid', 987654321012, 'chf', NULL, 'Zoë 🌲 Ångström', ?, 1, 1764000000123, 1764000000123, 1764000000456)`,
      )
      .run(address)
    const products = (sqlite.prepare(`SELECT count(*) AS n FROM products WHERE status = 'active'`).get() as { n: number }).n
    // catalog_changes is AUTOINCREMENT: an id handed out once is never reused, even when its row is gone
    for (let i = 0; i < 3; i++) sqlite.prepare(`INSERT INTO catalog_changes (slug, origin) VALUES ('moved', 'test')`).run()
    const lastChange = (sqlite.prepare('SELECT max(id) AS id FROM catalog_changes').get() as { id: number }).id
    sqlite.prepare('DELETE FROM catalog_changes WHERE id = ?').run(lastChange)

    const target = await freshTarget()
    const moved = await npmRun('db:move-to-postgres', [], env(dir, target.url))
    expect(moved.code, moved.stderr + moved.stdout).toBe(0)
    console.log(moved.stdout)
    expect(moved.stdout).toMatch(/orders +\d+ rows copied {2}checksum ok/)
    expect(moved.stdout).toMatch(/db:move-to-postgres: \d+ tables, \d+ rows copied, every count and checksum matched/)
    expect(moved.stdout).toMatch(new RegExp(`product_search +${products} products indexed by PostgreSQL's triggers, the same as SQLite's search index`))
    expect(moved.stdout).toContain('PAYMENTS=emulator: no Stripe to reconcile with from here; the store reconciles at boot and every 5 minutes')

    const counts = await countsIn(target.pool)
    // stored_files gets the demo's pictures from the store's uploads folder besides its rows
    expect(Object.fromEntries(copiedTables.map((t) => [t, counts[t]]))).toEqual({ ...sourceCounts(sqlite), stored_files: sourceCounts(sqlite).stored_files! + filesUnder(path.join(dir, 'uploads')).length })
    expect(counts.orders).toBe(21)
    expect(counts.variants).toBeGreaterThan(10)
    // product_search is not copied: the migrations' triggers built it from the copied catalog
    expect(counts.product_search).toBe(products)

    const { rows } = await target.pool.query(
      `SELECT id, total_cents, currency, email, customer_name, shipping_address::text AS address, is_tax_inclusive, is_oversold, paid_at, updated_at, discount_codes::text AS codes FROM orders WHERE stripe_checkout_session_id = 'cs_test_unicode'`,
    )
    expect(rows).toEqual([
      { id: String(orderId), total_cents: '987654321012', currency: 'chf', email: null, customer_name: 'Zoë 🌲 Ångström', address, is_tax_inclusive: 1, is_oversold: 0, paid_at: '1764000000123', updated_at: '1764000000456', codes: '[]' },
    ])
    const variant = sqlite.prepare('SELECT id, sku, price_cents, options, stock FROM variants ORDER BY id DESC LIMIT 1').get() as Record<string, unknown>
    const { rows: variantRows } = await target.pool.query('SELECT id::int, sku, price_cents::int, options::text, stock FROM variants WHERE id = $1', [variant.id])
    expect(variantRows).toEqual([variant])

    // the identities moved past the copied ids: a row without an id does not collide
    const maxOrder = (sqlite.prepare('SELECT max(id) AS id FROM orders').get() as { id: number }).id
    const { rows: inserted } = await target.pool.query(`INSERT INTO orders (stripe_checkout_session_id, public_token, status, total_cents, currency) VALUES ('cs_after_move', 'token_after_move', 'paid', 100, 'usd') RETURNING id::int`)
    expect(inserted[0].id).toBe(maxOrder + 1)
    const maxCollection = (sqlite.prepare('SELECT max(id) AS id FROM collections').get() as { id: number }).id
    const { rows: collection } = await target.pool.query(`INSERT INTO collections (slug, title) VALUES ('after-move', 'After the move') RETURNING id::int`)
    expect(collection[0].id).toBe(maxCollection + 1)
    const { rows: change } = await target.pool.query(`INSERT INTO catalog_changes (slug) VALUES ('after-move') RETURNING id::int`)
    expect(change[0].id).toBe(lastChange + 1)
  })

  it('checks clean into a database whose collation is not byte order: text keys are compared in the same order on both sides', async () => {
    const { file, sqlite } = demoStore()
    // byte order: 'B' < '_' < 'a'; an English collation: '_', 'a', 'B'
    for (const id of ['a-cart', 'B-cart', '_cart', 'Ä-cart', 'b-cart']) sqlite.prepare('INSERT INTO carts (id) VALUES (?)').run(id.padEnd(43, '0'))
    const name = `move_icu_${++databases}`
    await admin.query(`CREATE DATABASE ${name} TEMPLATE template0 ENCODING 'UTF8' LOCALE_PROVIDER icu ICU_LOCALE 'en-US'`)
    const pool = new pg.Pool({ connectionString: server.url.replace(/\/till$/, `/${name}`), max: 2 })
    pools.push(pool)
    const { rows: order } = await pool.query(`SELECT id FROM (VALUES ('a'), ('B'), ('_')) v(id) ORDER BY id`)
    expect(order.map((r) => r.id)).toEqual(['_', 'a', 'B'])

    const source = openDatabase(file, { readonly: true }).$client
    const report = await moveToPostgres(source, pool)
    source.close()
    expect(report.tables.find((t) => t.table === 'carts')?.rows).toBe(5)
  })

  it('then reconciles with Stripe: an order paid after the snapshot, whose webhook never came, is in PostgreSQL once, and the reconcile after it finds nothing more', async () => {
    const { dir, sqlite } = demoStore()
    const variant = sqlite.prepare('SELECT id, stock FROM variants ORDER BY id LIMIT 1').get() as { id: number; stock: number }
    // Stripe took a payment the SQLite store never heard of (its webhook did not arrive before the move)
    const stripe = await startStripeServer()
    try {
      const session = stripe.emulator.control.foreignSession({ line_items: [{ name: 'Moved Mug', unit_amount: 2500, quantity: 2, variant_id: String(variant.id) }] })
      expect(sqlite.prepare('SELECT count(*) AS n FROM orders WHERE stripe_checkout_session_id = ?').get(session.id)).toEqual({ n: 0 })
      const target = await freshTarget()
      const stripeEnv = { PAYMENTS: 'stripe', APP_URL: 'http://127.0.0.1:3000', STRIPE_SECRET_KEY: stripe.secretKey, STRIPE_WEBHOOK_SECRET: stripe.webhookSecret, STRIPE_API_BASE: stripe.url }
      const moved = await npmRun('db:move-to-postgres', [], env(dir, target.url, stripeEnv))
      expect(moved.code, moved.stderr + moved.stdout).toBe(0)
      expect(moved.stdout).toMatch(/reconciled with Stripe after the snapshot of .*: \d+ events and \d+ sessions read, 1 orders paid after the snapshot created, 0 failures/)
      const { rows } = await target.pool.query('SELECT status, total_cents::int AS total FROM orders WHERE stripe_checkout_session_id = $1', [session.id])
      expect(rows).toEqual([{ status: 'paid', total: 5000 }])
      const { rows: stock } = await target.pool.query('SELECT stock FROM variants WHERE id = $1', [variant.id])
      expect(stock).toEqual([{ stock: variant.stock - 2 }])
      // the reconcile that runs next (the store's, at its boot) finds nothing more to do
      const again = await npmRun('reconcile', [], { ...env(dir, target.url, stripeEnv) })
      expect(again.code, again.stderr + again.stdout).toBe(0)
      expect(again.stdout).toMatch(/0 orders created, 0 failures/)
      expect((await target.pool.query('SELECT count(*)::int AS n FROM orders WHERE stripe_checkout_session_id = $1', [session.id])).rows).toEqual([{ n: 1 }])
    } finally {
      await stripe.close()
    }
  })

  it('refuses a target that holds rows, names the table and changes nothing', async () => {
    const { dir } = demoStore()
    const target = await freshTarget()
    await migrate(target.pool)
    await target.pool.query(`INSERT INTO leases (name, holder, acquired_at, expires_at) VALUES ('reconcile', 'elsewhere', 1, 2)`)
    const before = await countsIn(target.pool)
    const migrations = (await target.pool.query('SELECT count(*)::int AS n FROM drizzle.__drizzle_migrations')).rows[0].n

    const refused = await npmRun('db:move-to-postgres', [], env(dir, target.url))
    expect(refused.code, refused.stdout).toBe(1)
    expect(refused.stderr).toContain('the target database is not empty (leases has rows)')
    expect(await countsIn(target.pool)).toEqual(before)
    expect(before.leases).toBe(1)
    expect((await target.pool.query('SELECT count(*)::int AS n FROM drizzle.__drizzle_migrations')).rows[0].n).toBe(migrations)
  })

  it('refuses while a restore holds the storage folder, copying nothing', async () => {
    const { dir } = demoStore()
    const target = await freshTarget()
    const refused = await storage.withExclusive(dir, () => npmRun('db:move-to-postgres', [], env(dir, target.url)))
    expect(refused.code, refused.stdout).toBe(1)
    expect(refused.stderr).toContain(`a restore holds STORAGE_DIR ${dir}`)
    expect((await target.pool.query(`SELECT count(*)::int AS n FROM pg_tables WHERE schemaname = 'public'`)).rows[0].n).toBe(0)
  })

  it('catches a row dropped during the copy: names the table and both figures, exits 1, leaves the target empty', async () => {
    const { dir, sqlite } = demoStore()
    addOrders(sqlite, 50)
    const lines = (sqlite.prepare('SELECT count(*) AS n FROM order_lines').get() as { n: number }).n
    const target = await freshTarget()

    const failed = await npmRun('db:move-to-postgres', [], env(dir, target.url, { FAILPOINTS: 'move.drop_row:order_lines' }))
    expect(failed.code, failed.stdout).toBe(1)
    expect(failed.stderr).toContain(`check failed for order_lines: row count ${lines} in SQLite but ${lines - 1} in PostgreSQL; rolled back, the target is left empty`)
    const counts = await countsIn(target.pool)
    expect(Object.values(counts).every((n) => n === 0)).toBe(true)
    expect(Object.keys(counts)).toHaveLength(copiedTables.length + 1)
  })

  it('stores the pictures and digital files of the store\'s disk that stored_files lacks, beside its rows, counted and checksummed with them', async () => {
    const { dir, sqlite } = demoStore()
    const uploads = path.join(dir, 'uploads')
    const pictures = filesUnder(uploads)
    expect(pictures.length).toBeGreaterThan(10)
    // one picture already stored by this release (its row wins: its time is kept), one only on the disk
    const [stored, ...onlyOnDisk] = pictures
    const storedBytes = fs.readFileSync(path.join(uploads, stored!))
    sqlite.prepare(`INSERT INTO stored_files (key, content_type, size_bytes, sha256, bytes, created_at) VALUES (?, 'image/jpeg', ?, ?, ?, 1700000000000)`).run(stored, storedBytes.length, sha256(storedBytes), storedBytes)
    // a digital product's file, kept on the disk only (a store from before), and files that are not the store's
    const product = sqlite.prepare(`SELECT id FROM products ORDER BY id LIMIT 1`).get() as { id: number }
    const storageKey = 'ab'.repeat(16)
    const book = Buffer.from('%PDF-1.7 the book')
    fs.mkdirSync(path.join(dir, 'downloads'))
    fs.writeFileSync(path.join(dir, 'downloads', storageKey), book)
    fs.writeFileSync(path.join(dir, 'downloads', 'cd'.repeat(16)), 'a file no product names')
    sqlite.prepare(`INSERT INTO product_files (product_id, storage_key, file_name, content_type, size_bytes) VALUES (?, ?, 'book.pdf', 'application/pdf', ?)`).run(product.id, storageKey, book.length)
    fs.writeFileSync(path.join(uploads, 'products', 'half.jpg.1234.tmp'), 'a copy being written')
    fs.writeFileSync(path.join(uploads, 'notes.txt'), 'not a picture')
    fs.symlinkSync(path.join(dir, STORE_FILE), path.join(uploads, 'link.jpg'))

    const target = await freshTarget()
    const moved = await npmRun('db:move-to-postgres', [], env(dir, target.url))
    expect(moved.code, moved.stderr + moved.stdout).toBe(0)
    const added = onlyOnDisk.length + 1
    expect(moved.stdout).toMatch(new RegExp(`stored_files +${added + 1} rows copied {2}checksum ok`))
    expect(moved.stdout).toMatch(new RegExp(`stored_files +${added} of them files from ${dir} \\(uploads/, downloads/\\) the store had no row for`))

    const { rows } = await target.pool.query<{ key: string; content_type: string; size_bytes: string; sha256: string; bytes: Buffer; created_at: string }>('SELECT * FROM stored_files ORDER BY key COLLATE "C"')
    expect(rows.map((r) => r.key).sort()).toEqual([...pictures, `downloads/${storageKey}`].sort())
    for (const row of rows) {
      const file = row.key.startsWith('downloads/') ? path.join(dir, row.key) : path.join(uploads, row.key)
      expect(row.bytes.equals(fs.readFileSync(file)), row.key).toBe(true)
      expect(row.sha256).toBe(sha256(row.bytes))
      expect(Number(row.size_bytes)).toBe(row.bytes.length)
    }
    expect(rows.find((r) => r.key === stored)!.created_at).toBe('1700000000000')
    expect(rows.find((r) => r.key === `downloads/${storageKey}`)!.content_type).toBe('application/pdf')
    expect(rows.find((r) => r.key === onlyOnDisk[0])!.content_type).toBe('image/jpeg')
    // the store itself is only read: its rows are as they were
    expect(sqlite.prepare('SELECT count(*) AS n FROM stored_files').get()).toEqual({ n: 1 })
  })

  it('catches a stored file dropped or changed on the way, and rolls back', async () => {
    const { dir } = demoStore()
    const pictures = filesUnder(path.join(dir, 'uploads'))
    const dropped = await freshTarget()
    const failed = await npmRun('db:move-to-postgres', [], env(dir, dropped.url, { FAILPOINTS: 'move.drop_row:stored_files' }))
    expect(failed.code, failed.stdout).toBe(1)
    expect(failed.stderr).toContain(`check failed for stored_files: row count ${pictures.length} in SQLite but ${pictures.length - 1} in PostgreSQL; rolled back, the target is left empty`)
    expect(Object.values(await countsIn(dropped.pool)).every((n) => n === 0)).toBe(true)

    // a target that alters a picture's bytes on insert (one byte flipped)
    const changed = await freshTarget()
    await migrate(changed.pool)
    await changed.pool.query(`CREATE FUNCTION flip_byte() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN NEW.bytes := set_byte(NEW.bytes, 0, get_byte(NEW.bytes, 0) # 1); RETURN NEW; END $$`)
    await changed.pool.query('CREATE TRIGGER flip_byte BEFORE INSERT ON stored_files FOR EACH ROW EXECUTE FUNCTION flip_byte()')
    const caught = await npmRun('db:move-to-postgres', [], env(dir, changed.url))
    expect(caught.code, caught.stdout).toBe(1)
    expect(caught.stderr).toMatch(/check failed for stored_files: checksum [0-9a-f]{64} in SQLite but [0-9a-f]{64} in PostgreSQL; rolled back/)
    expect(Object.values(await countsIn(changed.pool)).every((n) => n === 0)).toBe(true)
  })

  it('catches a value changed on the way by its checksum, and rolls back', async () => {
    const { file, sqlite } = demoStore()
    addOrders(sqlite, 10)
    const target = await freshTarget()
    await migrate(target.pool)
    // a target that alters what it is given (here: one email, on insert) must not pass
    await target.pool.query(`CREATE FUNCTION alter_one() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN IF NEW.email = 'buyer3@example.com' THEN NEW.email := 'buyer3@example.org'; END IF; RETURN NEW; END $$`)
    await target.pool.query('CREATE TRIGGER alter_one BEFORE INSERT ON orders FOR EACH ROW EXECUTE FUNCTION alter_one()')

    const source = openDatabase(file, { readonly: true }).$client
    const err = await moveToPostgres(source, target.pool).catch((e: unknown) => e)
    source.close()
    expect(err).toBeInstanceOf(CheckFailed)
    expect(err).toMatchObject({ table: 'orders', figure: 'checksum' })
    expect((err as CheckFailed).source).not.toBe((err as CheckFailed).target)
    expect((err as Error).message).toMatch(/^check failed for orders: checksum [0-9a-f]{64} in SQLite but [0-9a-f]{64} in PostgreSQL/)
    const counts = await countsIn(target.pool)
    expect(Object.values(counts).every((n) => n === 0)).toBe(true)
  })

  it('checks that the search index PostgreSQL builds holds the products SQLite indexed', async () => {
    const { file, sqlite } = demoStore()
    const target = await freshTarget()
    await migrate(target.pool)
    // a target whose index-building function (the one the move calls after its copy, and the
    // triggers call after a write) builds nothing
    await target.pool.query('CREATE OR REPLACE FUNCTION product_search_refresh(ids bigint[]) RETURNS void LANGUAGE plpgsql AS $$ BEGIN END $$')
    const indexed = (sqlite.prepare('SELECT count(*) AS n FROM product_search').get() as { n: number }).n

    const source = openDatabase(file, { readonly: true }).$client
    const err = await moveToPostgres(source, target.pool).catch((e: unknown) => e)
    source.close()
    expect(err).toBeInstanceOf(CheckFailed)
    expect((err as Error).message).toBe(`check failed for product_search: indexed products ${indexed} in SQLite but 0 in PostgreSQL; rolled back, the target is left empty`)
    expect((await countsIn(target.pool)).products).toBe(0)
  })

  it('moves a store with 10,000 orders and their lines, and checks it clean', async () => {
    const { file, sqlite } = demoStore()
    const generating = performance.now()
    addOrders(sqlite, 10_000)
    const generatedMs = performance.now() - generating
    const target = await freshTarget()

    const source = openDatabase(file, { readonly: true }).$client
    const report = await moveToPostgres(source, target.pool)
    source.close()
    const byTable = Object.fromEntries(report.tables.map((t) => [t.table, t.rows]))
    console.log(`10,000 orders (${byTable.order_lines} lines, ${report.rows} rows in all, generated in ${Math.round(generatedMs)} ms): moved and checked in ${report.millis} ms`)
    expect(byTable.orders).toBe(10_000)
    expect(byTable.order_lines).toBe((sqlite.prepare('SELECT count(*) AS n FROM order_lines').get() as { n: number }).n)
    expect(byTable.order_lines).toBeGreaterThan(19_000)
    const counts = await countsIn(target.pool)
    expect(Object.fromEntries(copiedTables.map((t) => [t, counts[t]]))).toEqual(sourceCounts(sqlite))
    const sum = (sqlite.prepare('SELECT sum(total_cents) AS cents FROM orders').get() as { cents: number }).cents
    expect(Number((await target.pool.query('SELECT sum(total_cents) AS cents FROM orders')).rows[0].cents)).toBe(sum)
    expect(report.identities).toContainEqual({ table: 'order_lines', column: 'id', restartWith: String(byTable.order_lines! + 1) })
  })

  it('copies one snapshot: rows another connection writes to the store during the copy are all out', async () => {
    const { file, sqlite } = demoStore()
    addOrders(sqlite, 5)
    const before = sourceCounts(sqlite)
    const target = await freshTarget()

    const source = openDatabase(file, { readonly: true }).$client
    const written: string[] = []
    const report = await moveToPostgres(source, target.pool, {
      // after products, before variants and orders are read: one write touching a table already
      // copied (collections) and tables still to come (orders, order_lines), committed at once
      afterTable: (table) => {
        if (table !== 'products') return
        sqlite.transaction(() => {
          sqlite.prepare(`INSERT INTO collections (slug, title) VALUES ('written-during-move', 'Written during the move')`).run()
          addOrders(sqlite, 3)
        }).immediate()
        written.push(table)
      },
    })
    source.close()
    expect(written).toEqual(['products'])
    const after = sourceCounts(sqlite)
    expect(after.orders).toBe(before.orders! + 3)
    expect(after.collections).toBe(before.collections! + 1)
    // the copy is the store as it was when the snapshot was taken, to the row
    expect(Object.fromEntries(report.tables.map((t) => [t.table, t.rows]))).toEqual(before)
    const counts = await countsIn(target.pool)
    expect(Object.fromEntries(copiedTables.map((t) => [t, counts[t]]))).toEqual(before)
    expect((await target.pool.query(`SELECT count(*)::int AS n FROM collections WHERE slug = 'written-during-move'`)).rows[0].n).toBe(0)
  })
})
