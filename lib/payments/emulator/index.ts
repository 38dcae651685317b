import path from 'node:path'
import { getEnv } from '@/lib/env'
import { log } from '@/lib/log'
import { Emulator, type EmulatorOptions } from './emulator'

// The built-in Stripe-compatible payments emulator (PAYMENTS=emulator). The app serves it at
// /v1/* and /emulator/* (app/v1, app/emulator); tests run the same class as a standalone
// HTTP server (tests/support/stripe-server.ts).

export { Emulator, EmulatorControl, DEFAULT_RETRY_SCHEDULE, classifyCard, sign } from './emulator'
export type { EmulatorOptions, EmulatorLog, PayInput, ForeignSessionInput, DeliveryInfo, RequestContext } from './emulator'
export type { EmulatedEvent, Address } from './objects'
export { ApiError } from './errors'

export function createEmulator(options: EmulatorOptions): Emulator {
  return new Emulator(options)
}

const globalForEmulator = globalThis as unknown as { tillEmulator?: Emulator }

/**
 * This process's emulator, configured from the environment: its own SQLite file in the
 * storage folder, the configured key pair, hosted pages on APP_URL, webhooks to this
 * server's own /api/stripe/webhook. Starting the background loops is idempotent.
 */
export function getEmulator(): Emulator {
  if (!globalForEmulator.tillEmulator) {
    const env = getEnv()
    globalForEmulator.tillEmulator = createEmulator({
      dbFile: path.join(env.storageDir, 'emulator.sqlite3'),
      secretKey: env.stripeSecretKey,
      webhookSecret: env.stripeWebhookSecret,
      publicBaseUrl: env.appUrl,
      webhookUrl: `http://127.0.0.1:${env.port}/api/stripe/webhook`,
      log,
    })
  }
  globalForEmulator.tillEmulator.start()
  return globalForEmulator.tillEmulator
}

/**
 * The route handler behind app/v1 (the Stripe API; the SDK cannot add a path prefix) and
 * app/emulator (hosted checkout, test controls). Not found unless this process serves the
 * emulator itself, i.e. PAYMENTS=emulator without a separate STRIPE_API_BASE.
 */
export async function serveRoute(request: Request): Promise<Response> {
  const env = getEnv()
  if (env.payments !== 'emulator' || env.isStripeApiExternal) return new Response('Not found', { status: 404 })
  return getEmulator().handle(request)
}
