import 'server-only'
import path from 'node:path'
import { configure, getDb } from '@/db'
import { migrate } from '@/db/migrate'
import { ConfigError, getEnv } from './env'
import { log } from './log'

// Everything a process does once before it serves: validate config, open the database,
// migrate, seed the demo catalog when asked, start background work.

export function bootConfig() {
  try {
    const env = getEnv()
    configure(env.storageDir)
    return env
  } catch (err) {
    if (err instanceof ConfigError) {
      console.error(`till: cannot start.\n${err.message}`)
      process.exit(1)
    }
    throw err
  }
}

export async function boot(): Promise<void> {
  const env = bootConfig()
  const db = getDb()
  const result = migrate(db.$client)
  log.info('boot: database ready', { storageDir: env.storageDir, applied: result.applied, schemaVersion: result.schemaVersion, payments: env.payments })
  if (env.seedDemo) {
    const { seedDemo } = await import('@/demo/seed')
    const seeded = seedDemo(db, env.storageDir)
    if (seeded) log.info('boot: seeded demo catalog', seeded)
  }
  if (env.payments === 'emulator' && !env.isStripeApiExternal) {
    const emulator = await import('@/emulator')
    emulator.startBuiltIn({
      dbFile: path.join(env.storageDir, 'emulator.sqlite3'),
      secretKey: env.stripeSecretKey,
      webhookSecret: env.stripeWebhookSecret,
      publicBaseUrl: env.appUrl,
      businessName: env.storeName,
      webhookUrl: `http://127.0.0.1:${env.port}/api/stripe/webhook`,
      log,
    })
    log.warn('boot: payments are SIMULATED by the built-in emulator (PAYMENTS=emulator)')
  }
  if (env.areJobsEnabled) {
    const { start } = await import('./jobs/handlers')
    start()
  }
}
