import fs from 'node:fs'
import { afterEach, describe, expect, it } from 'vitest'
import { npmRun } from '../support/npm-run'
import { count, scriptStore } from '../support/running-store'
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
    const store = await scriptStore('till-reconcile-cli-')
    dirs.push(store.storageDir)
    const env = { PAYMENTS: 'stripe', STRIPE_SECRET_KEY: stripeServer.secretKey, STRIPE_WEBHOOK_SECRET: stripeServer.webhookSecret, STRIPE_API_BASE: stripeServer.url, APP_URL: 'http://127.0.0.1:9', ...store.env }
    const migrated = await npmRun('db:migrate', [], env)
    expect(migrated.code, migrated.stderr).toBe(0)

    const db = store.rows
    const now = Date.now()
    await db.run('INSERT INTO leases (name, holder, acquired_at, expires_at) VALUES (?, ?, ?, ?)', 'reconcile', 'server-elsewhere#1', now, now + 60_000)
    const refused = await npmRun('reconcile', [], env)
    expect(refused.code).toBe(75)
    expect(refused.stderr).toContain('another reconcile is running (server-elsewhere#1')
    expect(await count(db, 'SELECT count(*) AS n FROM reconcile_runs')).toBe(0)

    await db.run('DELETE FROM leases')
    const ran = await npmRun('reconcile', [], env)
    expect(ran.code, ran.stderr).toBe(0)
    expect(ran.stdout).toMatch(/reconcile: \d+ events/)
    expect(await count(db, 'SELECT count(*) AS n FROM reconcile_runs')).toBe(1)
    expect(await count(db, "SELECT count(*) AS n FROM leases WHERE name = 'reconcile'")).toBe(0)
    await db.close()
    // three scripts, each a tsx start: 35 s on PostgreSQL with the machine to itself
  }, 120_000)
})
