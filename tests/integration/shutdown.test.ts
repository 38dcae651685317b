import fs from 'node:fs'
import http from 'node:http'
import net from 'node:net'
import path from 'node:path'
import Database from 'better-sqlite3'
import { afterEach, describe, expect, it } from 'vitest'
import { sign } from '@/emulator'
import { startServer, type ServerHandle } from '../support/server'
import { count } from '../support/running-store'
import { storeRows } from '../support/store-file'

// SIGTERM against the real production build (npm run build first), as a deploy sends it to the
// old container: the job in hand and the request in flight finish, the database closes cleanly,
// and the process exits 0.

const servers: ServerHandle[] = []
const closers: (() => void)[] = []
afterEach(async () => {
  await Promise.all(servers.splice(0).map((s) => s.stop('SIGKILL')))
  for (const close of closers.splice(0)) close()
})

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms))

/**
 * A mail relay that accepts a message but holds its final reply until `answer()`: the slow
 * SMTP send that used to be left `running` by a shutdown.
 */
async function slowSmtp() {
  let messages = 0
  let received!: () => void
  const gotMessage = new Promise<void>((r) => (received = r))
  let answer!: () => void
  const answered = new Promise<void>((r) => (answer = r))
  const server = net.createServer((socket) => {
    let buffer = ''
    let inData = false
    socket.setEncoding('utf8')
    socket.write('220 slow-smtp ready\r\n')
    socket.on('error', () => undefined)
    socket.on('data', (chunk) => {
      buffer += chunk
      for (;;) {
        if (inData) {
          const end = buffer.indexOf('\r\n.\r\n')
          if (end < 0) return
          buffer = buffer.slice(end + 5)
          inData = false
          messages++
          received()
          void answered.then(() => socket.write('250 2.0.0 queued\r\n'))
          continue
        }
        const eol = buffer.indexOf('\r\n')
        if (eol < 0) return
        const line = buffer.slice(0, eol)
        buffer = buffer.slice(eol + 2)
        const verb = line.slice(0, 4).toUpperCase()
        if (verb === 'EHLO' || verb === 'HELO') socket.write('250 slow-smtp\r\n')
        else if (verb === 'DATA') {
          socket.write('354 end with <CRLF>.<CRLF>\r\n')
          inData = true
        } else if (verb === 'QUIT') socket.end('221 bye\r\n')
        else socket.write('250 OK\r\n')
      }
    })
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const port = (server.address() as net.AddressInfo).port
  closers.push(() => server.close())
  return { url: `smtp://127.0.0.1:${port}`, gotMessage, answer, messages: () => messages }
}

function exitOf(server: ServerHandle): Promise<{ code: number | null; signal: NodeJS.Signals | null }> {
  const child = server.process
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve({ code: child.exitCode, signal: child.signalCode })
  return new Promise((resolve) => child.once('exit', (code, signal) => resolve({ code, signal })))
}

function walOf(file: string): number | null {
  return fs.existsSync(`${file}-wal`) ? fs.statSync(`${file}-wal`).size : null
}

describe('graceful shutdown of the production server', () => {
  it('on SIGTERM finishes the running job and the in-flight request, closes the database, exits 0', async () => {
    const smtp = await slowSmtp()
    const server = await startServer({ env: { SMTP_URL: smtp.url, LOG_LEVEL: 'info' } })
    servers.push(server)
    const dbFile = path.join(server.storageDir, 'store.sqlite3')

    // A paid order whose confirmation email goes to the slow relay.
    const store = storeRows(server.storageDir)
    const { id: orderId } = (await store.get<{ id: number }>(
      "INSERT INTO orders (stripe_checkout_session_id, public_token, status, total_cents, currency, email) VALUES ('cs_test_shutdown', 'tok_shutdown', 'paid', 1200, 'usd', 'shopper@example.com') RETURNING id",
    ))!
    const { id: jobId } = (await store.get<{ id: number }>("INSERT INTO jobs (kind, payload, unique_key) VALUES ('mail.order_confirmation', ?, ?) RETURNING id", JSON.stringify({ orderId }), `mail.order_confirmation:${orderId}`))!
    // The test holds no connection when the server stops: the last one out removes the WAL.
    await store.close()

    await smtp.gotMessage
    const jobStatus = async () => {
      const db = storeRows(server.storageDir)
      try {
        return await db.get('SELECT status, attempts FROM jobs WHERE id = ?', jobId)
      } finally {
        await db.close()
      }
    }
    expect(await jobStatus()).toEqual({ status: 'running', attempts: 1 })

    // A webhook whose body is still arriving when the signal comes: in flight.
    const payload = JSON.stringify({ id: 'evt_shutdown_inflight', object: 'event', type: 'customer.created', created: Math.floor(Date.now() / 1000), livemode: false, pending_webhooks: 0, request: null, data: { object: { id: 'cus_shutdown', object: 'customer' } } })
    // The built-in emulator's webhook secret is random per storage folder.
    const { webhookSecret } = JSON.parse(fs.readFileSync(path.join(server.storageDir, 'emulator-keys.json'), 'utf8')) as { webhookSecret: string }
    const signature = sign(payload, webhookSecret, Math.floor(Date.now() / 1000))
    const response = new Promise<{ status: number; body: string }>((resolve, reject) => {
      const req = http.request(`${server.url}/api/stripe/webhook`, { method: 'POST', headers: { 'content-type': 'application/json', 'content-length': Buffer.byteLength(payload), 'stripe-signature': signature } }, (res) => {
        let body = ''
        res.setEncoding('utf8')
        res.on('data', (d) => (body += d))
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body }))
      })
      req.on('error', reject)
      req.write(payload.slice(0, 20))
      void sleep(1000).then(() => req.end(payload.slice(20)))
    })
    await sleep(200)

    const exited = exitOf(server)
    const signalledAt = Date.now()
    server.process.kill('SIGTERM')
    // The relay answers two seconds after the signal; the request body completes after one.
    await sleep(2000)
    smtp.answer()
    const { code, signal } = await exited
    const shutdownMs = Date.now() - signalledAt
    const inProcess = /shutdown: done \{[^}]*"ms":(\d+)/.exec(server.output())?.[1]
    console.log(`shutdown: SIGTERM to exit took ${shutdownMs} ms (${inProcess} ms in the shutdown sequence) with a job that needed 2000 ms more and a request that needed 1000 ms more`)

    expect({ code, signal }).toEqual({ code: 0, signal: null })
    expect(await response).toMatchObject({ status: 200 })
    expect(JSON.parse((await response).body)).toMatchObject({ received: true, outcome: 'ignored' })
    expect(server.output()).toMatch(/shutdown: done/)
    expect(smtp.messages()).toBe(1)

    // The WAL was folded back and removed when the last connection closed; the emulator's too.
    // On PostgreSQL the folder holds no store at all, only the emulator's.
    const after = storeRows(server.storageDir)
    if (after.engine === 'sqlite') {
      expect(walOf(dbFile)).toBeNull()
      const sqlite = new Database(dbFile, { readonly: true })
      expect(sqlite.pragma('integrity_check', { simple: true })).toBe('ok')
      sqlite.close()
    } else expect(fs.existsSync(dbFile)).toBe(false)
    expect(walOf(path.join(server.storageDir, 'emulator.sqlite3'))).toBeNull()
    try {
      expect(await after.get('SELECT status, attempts, locked_by AS "lockedBy" FROM jobs WHERE id = ?', jobId)).toEqual({ status: 'done', attempts: 1, lockedBy: null })
      expect(await count(after, "SELECT count(*) AS n FROM jobs WHERE status = 'running'")).toBe(0)
      expect(await after.get("SELECT CASE WHEN processed_at IS NOT NULL THEN 1 ELSE 0 END AS processed FROM stripe_events WHERE id = 'evt_shutdown_inflight'")).toEqual({ processed: 1 })
    } finally {
      await after.close()
    }
  })

  it('an idle server exits 0 promptly on SIGTERM and on SIGINT', async () => {
    for (const sig of ['SIGTERM', 'SIGINT'] as const) {
      const server = await startServer({ env: { LOG_LEVEL: 'info' } })
      servers.push(server)
      // idle: the boot reconcile has finished and nothing else is queued or running
      const deadline = Date.now() + 30_000
      const db = storeRows(server.storageDir)
      for (;;) {
        const n = await count(db, "SELECT count(*) AS n FROM jobs WHERE status IN ('queued', 'running')")
        if (n === 0) break
        if (Date.now() > deadline) throw new Error('the server never became idle')
        await sleep(100)
      }
      // The test holds no connection when the server stops: the last one out removes the WAL.
      await db.close()
      const exited = exitOf(server)
      const signalledAt = Date.now()
      server.process.kill(sig)
      const { code, signal } = await exited
      const inProcess = /shutdown: done \{[^}]*"ms":(\d+)/.exec(server.output())?.[1]
      console.log(`shutdown: idle server, ${sig} to exit took ${Date.now() - signalledAt} ms (${inProcess} ms of it in the shutdown sequence)`)
      expect({ sig, code, signal }).toEqual({ sig, code: 0, signal: null })
      // on SQLite the WAL is folded back; on PostgreSQL there is no store file to leave behind
      expect(walOf(path.join(server.storageDir, 'store.sqlite3'))).toBeNull()
    }
    // two boots: 20–33 s each, on either engine, on the shared 2-core machine
  }, 120_000)
})
