import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { afterEach, describe, expect, it } from 'vitest'
import { npmRun } from '../support/npm-run'
import { openStore } from '../support/store-file'
import { startStripeServer, type StripeServer } from '../support/stripe-server'

// `npm run reconcile` by hand while a server's scheduled reconcile runs must wait its turn:
// both would read the same event pages and race on the cursor. The script takes the same
// lease as the scheduled job.

let stripeServer: StripeServer | undefined
const dirs: string[] = []
afterEach(async () => {
  await stripeServer?.close()
  for (const dir of dirs.splice(0)) fs.rmSync(dir, { recursive: true, force: true })
})


describe('npm run reconcile', () => {
  it('refuses while another process holds the reconcile lease, and runs and lets go of it once free', async () => {
    stripeServer = await startStripeServer({})
    const storageDir = fs.mkdtempSync(path.join(os.tmpdir(), 'till-reconcile-cli-'))
    dirs.push(storageDir)
    const env = { PAYMENTS: 'stripe', STRIPE_SECRET_KEY: stripeServer.secretKey, STRIPE_WEBHOOK_SECRET: stripeServer.webhookSecret, STRIPE_API_BASE: stripeServer.url, APP_URL: 'http://127.0.0.1:9', STORAGE_DIR: storageDir }
    const migrated = await npmRun('db:migrate', [], env)
    expect(migrated.code, migrated.stderr).toBe(0)

    const store = openStore(storageDir)
    const now = Date.now()
    store.prepare('INSERT INTO leases (name, holder, acquired_at, expires_at) VALUES (?, ?, ?, ?)').run('reconcile', 'server-elsewhere#1', now, now + 60_000)
    const refused = await npmRun('reconcile', [], env)
    expect(refused.code).toBe(75)
    expect(refused.stderr).toContain('another reconcile is running (server-elsewhere#1')
    expect(store.prepare('SELECT count(*) AS n FROM reconcile_runs').get()).toEqual({ n: 0 })

    store.prepare('DELETE FROM leases').run()
    const ran = await npmRun('reconcile', [], env)
    expect(ran.code, ran.stderr).toBe(0)
    expect(ran.stdout).toMatch(/reconcile: \d+ events/)
    expect(store.prepare('SELECT count(*) AS n FROM reconcile_runs').get()).toEqual({ n: 1 })
    expect(store.prepare("SELECT count(*) AS n FROM leases WHERE name = 'reconcile'").get()).toEqual({ n: 0 })
    store.close()
  }, 60_000)
})
