// npm run db:move-to-postgres — copy the SQLite store in STORAGE_DIR into the empty PostgreSQL
// database at DATABASE_URL, in one snapshot, checked table by table before it commits
// (db/pg/move.ts, docs/decisions/042-move-to-postgres.md), with the pictures and digital files
// of STORAGE_DIR that stored_files lacks (decision 049). Safe while the store runs: the
// store is only read, through SQLite, in one read transaction.
// Exit codes: 0 moved and checked; 1 refused or failed (nothing copied); 2 usage.
import fs from 'node:fs'
import path from 'node:path'
import { openDatabase, STORE_FILE } from '@/db'
import { assertSchemaKnown, schemaVersion } from '@/db/migrate'
import { moveToPostgres } from '@/db/pg/move'
import { PrimaryPool } from '@/db/pg/primary'
import { postgresEngine } from '@/db/pg/steps'
import { usePostgres as runBodiesOn } from '@/db/tx'
import * as downloads from '@/lib/downloads'
import { ConfigError, getEnv } from '@/lib/env'
import { LEASE_TTL_MS } from '@/lib/jobs'
import { withLease } from '@/lib/jobs/lease'
import * as storage from '@/lib/platform/storage'
import * as reconcile from '@/lib/reconcile'
import * as uploads from '@/lib/uploads'

const NAME = 'db:move-to-postgres'
// A failpoint (tests only): FAILPOINTS=move.drop_row:<table> leaves one row of that table out.
const DROP_ROW_FAILPOINT = 'move.drop_row:'

function usage(message: string): never {
  console.error(`${NAME}: ${message}`)
  process.exit(2)
}

let env: ReturnType<typeof getEnv>
try {
  env = getEnv()
} catch (err) {
  if (err instanceof ConfigError) usage(`cannot start.\n${err.message}`)
  throw err
}
const url = env.databaseUrl
if (!url) usage('DATABASE_URL is not set: set it to the empty PostgreSQL database to copy the store into, e.g. DATABASE_URL=postgres://till:secret@db.example.com:5432/till')
const file = path.join(env.storageDir, STORE_FILE)
if (!fs.existsSync(file)) usage(`no store at ${file}: set STORAGE_DIR to the folder that holds ${STORE_FILE}`)

// A restore must not replace the store while this copies it: db:restore refuses while any process holds it.
try {
  storage.holdInUse(env.storageDir, 2_000)
} catch (err) {
  if (!(err instanceof Error && err.name === 'StorageRefused')) throw err
  console.error(`${NAME}: a restore holds STORAGE_DIR ${env.storageDir} (npm run db:restore); run the move once it has finished`)
  process.exit(1)
}
// Read-only: the move never writes the store it copies.
const source = openDatabase(file, { readonly: true }).$client
let pending: string[]
try {
  assertSchemaKnown(source)
  pending = schemaVersion(source).pending
} catch (err) {
  const isNotStore = err instanceof Error && /no such table: __drizzle_migrations/.test(err.message)
  usage(isNotStore ? `${file} is not a Till store (no migrations were ever applied to it)` : `${err instanceof Error ? err.message : String(err)} This release cannot move it.`)
}
if (pending.length) usage(`the store at ${file} lacks ${pending.length} migration(s) of this release (${pending.join(', ')}): run npm run db:migrate (or start this release once) first`)

const where = `${url.hosts.map((h) => `${h.host}:${h.port}`).join(',')}/${url.database ?? ''}`
const dropOneRowOf = env.failpoints.find((f) => f.startsWith(DROP_ROW_FAILPOINT))?.slice(DROP_ROW_FAILPOINT.length)
const pool = new PrimaryPool(url, { max: 2, waitForPrimaryMillis: 15_000 })

console.log(`${NAME}: copying ${file} into PostgreSQL at ${where}`)
// The pictures and digital files on this store's disk, for stored_files: a store made before
// files were kept in the database has them there only. Called inside the move's snapshot, so
// product_files is read from it.
const filesOnDisk = () => {
  const named = new Map((source.prepare('SELECT storage_key, content_type FROM product_files').all() as { storage_key: string; content_type: string }[]).map((f) => [f.storage_key, f.content_type]))
  return [...uploads.onDisk(), ...downloads.onDisk(named)]
}

moveToPostgres(source, pool, { dropOneRowOf, filesOnDisk })
  .then(async (report) => {
    const width = Math.max(...report.tables.map((t) => t.table.length))
    for (const t of report.tables) console.log(`  ${t.table.padEnd(width)}  ${String(t.rows).padStart(9)} rows copied  checksum ok (sha256 ${t.checksum.slice(0, 16)})`)
    console.log(`  ${'product_search'.padEnd(width)}  ${String(report.searchIndexed).padStart(9)} products indexed by PostgreSQL's triggers, the same as SQLite's search index`)
    console.log(`  ${'stored_files'.padEnd(width)}  ${String(report.filesAdded).padStart(9)} of them files from ${env.storageDir} (uploads/, downloads/) the store had no row for, counted and checksummed with the rest`)
    for (const i of report.identities) console.log(`  ${i.table}.${i.column}: identity restarts at ${i.restartWith}`)
    console.log(
      `${NAME}: ${report.tables.length} tables, ${report.rows} rows copied, every count and checksum matched, ` +
        `${report.identities.length} identities moved past the largest copied id, in ${(report.millis / 1000).toFixed(2)} s (snapshot taken ${new Date(report.snapshotAt).toISOString()})`,
    )
    await reconcileAfter(report.snapshotAt)
    await pool.end()
    source.close()
    process.exit(0)
  })
  .catch(async (err: unknown) => {
    console.error(`${NAME}: FAILED: ${err instanceof Error ? err.message : String(err)}`)
    await pool.end().catch(() => {})
    source.close()
    process.exit(1)
  })

/**
 * Orders paid after the snapshot are not in the copy: Stripe has them. Reconcile the moved
 * database with Stripe now, as the store's own reconcile does (the same lease, so a store
 * already serving from PostgreSQL never runs one beside it), and say what it brought in. With
 * the built-in emulator there is no Stripe to ask from here: the store's reconcile, at its
 * boot and every 5 minutes after, does it.
 */
async function reconcileAfter(snapshotAt: number): Promise<void> {
  if (env.payments === 'emulator' && !env.isStripeApiExternal) {
    console.log(`${NAME}: PAYMENTS=emulator: no Stripe to reconcile with from here; the store reconciles at boot and every 5 minutes, bringing in any order paid after the snapshot.`)
    return
  }
  runBodiesOn(postgresEngine(pool))
  try {
    const result = await withLease(reconcile.LEASE, LEASE_TTL_MS, () => reconcile.run(Date.now(), { walkSessions: 'always' }))
    if (!result.acquired) {
      console.log(`${NAME}: a reconcile is already running on PostgreSQL (${result.holder ?? 'another process'}); it brings in the orders paid after the snapshot.`)
      return
    }
    const report = result.value
    console.log(
      `${NAME}: reconciled with Stripe after the snapshot of ${new Date(snapshotAt).toISOString()}: ${report.eventsSeen} events and ${report.sessionsSeen} sessions read, ` +
        `${report.ordersCreated} orders paid after the snapshot created, ${report.failures.length} failures`,
    )
    if (report.failures.length > 0 || report.capped.length > 0) {
      console.log(`${NAME}: the copy is complete; run npm run reconcile with DATABASE_URL set until it reports no failures (${[...report.failures.map((f) => JSON.stringify(f)), ...report.capped].join('; ')}).`)
    }
  } finally {
    runBodiesOn(undefined)
  }
}
