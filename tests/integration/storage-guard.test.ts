import fs from 'node:fs'
import path from 'node:path'
import Database from 'better-sqlite3'
import Stripe from 'stripe'
import { afterEach, describe, expect, it } from 'vitest'
import { migrate } from '@/db/migrate'
import { startServer, tempStorage, upWhenDown, type ServerHandle } from '../support/server'
import { openStore } from '../support/store-file'
import { startStripeServer, type StripeServer } from '../support/stripe-server'

// The real production server (npm run build first) refusing to run where SQLite would lose
// data: at boot, and when its files are deleted or replaced under it. Guards of SQLite's own
// files, so these stores stay on SQLite whatever the run's engine.

const servers: ServerHandle[] = []
let stripeServer: StripeServer | undefined
afterEach(async () => {
  await Promise.all(servers.splice(0).map((s) => s.stop('SIGKILL')))
  await stripeServer?.close()
  stripeServer = undefined
})

async function exitOf(server: ServerHandle): Promise<number | null> {
  if (server.process.exitCode !== null) return server.process.exitCode
  return new Promise((resolve) => server.process.once('exit', (code) => resolve(code)))
}

describe('boot refuses storage where SQLite would lose data', () => {
  it('STORAGE_DIR on a network filesystem (a mount table naming it nfs4): one clear message, no database created', async () => {
    const storageDir = tempStorage('till-nfs-')
    const mounts = path.join(storageDir, '..', `${path.basename(storageDir)}.mounts`)
    fs.writeFileSync(mounts, `overlay / overlay rw,relatime 0 0\nfileserver:/export/till ${storageDir} nfs4 rw,relatime,vers=4.2 0 0\n`)
    const server = await startServer({ engine: 'sqlite', storageDir, env: { MOUNTS_FILE: mounts }, waitForHealthy: false })
    servers.push(server)
    expect(await exitOf(server)).not.toBe(0)
    expect(server.output()).toMatch(/till: cannot start\.\n\s+- STORAGE_DIR .* is on a nfs4 filesystem \(fileserver:\/export\/till mounted at .*\)\. SQLite loses or corrupts data/)
    expect(fs.existsSync(path.join(storageDir, 'store.sqlite3'))).toBe(false)
  })

  it('a database migrated by a newer release: refuses with a message, leaves it untouched', async () => {
    const storageDir = tempStorage('till-newer-')
    const sqlite = new Database(path.join(storageDir, 'store.sqlite3'))
    sqlite.pragma('journal_mode = WAL')
    migrate(sqlite)
    sqlite.prepare('INSERT INTO __drizzle_migrations (hash, created_at) VALUES (?, ?)').run('from-the-future', 9_999_999_999_999)
    sqlite.close()
    const server = await startServer({ engine: 'sqlite', storageDir, waitForHealthy: false })
    servers.push(server)
    expect(await exitOf(server)).not.toBe(0)
    expect(server.output()).toMatch(/till: cannot start\.\n\s+- the database has 1 migration\(s\) this release does not know/)
  })
})

describe('a live server whose database files are deleted or replaced', () => {
  async function liveStore() {
    stripeServer = await startStripeServer()
    const stripe = new Stripe(stripeServer.secretKey, { host: stripeServer.host, port: stripeServer.port, protocol: 'http' })
    const server = await startServer({
      engine: 'sqlite',
      env: { JOBS: 'off', PAYMENTS: 'stripe', STRIPE_SECRET_KEY: stripeServer.secretKey, STRIPE_WEBHOOK_SECRET: stripeServer.webhookSecret, STRIPE_API_BASE: stripeServer.url },
    })
    servers.push(server)
    const srv = stripeServer
    /** A paid session's checkout.session.completed, signed and posted to the server. */
    const payAndDeliver = async () => {
      const session = srv.emulator.control.foreignSession({ line_items: [{ name: 'Ghost Mug', unit_amount: 1500, quantity: 1 }] })
      const event = (await stripe.events.list({ limit: 20 })).data.find((e) => e.type === 'checkout.session.completed' && (e.data.object as { id: string }).id === session.id)!
      const payload = JSON.stringify(event)
      const signature = stripe.webhooks.generateTestHeaderString({ payload, secret: srv.webhookSecret })
      const res = await fetch(`${server.url}/api/stripe/webhook`, { method: 'POST', headers: { 'content-type': 'application/json', 'stripe-signature': signature }, body: payload })
      return { status: res.status, sessionId: session.id, eventId: event.id }
    }
    return { server, payAndDeliver }
  }

  // What any other process now sees at the path. With the -wal gone, that can be a database
  // without even its tables: everything since the last checkpoint lived in the deleted file.
  const recorded = (storageDir: string, eventId: string) => {
    const sqlite = openStore(storageDir)
    try {
      if (!sqlite.prepare(`SELECT 1 FROM sqlite_schema WHERE name = 'stripe_events'`).get()) return { n: 0 }
      return sqlite.prepare('SELECT count(*) AS n FROM stripe_events WHERE id = ?').get(eventId) as { n: number }
    } finally {
      sqlite.close()
    }
  }

  it('deleted -wal and -shm: /up answers 503, a webhook 500, and nothing claims to be saved', async () => {
    const { server, payAndDeliver } = await liveStore()
    expect((await payAndDeliver()).status).toBe(200)
    const file = path.join(server.storageDir, 'store.sqlite3')
    fs.rmSync(`${file}-wal`)
    fs.rmSync(`${file}-shm`)
    // /up answers from the process's own check, made once a second (lib/platform/health.ts)
    const up = await upWhenDown(server.url)
    expect(up.status).toBe(503)
    expect(((await up.json()) as { reason: string }).reason).toMatch(/DatabaseFileLost: .*store\.sqlite3-wal was deleted/)
    const lost = await payAndDeliver()
    expect(lost.status).toBe(500)
    expect(recorded(server.storageDir, lost.eventId).n).toBe(0)
    // it stays refused: no later write may land in the ghost file
    expect((await fetch(`${server.url}/up`)).status).toBe(503)
    expect(server.output()).toMatch(/the database file this process opened is gone/)
  })

  it('store.sqlite3 replaced by another file: /up answers 503 and a webhook 500', async () => {
    const { server, payAndDeliver } = await liveStore()
    expect((await payAndDeliver()).status).toBe(200)
    const file = path.join(server.storageDir, 'store.sqlite3')
    const other = path.join(server.storageDir, 'other.sqlite3')
    const replacement = new Database(other)
    migrate(replacement)
    replacement.close()
    fs.renameSync(other, file)
    expect((await upWhenDown(server.url)).status).toBe(503)
    const lost = await payAndDeliver()
    expect(lost.status).toBe(500)
    expect(recorded(server.storageDir, lost.eventId).n).toBe(0)
  })
})
