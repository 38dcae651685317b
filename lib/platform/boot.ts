import 'server-only'
import path from 'node:path'
import { configure, closeDb, getDb, refuseSqlite } from '@/db'
import { setLogger } from '@/db/guard'
import { assertSchemaKnown, migrate } from '@/db/migrate'
import { assertSchemaKnown as assertPgSchemaKnown, migrate as migratePg } from '@/db/pg/migrate'
import { describeHosts, PrimaryPool } from '@/db/pg/primary'
import { postgresEngine } from '@/db/pg/steps'
import type { DatabaseUrl } from '@/db/pg/url'
// (renamed: lint takes a call of use… outside a component for a React hook)
import { usePostgres as runBodiesOn } from '@/db/tx'
import * as cache from '@/lib/cache'
import { ConfigError, getEnv, type Env } from '@/lib/env'
import { log } from '@/lib/log'
import * as payments from '@/lib/payments'
import * as storage from './storage'
import { installSignalHandlers } from './shutdown'

// Everything a process does once before it serves: validate config, open the database,
// migrate, seed the demo catalog when asked, start background work, and say how it stops.
// The engine is chosen here, once (docs/decisions/048-boot-on-postgres.md): DATABASE_URL set,
// PostgreSQL; unset, SQLite in STORAGE_DIR.

/** What getDb() says on PostgreSQL: code that still reaches SQLite's connection directly. */
const SQLITE_REFUSED =
  'the store runs on PostgreSQL (DATABASE_URL), and this code still uses the SQLite connection: it is not converted to db/tx.ts yet (docs/decisions/047-generator-transactions.md)'

export function bootConfig() {
  try {
    const env = getEnv()
    // On PostgreSQL there is no SQLite store: the storage folder keeps uploads only.
    if (env.databaseUrl) refuseSqlite(SQLITE_REFUSED)
    else configure(env.storageDir)
    setLogger(log)
    return env
  } catch (err) {
    if (err instanceof ConfigError) {
      console.error(`till: cannot start.\n${err.message}`)
      process.exit(1)
    }
    throw err
  }
}

/**
 * Opens the store only where SQLite keeps its promises: a local filesystem, WAL mode, a
 * schema this release knows. Anything else stops the process with one message.
 */
export function bootStorage(env: ReturnType<typeof getEnv>) {
  try {
    storage.assertLocalDisk(env.storageDir, env.mountsFile)
    storage.holdInUse(env.storageDir)
    const db = getDb()
    assertSchemaKnown(db.$client)
    return { db, result: migrate(db.$client) }
  } catch (err) {
    // By name: a bundler may give each importer its own copy of the error classes.
    if (err instanceof Error && (err.name === 'StorageRefused' || err.name === 'SchemaTooNew')) {
      console.error(`till: cannot start.\n  - ${err.message}`)
      process.exit(1)
    }
    throw err
  }
}

/** The store's database, open and migrated, on the engine the configuration names. */
export type Database = {
  engine: 'sqlite' | 'postgres'
  /** Migrations applied by this process now. */
  applied: string[]
  /** Closes it (shutdown, the end of a script): the SQLite connection, or the PostgreSQL pool. */
  close: () => Promise<void>
}

/**
 * Opens the store on its engine and migrates it. On PostgreSQL: a pool on the writable host
 * of DATABASE_URL (db/pg/primary.ts, which follows it through a failover), the schema checked
 * as SQLite's is (a newer release's refused) and migrated under db/pg/migrate.ts's advisory
 * lock, so app servers booting at once take turns and apply each migration once; then every
 * transaction body of the domain runs on it (usePostgres). An unreachable or refusing server
 * stops the process with one message naming DATABASE_URL.
 */
export async function bootDatabase(env: Env): Promise<Database> {
  if (!env.databaseUrl) {
    const { result } = bootStorage(env)
    return { engine: 'sqlite', applied: result.applied, close: async () => closeDb() }
  }
  const pool = await bootPostgres(env.databaseUrl)
  return {
    engine: 'postgres',
    applied: pool.applied,
    close: async () => {
      runBodiesOn(undefined)
      await pool.pool.end()
    },
  }
}

async function bootPostgres(url: DatabaseUrl): Promise<{ pool: PrimaryPool; applied: string[] }> {
  const hosts = url.hosts.map((h) => `${h.host}:${h.port}`).join(', ')
  const pool = new PrimaryPool(url, {
    onPrimaryChange: (primary) =>
      primary ? log.info('db: writing to PostgreSQL', { primary: `${primary.host}:${primary.port}` }) : log.warn('db: lost the PostgreSQL primary; looking for it', { hosts }),
  })
  try {
    await assertPgSchemaKnown(pool)
    const { applied } = await migratePg(pool)
    runBodiesOn(
      postgresEngine(pool, {
        onRetry: ({ attempt, reason }) => log.info('db: transaction retried', { attempt, reason }),
      }),
    )
    return { pool, applied }
  } catch (err) {
    await pool.end().catch(() => {})
    const message = err instanceof Error ? err.message : String(err)
    if (err instanceof Error && err.name === 'SchemaTooNew') {
      console.error(`till: cannot start.\n  - DATABASE_URL: ${message}`)
      process.exit(1)
    }
    // "No primary" alone would hide a wrong password or database name: say what each host answers.
    const answers = await describeHosts(url)
    console.error(`till: cannot start.\n  - DATABASE_URL: could not open the PostgreSQL database at ${hosts}: ${message.replace(/^db: /, '')}. Now: ${answers}`)
    process.exit(1)
  }
}

export async function boot(): Promise<void> {
  const env = bootConfig()
  if (env.databaseUrl) {
    // What guards SQLite's file (a local disk, the restore lock, its backups) has no file to
    // guard here; the storage folder still holds the uploaded pictures.
    log.info('boot: the store runs on PostgreSQL (DATABASE_URL); skipped SQLite\'s storage guards and scheduled backups, STORAGE_DIR holds uploads only', {
      storageDir: env.storageDir,
    })
  }
  const database = await bootDatabase(env)
  log.info('boot: database ready', { engine: database.engine, storageDir: env.storageDir, applied: database.applied, payments: env.payments })
  const { ensureBootAdmin } = await import('@/lib/admin-auth')
  await ensureBootAdmin()
  if (env.seedDemo) {
    const { seedDemoCatalog } = await import('@/demo/seed')
    const seeded = await seedDemoCatalog(env.storageDir)
    if (seeded) log.info('boot: seeded demo catalog', seeded)
  }
  let stopEmulator: (() => Promise<void>) | undefined
  if (env.payments === 'emulator' && !env.isStripeApiExternal) {
    const emulator = await import('@/emulator')
    const { secretKey, webhookSecret } = payments.keys()
    stopEmulator = emulator.stopBuiltIn
    emulator.startBuiltIn({
      dbFile: path.join(/*turbopackIgnore: true*/ env.storageDir, 'emulator.sqlite3'),
      secretKey,
      webhookSecret,
      publicBaseUrl: env.appUrl,
      businessName: env.storeName,
      webhookUrl: `http://127.0.0.1:${env.port}/api/stripe/webhook`,
      taxRates: env.emulatorTaxRates,
      log,
    })
    // This process's own calls reach it directly, not through a request to itself.
    payments.serveInProcess(emulator.serveBuiltIn)
    log.warn('boot: payments are SIMULATED by the built-in emulator (PAYMENTS=emulator)')
  }
  if (env.areJobsEnabled) {
    const { start } = await import('@/lib/jobs/handlers')
    await start()
  }
  // /up answers from the process's own check, once a second (lib/platform/health.ts).
  const health = await import('./health')
  await health.startChecking()
  installSignalHandlers({ timeoutMs: env.shutdownTimeoutMs, stopEmulator, closeDatabase: database.close })
  // Off the path to ready: the picture library, so the first upload is as quick as the next.
  setTimeout(() => {
    import('@/lib/product-images')
      .then((images) => images.warmUp())
      .catch((err: unknown) => log.warn('boot: could not warm up the picture library', { err: String(err) }))
  }, 0).unref()
  // Last: the front cache (server/start.ts) serves nothing until the store is ready.
  await cache.installFrontCache()
}
