import { Emulator, type EmulatorOptions } from './emulator'
import { handleRequest } from './http'

// A Stripe-compatible payments server, beside the store rather than inside it
// (docs/decisions/004-payments-emulator.md). The demo serves it from the app itself at /v1/*
// and /emulator/* (the two route files); the tests run the same class as a standalone HTTP
// server. This file is its only entry: nothing imports the modules behind it.

export { Emulator } from './emulator'
export { sign } from './deliveries'
export type { EmulatorOptions, EmulatorLog } from './emulator'

/** Serves one request: /v1/* is the API the official SDK calls, /emulator/* the hosted pages and test controls. */
export function serve(emulator: Emulator, request: Request): Promise<Response> {
  return handleRequest(emulator, request)
}

// The emulator this process serves, when it serves one (PAYMENTS=emulator without an
// external STRIPE_API_BASE), kept on globalThis because Next evaluates boot and each route
// bundle separately. It is kept with the serve function of the bundle that made it: the
// route bundle's own copy of these modules has other classes, and an error thrown by one
// copy would not be `instanceof` the other's.
type BuiltIn = { emulator: Emulator; serve(request: Request): Promise<Response> }
const globalForEmulator = globalThis as unknown as { tillEmulator?: BuiltIn }

/** Boot starts the built-in emulator; calling it again returns the running one. */
export function startBuiltIn(options: EmulatorOptions): Emulator {
  if (!globalForEmulator.tillEmulator) {
    const emulator = new Emulator(options)
    globalForEmulator.tillEmulator = { emulator, serve: (request) => serve(emulator, request) }
  }
  globalForEmulator.tillEmulator.emulator.start()
  return globalForEmulator.tillEmulator.emulator
}

/** Stops its delivery loops and closes its database (graceful shutdown). */
export async function stopBuiltIn(): Promise<void> {
  const builtIn = globalForEmulator.tillEmulator
  globalForEmulator.tillEmulator = undefined
  await builtIn?.emulator.stop()
}

/** The route handler behind app/v1 and app/emulator: not found unless this process serves the emulator. */
export async function serveBuiltIn(request: Request): Promise<Response> {
  const builtIn = globalForEmulator.tillEmulator
  if (!builtIn) return new Response('Not found', { status: 404 })
  return builtIn.serve(request)
}
