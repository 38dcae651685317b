import { afterEach, describe, expect, it } from 'vitest'
import * as checkout from '@/lib/checkout'
import { resetEnv } from '@/lib/env'
import { setClient as setStripeClient } from '@/lib/payments/stripe'
import { count, makeCart, runDomainOn } from '../support/running-store'
import { freePort, startServer, tempStorage, type ServerHandle } from '../support/server'
import { storeRows, type StoreRows } from '../support/store-file'
import { startStripeServer, type StripeServer } from '../support/stripe-server'

// The storm the write-up lost orders in: the process dies between committing a webhook's
// effect and answering it, Stripe retries into the next process. Exactly one order.

let server: ServerHandle | undefined
let stripeServer: StripeServer | undefined
let db: StoreRows | undefined
let leaveStore: (() => Promise<void>) | undefined

afterEach(async () => {
  await server?.stop('SIGKILL')
  await stripeServer?.close()
  await leaveStore?.()
  await db?.close()
})

async function until<T>(what: string, fn: () => T | undefined | null | false | Promise<T | undefined | null | false>, timeoutMs = 30_000): Promise<T> {
  const deadline = Date.now() + timeoutMs
  for (;;) {
    const value = await fn()
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
    leaveStore = runDomainOn(storageDir)
    db = storeRows(storageDir)
    const variant = (await db.get<{ id: number }>(`SELECT id FROM variants ORDER BY sku = 'HRJ-NAVY-M' DESC, id LIMIT 1`))!
    await db.run('UPDATE variants SET stock = 5 WHERE id = ?', variant.id)
    const cartId = await makeCart(db, [{ variantId: variant.id, quantity: 2 }])
    const { sessionId } = await checkout.start(cartId)
    stripeServer.emulator.control.pay({ session: sessionId })

    // The first delivery commits, then the failpoint kills the process before it answers.
    const exitCode = await new Promise<number | null>((resolve) => server!.process.once('exit', (code, signal) => resolve(code ?? (signal ? -1 : null))))
    expect(exitCode).toBe(-1)
    expect(server.output()).toMatch(/failpoint: webhook.after_commit/)
    const ordersOf = (id: string) => count(db!, 'SELECT count(*) AS n FROM orders WHERE stripe_checkout_session_id = ?', id)
    expect(await ordersOf(sessionId)).toBe(1)

    // The next release comes up on the same port and volume; Stripe's retry reaches it.
    server = await startServer({ port, storageDir, env })
    await until('the retried delivery to succeed', () => stripeServer!.emulator.control.deliveries({}).find((d) => d.event_type === 'checkout.session.completed' && d.status === 'delivered'))
    const deliveries = stripeServer.emulator.control.deliveries({}).filter((d) => d.event_type === 'checkout.session.completed')
    expect(deliveries[0]!.attempts).toBeGreaterThanOrEqual(2)

    expect(await ordersOf(sessionId)).toBe(1)
    expect(await count(db, "SELECT count(*) AS n FROM stripe_events WHERE type = 'checkout.session.completed'")).toBe(1)
    expect(await db.get('SELECT stock FROM variants WHERE id = ?', variant.id)).toEqual({ stock: 3 })
    // two boots: 27-45 s each here on PostgreSQL with the machine shared by seven test runs
  }, 180_000)
})
