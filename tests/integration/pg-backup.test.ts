import { execFile } from 'node:child_process'
import fs from 'node:fs'
import path from 'node:path'
import { promisify } from 'node:util'
import pg from 'pg'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { openDatabase } from '@/db'
import { archiveSettings, baseBackupArgs, confLines, dumpArgs, RECOVERY_SIGNAL, recoverySettings, restoreArgs, type RecoveryTarget } from '@/db/pg/backup'
import { checksumTables, moveToPostgres } from '@/db/pg/move'
import { transaction } from '@/db/pg/transaction'
import { addOrders, demoStore } from '../support/demo-store'
import { runAs, runProgram, startPostgres, type Postgres } from '../support/postgres'
import { freePort, tempStorage } from '../support/server'

// The restore drill on PostgreSQL (docs/scale-out.md, docs/decisions/045), against real
// servers started here with the settings and command lines of db/pg/backup.ts:
// - point in time: a base backup, orders written, a named restore point, an LSN and a time
//   recorded between batches, every segment archived; three restores of the base backup
//   replay the archive, one to each target, and each holds exactly the rows at its target
//   (per-table counts and the move tool's checksums) and none written after it; a fourth, to
//   a target the archive never reaches, stops instead of promoting;
// - pg_dump -Fc of 10,000 orders restored by pg_restore into an empty database: the same
//   checksums, and the identities still ahead of every id;
// - a base backup taken while four writers write restores, alone, to a consistent store.
// Each step's size and time is printed: docs/scale-out.md quotes them.

const run = promisify(execFile)
const STOCK = 1_000_000
const MB = 1024 * 1024

let primary: Postgres
let drill: string
let archive: string
const pools: pg.Pool[] = []
const servers: Postgres[] = []
const sqliteDirs: string[] = []

beforeAll(async () => {
  // One folder the server's user owns, outside every server's own: the archive and the
  // backups outlive the server they came from, as they must.
  drill = tempStorage('till-pg-drill-')
  archive = path.join(drill, 'archive')
  fs.mkdirSync(archive)
  const owner = runAs()
  if (owner) for (const dir of [drill, archive]) fs.chownSync(dir, owner.uid, owner.gid)
  // full_page_writes back on (the tests' servers turn it off): a base backup and its replay are what the drill is about
  primary = await startPostgres({ settings: { ...archiveSettings(archive), full_page_writes: 'on' } })
  servers.push(primary)
})

afterAll(async () => {
  await Promise.all(pools.splice(0).map((p) => p.end()))
  await Promise.all(servers.splice(0).map((s) => s.stop()))
  for (const dir of [drill, ...sqliteDirs]) if (dir) fs.rmSync(dir, { recursive: true, force: true })
})

const urlOf = (server: Postgres, database: string) => server.url.replace(/\/till$/, `/${database}`)

function poolOn(server: Postgres, database = 'till', max = 2): pg.Pool {
  const pool = new pg.Pool({ connectionString: urlOf(server, database), max })
  pools.push(pool)
  return pool
}

/** A database on the primary holding the demo store moved from SQLite (with `orders` more orders), every variant's stock set to STOCK. */
async function movedStore(database: string, orders = 0): Promise<pg.Pool> {
  if (database !== 'till') await poolOn(primary, 'postgres', 1).query(`CREATE DATABASE ${database}`)
  const store = demoStore()
  sqliteDirs.push(store.dir)
  if (orders) addOrders(store.sqlite, orders)
  const pool = poolOn(primary, database, 5)
  const source = openDatabase(store.file, { readonly: true }).$client
  await moveToPostgres(source, pool)
  source.close()
  store.sqlite.close()
  await pool.query('UPDATE variants SET stock = $1', [STOCK])
  return pool
}

type Variant = { id: string; sku: string; price: number }
const variantsOf = async (pool: pg.Pool) => (await pool.query<Variant>('SELECT id::text, sku, price_cents::int AS price FROM variants ORDER BY id')).rows

/** The lines order n always has, so a restored order can be checked whole. */
const linesOf = (variants: Variant[], n: number) => Array.from({ length: 1 + (n % 3) }, (_, k) => ({ variant: variants[(n * 5 + k * 7) % variants.length]!, quantity: 1 + ((n + k) % 4) }))

/** Order n as the store writes one: the order, its lines and the stock they take, in one transaction. */
async function writeOrder(pool: pg.Pool, variants: Variant[], n: number): Promise<void> {
  await transaction(pool, async (client) => {
    const lines = linesOf(variants, n)
    const total = lines.reduce((sum, l) => sum + l.variant.price * l.quantity, 0)
    const at = 1_765_000_000_000 + n
    const { rows } = await client.query<{ id: string }>(
      `INSERT INTO orders (stripe_checkout_session_id, public_token, status, total_cents, subtotal_cents, currency, email, paid_at, created_at, updated_at)
       VALUES ($1, $2, 'paid', $3, $3, 'usd', $4, $5, $5, $5) RETURNING id`,
      [`cs_drill_${n}`, `drill_token_${n}`, total, `drill${n}@example.com`, at],
    )
    for (const l of lines) {
      await client.query('INSERT INTO order_lines (order_id, variant_id, sku, title, quantity, unit_amount_cents, total_cents) VALUES ($1, $2, $3, $4, $5, $6, $7)', [
        rows[0]!.id,
        l.variant.id,
        l.variant.sku,
        `Drill line of ${n}`,
        l.quantity,
        l.variant.price,
        l.variant.price * l.quantity,
      ])
      const taken = await client.query('UPDATE variants SET stock = stock - $2 WHERE id = $1 AND stock >= $2', [l.variant.id, l.quantity])
      if (taken.rowCount !== 1) throw new Error(`drill: variant ${l.variant.id} out of stock`)
    }
  })
}

async function writeOrders(pool: pg.Pool, variants: Variant[], from: number, count: number): Promise<void> {
  for (let n = from; n < from + count; n++) await writeOrder(pool, variants, n)
}

const drillOrders = async (pool: pg.Pool) => (await pool.query<{ n: number }>(`SELECT substr(stripe_checkout_session_id, 10)::int AS n FROM orders WHERE stripe_checkout_session_id LIKE 'cs_drill_%' ORDER BY 1`)).rows.map((r) => r.n)
const range = (from: number, count: number) => Array.from({ length: count }, (_, i) => from + i)

function folderBytes(dir: string): number {
  return fs.readdirSync(dir, { recursive: true, withFileTypes: true }).reduce((sum, e) => (e.isFile() ? sum + fs.statSync(path.join(e.parentPath, e.name)).size : sum), 0)
}

const mb = (bytes: number) => `${(bytes / MB).toFixed(1)} MB`
const seconds = (ms: number) => `${(ms / 1000).toFixed(1)} s`

/** pg_basebackup into a new folder of the drill, checked by pg_verifybackup against its manifest; its size and time. */
async function baseBackup(name: string): Promise<{ dir: string; bytes: number; ms: number }> {
  const dir = path.join(drill, name)
  const started = performance.now()
  await runProgram('pg_basebackup', baseBackupArgs(urlOf(primary, 'postgres'), dir), drill)
  const ms = performance.now() - started
  const verified = await runProgram('pg_verifybackup', [dir], drill)
  expect(verified.stdout).toContain('backup successfully verified')
  return { dir, bytes: folderBytes(dir), ms }
}

/**
 * A new server on a copy of the base backup, started on its own port: with a target, it
 * replays the archive to it (recovery.signal, the recovery settings in postgresql.auto.conf)
 * and is promoted; without one, it starts on the backup alone. Resolves once it takes writes;
 * throws with the server's log if it stopped instead.
 */
async function restore(base: string, target?: RecoveryTarget): Promise<{ server: Postgres; ms: number }> {
  const started = performance.now()
  const server = await startPostgres({
    timeoutMs: 120_000,
    // no connections until recovery is over: the server is then promoted, or has exited with its reason
    settings: { hot_standby: 'off' },
    fillData: async (data, asOwner) => {
      await run('cp', ['-a', base, data], asOwner)
      if (!target) return
      fs.writeFileSync(path.join(data, RECOVERY_SIGNAL), '')
      fs.appendFileSync(path.join(data, 'postgresql.auto.conf'), confLines(recoverySettings(archive, target)))
      if (asOwner.uid !== undefined) fs.chownSync(path.join(data, RECOVERY_SIGNAL), asOwner.uid, asOwner.gid!)
    },
  })
  const ms = performance.now() - started
  servers.push(server)
  expect((await poolOn(server, 'postgres', 1).query<{ recovering: boolean }>('SELECT pg_is_in_recovery() AS recovering')).rows[0]!.recovering).toBe(false)
  return { server, ms }
}

/** Switches to a new WAL segment and waits until the archive holds every segment up to it. */
async function archiveEverything(pool: pg.Pool): Promise<void> {
  const { rows } = await pool.query<{ segment: string }>('SELECT pg_walfile_name(pg_switch_wal()) AS segment')
  const segment = rows[0]!.segment
  const deadline = performance.now() + 60_000
  for (;;) {
    const { rows: stats } = await pool.query<{ last: string | null; failed: string }>('SELECT last_archived_wal AS last, failed_count::text AS failed FROM pg_stat_archiver')
    expect(stats[0]!.failed).toBe('0')
    if (stats[0]!.last && stats[0]!.last >= segment) return
    if (performance.now() > deadline) throw new Error(`drill: ${segment} was never archived (last: ${stats[0]!.last})`)
    await new Promise((resolve) => setTimeout(resolve, 50))
  }
}

/** Every foreign key of the store holds: no row points at a row that is not there. */
async function orphans(pool: pg.Pool): Promise<string[]> {
  const { rows: keys } = await pool.query<{ name: string; child: string; parent: string; columns: string[]; refs: string[] }>(`
    SELECT c.conname AS name, c.conrelid::regclass::text AS child, c.confrelid::regclass::text AS parent,
      (SELECT array_agg(quote_ident(a.attname) ORDER BY k.i) FROM unnest(c.conkey) WITH ORDINALITY k(num, i) JOIN pg_attribute a ON a.attrelid = c.conrelid AND a.attnum = k.num) AS columns,
      (SELECT array_agg(quote_ident(a.attname) ORDER BY k.i) FROM unnest(c.confkey) WITH ORDINALITY k(num, i) JOIN pg_attribute a ON a.attrelid = c.confrelid AND a.attnum = k.num) AS refs
    FROM pg_constraint c WHERE c.contype = 'f' AND c.connamespace = 'public'::regnamespace`)
  expect(keys.length).toBeGreaterThan(10)
  const broken: string[] = []
  for (const key of keys) {
    const present = key.columns.map((c) => `c.${c} IS NOT NULL`).join(' AND ')
    const matches = key.columns.map((c, i) => `p.${key.refs[i]} = c.${c}`).join(' AND ')
    const { rows } = await pool.query<{ n: number }>(`SELECT count(*)::int AS n FROM ${key.child} c WHERE ${present} AND NOT EXISTS (SELECT 1 FROM ${key.parent} p WHERE ${matches})`)
    if (rows[0]!.n) broken.push(`${key.name}: ${rows[0]!.n}`)
  }
  return broken
}

/** Identity columns whose next value would collide with an id already there. */
async function identitiesBehind(pool: pg.Pool): Promise<string[]> {
  const { rows: identities } = await pool.query<{ table: string; column: string; sequence: string }>(
    `SELECT table_name AS table, column_name AS column, pg_get_serial_sequence(quote_ident(table_name), column_name) AS sequence
     FROM information_schema.columns WHERE table_schema = 'public' AND is_identity = 'YES'`,
  )
  expect(identities.length).toBeGreaterThan(10)
  const behind: string[] = []
  for (const { table, column, sequence } of identities) {
    const { rows } = await pool.query<{ next: string; max: string | null }>(
      `SELECT (SELECT CASE WHEN is_called THEN last_value + 1 ELSE last_value END FROM ${sequence})::text AS next, (SELECT max(${column}) FROM ${table})::text AS max`,
    )
    if (rows[0]!.max !== null && BigInt(rows[0]!.next) <= BigInt(rows[0]!.max)) behind.push(`${table}.${column}: next ${rows[0]!.next}, max ${rows[0]!.max}`)
  }
  return behind
}

describe('backups on PostgreSQL', () => {
  it('point in time: a base backup plus the archived WAL restores to a named restore point, an LSN and a time, exactly', async () => {
    const pool = await movedStore('till')
    const variants = await variantsOf(pool)
    const base = await baseBackup('base')

    const archivedBefore = folderBytes(archive)
    const walBefore = (await pool.query<{ lsn: string }>('SELECT pg_current_wal_insert_lsn()::text AS lsn')).rows[0]!.lsn
    await writeOrders(pool, variants, 0, 1_000)
    const { rows: wal } = await pool.query<{ bytes: string }>('SELECT pg_wal_lsn_diff(pg_current_wal_insert_lsn(), $1)::text AS bytes', [walBefore])
    const atRestorePoint = await checksumTables(pool)
    await pool.query(`SELECT pg_create_restore_point('drill-after-1000')`)

    await writeOrders(pool, variants, 1_000, 500)
    const atLsn = await checksumTables(pool)
    const lsn = (await pool.query<{ lsn: string }>('SELECT pg_current_wal_insert_lsn()::text AS lsn')).rows[0]!.lsn

    await writeOrders(pool, variants, 1_500, 250)
    const atTime = await checksumTables(pool)
    // commit times are in microseconds: a pause on each side keeps the target strictly between two batches
    await new Promise((resolve) => setTimeout(resolve, 20))
    const time = (await pool.query<{ time: string }>('SELECT clock_timestamp()::text AS time')).rows[0]!.time
    await new Promise((resolve) => setTimeout(resolve, 20))

    await writeOrders(pool, variants, 1_750, 250)
    await archiveEverything(pool)
    const archived = folderBytes(archive) - archivedBefore
    expect(await drillOrders(pool)).toEqual(range(0, 2_000))
    // the base backup left its history file, which pg_archivecleanup takes as the oldest file to keep
    expect(fs.readdirSync(archive).filter((f) => /^[0-9A-F]{24}\.[0-9A-F]{8}\.backup$/.test(f))).toHaveLength(1)

    const toName = await restore(base.dir, { name: 'drill-after-1000' })
    const named = poolOn(toName.server)
    expect(await checksumTables(named)).toEqual(atRestorePoint)
    expect(await drillOrders(named)).toEqual(range(0, 1_000))

    const toLsn = await restore(base.dir, { lsn })
    const byLsn = poolOn(toLsn.server)
    expect(await checksumTables(byLsn)).toEqual(atLsn)
    expect(await drillOrders(byLsn)).toEqual(range(0, 1_500))
    expect(atLsn).not.toEqual(atRestorePoint)

    const toTime = await restore(base.dir, { time })
    const byTime = poolOn(toTime.server)
    expect(await checksumTables(byTime)).toEqual(atTime)
    expect(await drillOrders(byTime)).toEqual(range(0, 1_750))

    // a target the archive never reaches: the server stops rather than promote what it has
    const unreached = await restore(base.dir, { name: 'never-created' }).catch((err: unknown) => err)
    expect(String(unreached)).toContain('recovery ended before configured recovery target was reached')

    // promoted: it takes writes on its new timeline, and its identities are ahead of every id
    expect(await identitiesBehind(byLsn)).toEqual([])
    await writeOrder(byLsn, variants, 9_999)
    expect(await drillOrders(byLsn)).toEqual([...range(0, 1_500), 9_999])

    console.log(
      [
        `pg-backup drill, point in time:`,
        `  base backup: ${mb(base.bytes)} in ${seconds(base.ms)} (demo store moved; the whole server, WAL streamed alongside)`,
        `  WAL per 1,000 orders (1-3 lines each, stock taken): ${mb(Number(wal[0]!.bytes))} generated; archive grew ${mb(archived)} for 2,000 orders (whole 16 MB segments)`,
        `  restore to a restore point: ${seconds(toName.ms)}; to an LSN: ${seconds(toLsn.ms)}; to a time: ${seconds(toTime.ms)} (copy of the base backup, replay, promotion)`,
      ].join('\n'),
    )
  }, 240_000)

  it('pg_dump -Fc of 10,000 orders restored by pg_restore into an empty database: the same checksums, identities ahead of every id', async () => {
    const source = await movedStore('dumped', 10_000)
    const before = await checksumTables(source)
    expect(before.find((t) => t.table === 'orders')?.rows).toBe(10_000)
    const file = path.join(drill, 'store.dump')

    // DATABASE_URL's multi-host form as it is: libpq skips a host that does not answer (nothing listens on the first)
    const multiHost = `postgres://postgres@127.0.0.1:${await freePort()},127.0.0.1:${primary.port}/dumped?target_session_attrs=read-write`
    const dumping = performance.now()
    await runProgram('pg_dump', dumpArgs(multiHost, file), drill)
    const dumpMs = performance.now() - dumping
    const dumpBytes = fs.statSync(file).size

    // as the docs say to make it: from template0, so nothing added to template1 meets the dump's objects
    await poolOn(primary, 'postgres', 1).query(`CREATE DATABASE restored TEMPLATE template0 ENCODING 'UTF8'`)
    const restoring = performance.now()
    await runProgram('pg_restore', restoreArgs(urlOf(primary, 'restored'), file), drill)
    const restoreMs = performance.now() - restoring

    const restored = poolOn(primary, 'restored')
    expect(await checksumTables(restored)).toEqual(before)
    // the search index and the migrations' bookkeeping come back too
    const search = 'SELECT product_id::text, document::text FROM product_search ORDER BY product_id'
    expect((await restored.query(search)).rows).toEqual((await source.query(search)).rows)
    const migrations = 'SELECT hash, created_at::text FROM drizzle.__drizzle_migrations ORDER BY id'
    expect((await restored.query(migrations)).rows).toEqual((await source.query(migrations)).rows)

    expect(await identitiesBehind(restored)).toEqual([])
    const maxOrder = Number((await restored.query<{ max: string }>('SELECT max(id)::text AS max FROM orders')).rows[0]!.max)
    await writeOrder(restored, await variantsOf(restored), 20_000)
    const { rows: added } = await restored.query<{ id: string }>(`SELECT id::text FROM orders WHERE stripe_checkout_session_id = 'cs_drill_20000'`)
    expect(Number(added[0]!.id)).toBe(maxOrder + 1)

    const rows = before.reduce((sum, t) => sum + t.rows, 0)
    console.log(`pg-backup drill, pg_dump: 10,000 orders (${rows} rows): dump ${mb(dumpBytes)} in ${seconds(dumpMs)}; pg_restore into an empty database ${seconds(restoreMs)}`)
  }, 240_000)

  it('a base backup taken while four writers write restores, on its own, to a consistent store', async () => {
    const pool = await movedStore('busy')
    const variants = await variantsOf(pool)
    const acknowledged: number[] = []
    let next = 0
    let isWriting = true
    const writers = Array.from({ length: 4 }, async () => {
      while (isWriting) {
        const n = next++
        await writeOrder(pool, variants, n)
        acknowledged.push(n)
      }
    })
    const waitFor = async (count: number) => {
      while (acknowledged.length < count) await new Promise((resolve) => setTimeout(resolve, 20))
    }
    await waitFor(200)
    const beforeBackup = [...acknowledged]
    const base = await baseBackup('busy-base')
    const duringBackup = acknowledged.length - beforeBackup.length
    await waitFor(acknowledged.length + 100)
    isWriting = false
    await Promise.all(writers)
    expect(duringBackup).toBeGreaterThan(0)

    const { server, ms } = await restore(base.dir)
    const restored = poolOn(server, 'busy')
    const present = await drillOrders(restored)
    // every order acknowledged before the backup began is in it; the last ones, written once it had ended, are not
    expect(present).toEqual(expect.arrayContaining(beforeBackup))
    expect(present.filter((n) => acknowledged.slice(-50).includes(n))).toEqual([])
    // and some written while it was being copied are in it: the copy met writes, and the WAL streamed with it replayed them
    expect(present.length).toBeGreaterThan(beforeBackup.length)
    expect(await orphans(restored)).toEqual([])

    // no half-written order: each has all its lines, its total is theirs, and the stock it took is gone
    const { rows: orders } = await restored.query<{ n: number; total: number; lines: { variant: string; quantity: number; total: number }[] }>(`
      SELECT substr(o.stripe_checkout_session_id, 10)::int AS n, o.total_cents::int AS total,
        coalesce(json_agg(json_build_object('variant', l.variant_id::text, 'quantity', l.quantity, 'total', l.total_cents) ORDER BY l.id) FILTER (WHERE l.id IS NOT NULL), '[]') AS lines
      FROM orders o LEFT JOIN order_lines l ON l.order_id = o.id WHERE o.stripe_checkout_session_id LIKE 'cs_drill_%' GROUP BY o.id`)
    expect(orders).toHaveLength(present.length)
    for (const order of orders) {
      const want = linesOf(variants, order.n)
      expect(order.lines, `order ${order.n}`).toEqual(want.map((l) => ({ variant: l.variant.id, quantity: l.quantity, total: l.variant.price * l.quantity })))
      expect(order.total, `order ${order.n}`).toBe(want.reduce((sum, l) => sum + l.variant.price * l.quantity, 0))
    }
    const { rows: stock } = await restored.query<{ id: string; stock: number; sold: number }>(`
      SELECT v.id::text, v.stock, coalesce(sum(l.quantity) FILTER (WHERE o.stripe_checkout_session_id LIKE 'cs_drill_%'), 0)::int AS sold
      FROM variants v LEFT JOIN order_lines l ON l.variant_id = v.id LEFT JOIN orders o ON o.id = l.order_id GROUP BY v.id`)
    expect(stock.filter((v) => v.stock + v.sold !== STOCK)).toEqual([])

    console.log(
      `pg-backup drill, under writers: base backup ${mb(base.bytes)} in ${seconds(base.ms)} while 4 writers committed ${duringBackup} orders; restored alone in ${seconds(ms)} with ${present.length} of ${acknowledged.length} orders, all whole`,
    )
  }, 240_000)
})
