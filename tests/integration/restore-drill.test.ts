import path from 'node:path'
import { afterEach, describe, expect, it } from 'vitest'
import { freePort, startServer, type ServerHandle } from '../support/server'
import { npmRun } from '../support/npm-run'
import { openStore } from '../support/store-file'
import { startStripeServer, type StripeServer } from '../support/stripe-server'

// The restore drill, end to end: orders paid, an online backup taken while the server runs,
// more orders paid, the restore refused while the server runs, then the server stopped, the
// backup restored, and reconciliation bringing back every order paid since the backup.
// SQLite's own backups and restore: a store on PostgreSQL backs up with PostgreSQL's tools
// (pg-backup.test.ts), so these stores stay on SQLite whatever the run's engine.

const servers: ServerHandle[] = []
let stripeServer: StripeServer | undefined
afterEach(async () => {
  await Promise.all(servers.splice(0).map((s) => s.stop('SIGKILL')))
  await stripeServer?.close()
})


describe('backup, then restore, then reconcile', () => {
  it('orders paid after the backup are back after the restore, and integrity_check is ok', async () => {
    const port = await freePort()
    stripeServer = await startStripeServer({ webhookUrl: `http://127.0.0.1:${port}/api/stripe/webhook`, retrySchedule: [200, 400, 800] })
    const env = {
      PAYMENTS: 'stripe',
      STRIPE_SECRET_KEY: stripeServer.secretKey,
      STRIPE_WEBHOOK_SECRET: stripeServer.webhookSecret,
      STRIPE_API_BASE: stripeServer.url,
      APP_URL: `http://127.0.0.1:${port}`,
    }
    const server = await startServer({ engine: 'sqlite', port, env: { ...env, JOBS: 'off' } })
    servers.push(server)
    const storageDir = server.storageDir
    const scriptEnv = { ...env, STORAGE_DIR: storageDir }
    const store = openStore(storageDir)
    const orderSessions = () => (store.prepare('SELECT stripe_checkout_session_id AS id FROM orders').all() as { id: string }[]).map((r) => r.id)
    const paid: string[] = []
    const pay = async (n: number) => {
      for (let i = 0; i < n; i++) {
        paid.push(stripeServer!.emulator.control.foreignSession({ line_items: [{ name: 'Drill Mug', unit_amount: 1200 + i, quantity: 1 }] }).id)
      }
      const deadline = Date.now() + 20_000
      while (orderSessions().length < paid.length && Date.now() < deadline) await new Promise((r) => setTimeout(r, 100))
      expect(orderSessions()).toHaveLength(paid.length)
    }

    await pay(4)
    const backup = await npmRun('db:backup', [], scriptEnv)
    expect(backup.code, backup.stderr).toBe(0)
    const taken = (JSON.parse(backup.stdout) as { backup: { path: string; orders: number } }).backup
    expect(taken.orders).toBe(4)
    await pay(3)

    const refused = await npmRun('db:restore', [taken.path], scriptEnv)
    expect(refused.code).toBe(1)
    expect(refused.stderr).toMatch(/a server is using STORAGE_DIR .* stop every process/)
    expect(orderSessions()).toHaveLength(7)

    store.close()
    await server.stop('SIGTERM')
    servers.splice(servers.indexOf(server), 1)
    const restored = await npmRun('db:restore', [taken.path], scriptEnv)
    expect(restored.code, restored.stderr).toBe(0)
    const report = JSON.parse(restored.stdout) as { integrity: string; rows: { orders: number }; reconcile: { ordersCreated: number; failures: number } }
    expect(report.integrity).toBe('ok')
    expect(report.reconcile).toMatchObject({ ordersCreated: 3, failures: 0 })
    expect(report.rows.orders).toBe(7)

    const after = openStore(storageDir)
    const sessions = (after.prepare('SELECT stripe_checkout_session_id AS id FROM orders').all() as { id: string }[]).map((r) => r.id)
    expect(new Set(sessions)).toEqual(new Set(paid))
    expect(sessions).toHaveLength(paid.length)
    expect(after.pragma('integrity_check', { simple: true })).toBe('ok')
    after.close()

    // The store starts again on the restored file and shows its last good backup.
    const again = await startServer({ engine: 'sqlite', storageDir, port, env: { ...env, JOBS: 'off' } })
    servers.push(again)
    const up = (await (await fetch(`${again.url}/up`)).json()) as { status: string; details: { lastGoodBackup: { file: string } | null } }
    expect(up.status).toBe('ok')
    expect(up.details.lastGoodBackup?.file).toBe(path.basename(taken.path))
    // Two boots, two script runs and twelve payments: about 25 s here, more on a busy machine.
  }, 120_000)
})
