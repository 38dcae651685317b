import { and, eq } from 'drizzle-orm'
import { afterEach, describe, expect, it } from 'vitest'
import { openDatabase, setDb, type Db } from '@/db'
import { orders, stripeEvents, variants } from '@/db/schema'
import * as checkout from '@/lib/checkout'
import { resetEnv } from '@/lib/env'
import { setClient as setStripeClient } from '@/lib/payments/stripe'
import { insertCart } from '../support/catalog-rows'
import { freePort, startServer, tempStorage, type ServerHandle } from '../support/server'
import { startStripeServer, type StripeServer } from '../support/stripe-server'

// The storm the write-up lost orders in: the process dies between committing a webhook's
// effect and answering it, Stripe retries into the next process. Exactly one order.

let server: ServerHandle | undefined
let stripeServer: StripeServer | undefined
let db: Db | undefined

afterEach(async () => {
  await server?.stop('SIGKILL')
  await stripeServer?.close()
  setDb(undefined)
  db?.$client.close()
})

async function until<T>(what: string, fn: () => T | undefined | null | false, timeoutMs = 30_000): Promise<T> {
  const deadline = Date.now() + timeoutMs
  for (;;) {
    const value = fn()
    if (value) return value
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`)
    await new Promise((r) => setTimeout(r, 100))
  }
}

describe('chaos: SIGKILL between commit and response', () => {
  it('the retried webhook finds the committed order and makes no second one', async () => {
    const port = await freePort()
    const storageDir = tempStorage('till-chaos-')
    stripeServer = await startStripeServer({ webhookUrl: `http://127.0.0.1:${port}/api/stripe/webhook`, retrySchedule: [300, 600, 1200, 2400, 4800, 9600] })
    const env = {
      PAYMENTS: 'stripe',
      STRIPE_SECRET_KEY: stripeServer.secretKey,
      STRIPE_WEBHOOK_SECRET: stripeServer.webhookSecret,
      STRIPE_API_BASE: stripeServer.url,
      JOBS: 'off', // no reconciliation: only the webhook retry may create the order
    }
    server = await startServer({ port, storageDir, env: { ...env, FAILPOINTS: 'webhook.after_commit' } })

    // This test process is a second writer on the server's database, as a deploy's other release would be.
    Object.assign(process.env, { ...env, STORAGE_DIR: storageDir, APP_URL: server.url })
    resetEnv()
    setStripeClient(undefined)
    db = openDatabase(`${storageDir}/store.sqlite3`)
    setDb(db)
    const variant = db.select().from(variants).where(and(eq(variants.sku, 'HRJ-NAVY-M'))).get() ?? db.select().from(variants).get()!
    db.update(variants).set({ stock: 5 }).where(eq(variants.id, variant.id)).run()
    const cartId = insertCart([{ variantId: variant.id, quantity: 2 }])
    const { sessionId } = await checkout.start(cartId)
    stripeServer.emulator.control.pay({ session: sessionId })

    // The first delivery commits, then the failpoint kills the process before it answers.
    const exitCode = await new Promise<number | null>((resolve) => server!.process.once('exit', (code, signal) => resolve(code ?? (signal ? -1 : null))))
    expect(exitCode).toBe(-1)
    expect(server.output()).toMatch(/failpoint: webhook.after_commit/)
    const committed = db.select().from(orders).where(eq(orders.stripeCheckoutSessionId, sessionId)).all()
    expect(committed).toHaveLength(1)

    // The next release comes up on the same port and volume; Stripe's retry reaches it.
    server = await startServer({ port, storageDir, env })
    await until('the retried delivery to succeed', () => stripeServer!.emulator.control.deliveries({}).find((d) => d.event_type === 'checkout.session.completed' && d.status === 'delivered'))
    const deliveries = stripeServer.emulator.control.deliveries({}).filter((d) => d.event_type === 'checkout.session.completed')
    expect(deliveries[0]!.attempts).toBeGreaterThanOrEqual(2)

    expect(db.select().from(orders).where(eq(orders.stripeCheckoutSessionId, sessionId)).all()).toHaveLength(1)
    expect(db.select().from(stripeEvents).where(eq(stripeEvents.type, 'checkout.session.completed')).all()).toHaveLength(1)
    expect(db.select().from(variants).where(eq(variants.id, variant.id)).get()!.stock).toBe(3)
  })
})
