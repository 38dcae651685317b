import 'server-only'
import path from 'node:path'
import { configure, getDb } from '@/db'
import { setLogger } from '@/db/guard'
import { assertSchemaKnown, migrate } from '@/db/migrate'
import * as cache from '@/lib/cache'
import { ConfigError, engineRefusal, getEnv } from '@/lib/env'
import { log } from '@/lib/log'
import * as payments from '@/lib/payments'
import * as storage from './storage'
import { installSignalHandlers } from './shutdown'

// Everything a process does once before it serves: validate config, open the database,
// migrate, seed the demo catalog when asked, start background work, and say how it stops.

export function bootConfig() {
  try {
    const env = getEnv()
    configure(env.storageDir)
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

export async function boot(): Promise<void> {
  const env = bootConfig()
  const refusal = engineRefusal(env)
  if (refusal) {
    console.error(`till: cannot start.\n  - ${refusal}`)
    process.exit(1)
  }
  const { db, result } = bootStorage(env)
  log.info('boot: database ready', { storageDir: env.storageDir, applied: result.applied, schemaVersion: result.schemaVersion, payments: env.payments })
  const { ensureBootAdmin } = await import('@/lib/admin-auth')
  await ensureBootAdmin()
  if (env.seedDemo) {
    const { seedDemo } = await import('@/demo/seed')
    const seeded = seedDemo(db, env.storageDir)
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
  health.startChecking()
  installSignalHandlers({ timeoutMs: env.shutdownTimeoutMs, stopEmulator })
  // Off the path to ready: the picture library, so the first upload is as quick as the next.
  setTimeout(() => {
    import('@/lib/product-images')
      .then((images) => images.warmUp())
      .catch((err: unknown) => log.warn('boot: could not warm up the picture library', { err: String(err) }))
  }, 0).unref()
  // Last: the front cache (server/start.ts) serves nothing until the store is ready.
  cache.installFrontCache()
}
