import Stripe from 'stripe'
import { getEnv } from '@/lib/env'

// One Stripe client per process. With STRIPE_API_BASE (or the built-in emulator) the same
// official SDK talks to a Stripe-compatible server instead, so every code path is the one
// that runs against Stripe.
const globalForStripe = globalThis as unknown as { tillStripe?: Stripe }

export function stripeClient(): Stripe {
  if (!globalForStripe.tillStripe) {
    const env = getEnv()
    const base = env.stripeApiBase ? new URL(env.stripeApiBase) : null
    globalForStripe.tillStripe = new Stripe(env.stripeSecretKey, {
      maxNetworkRetries: 2,
      timeout: 20_000,
      telemetry: false,
      ...(base
        ? { host: base.hostname, port: base.port || (base.protocol === 'https:' ? 443 : 80), protocol: base.protocol === 'https:' ? 'https' : 'http' }
        : {}),
    })
  }
  return globalForStripe.tillStripe
}

/** Tests point the process at their own Stripe-compatible server. */
export function setStripeClient(client: Stripe | undefined): void {
  globalForStripe.tillStripe = client
}

export type { Stripe }
