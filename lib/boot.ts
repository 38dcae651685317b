import { getDb } from '@/db'
import { assertSchemaKnown, migrate } from '@/db/migrate'
import { ConfigError, getEnv } from './env'
import { log } from './log'
import * as storage from './storage'

// Everything a process does once before it serves: validate config, open the database,
// migrate, seed the demo catalog when asked, start background work.

export function bootConfig() {
  try {
    return getEnv()
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
  const { db, result } = bootStorage(env)
  log.info('boot: database ready', { storageDir: env.storageDir, applied: result.applied, schemaVersion: result.schemaVersion, payments: env.payments })
  if (env.seedDemo) {
    const { seedDemo } = await import('@/db/seed')
    const seeded = seedDemo(db, env.storageDir)
    if (seeded) log.info('boot: seeded demo catalog', seeded)
  }
  if (env.payments === 'emulator' && !env.isStripeApiExternal) {
    const { getEmulator } = await import('./payments/emulator')
    getEmulator().start()
    log.warn('boot: payments are SIMULATED by the built-in emulator (PAYMENTS=emulator)')
  }
  if (env.areJobsEnabled) {
    const work = await import('./work')
    work.start()
  }
}
