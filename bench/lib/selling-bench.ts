import { spawn } from 'node:child_process'
import type { IncomingHttpHeaders } from 'node:http'
import path from 'node:path'
import type autocannon from 'autocannon'
import Stripe from 'stripe'
import { load, type LoadResult } from './load'
import { cpuMs, root } from './processes'
import type { Store } from './store'

// Browsing while selling: anonymous visitors cycling through catalog URLs, measured alone,
// while paid Checkout Sessions arrive as signed webhooks at a steady rate (each one an order
// taking stock), and beside a second process on the same database writing carts and jobs
// (the other release during a blue-green deploy). The figures say whether a busy shop keeps
// its page cache (server/response-cache.ts) or empties it on every sale.

export type Browse = LoadResult & { hitShare: number; cpuMs: number; seconds: number }

/**
 * autocannon requests cycling through `paths`, counting how many answers came from the
 * response cache (x-till-cache HIT or STALE).
 */
function browsing(paths: string[]): { requests: autocannon.Request[]; hitShare: () => number } {
  let cached = 0
  let all = 0
  const requests: autocannon.Request[] = paths.map((p) => ({
    method: 'GET',
    path: p,
    onResponse: (_status: number, _body: string, _context: object, headers: IncomingHttpHeaders | undefined) => {
      all++
      const state = headers?.['x-till-cache']
      if (state === 'HIT' || state === 'STALE') cached++
    },
  }))
  return { requests, hitShare: () => (all ? cached / all : 0) }
}

/** One browsing run of `seconds` (or `amount` requests) at `connections`. */
export async function browse(store: Store, paths: string[], connections: number, seconds: number, amount?: number): Promise<Browse> {
  const b = browsing(paths)
  const cpuBefore = cpuMs(store.process.pid!)
  const result = await load({ url: store.url, connections, duration: seconds, amount, requests: b.requests })
  return { ...result, hitShare: b.hitShare(), cpuMs: cpuMs(store.process.pid!) - cpuBefore, seconds }
}

/**
 * Sends the prepared checkout.session.completed payloads to the store's webhook, signed,
 * at `perSecond`, until stopped; resolves with how many were answered 200.
 */
export function sellSteadily(store: Store, payloads: string[], perSecond: number): { stop: () => Promise<number> } {
  let next = 0
  let ok = 0
  const inflight = new Set<Promise<void>>()
  const send = () => {
    const body = payloads[next++ % payloads.length]!
    const signature = Stripe.webhooks.generateTestHeaderString({ payload: body, secret: store.webhookSecret })
    const p: Promise<void> = fetch(`${store.url}/api/stripe/webhook`, { method: 'POST', headers: { 'content-type': 'application/json', 'stripe-signature': signature }, body })
      .then(async (res) => {
        await res.arrayBuffer()
        if (res.ok) ok++
      })
      .catch(() => undefined)
      .finally(() => inflight.delete(p))
    inflight.add(p)
  }
  const timer = setInterval(send, 1000 / perSecond)
  return {
    stop: async () => {
      clearInterval(timer)
      await Promise.all(inflight)
      return ok
    },
  }
}

/**
 * A second process on the store's database writing a cart with a line and a job row every
 * `everyMs`, as the other release of a deploy does for its visitors and its scheduler.
 * The jobs are of a kind no handler knows, due in a day: the store's worker never runs them.
 */
export function secondWriter(store: Store, everyMs = 20): { stop: () => Promise<number> } {
  const script = `
    const Database = require('better-sqlite3')
    const db = new Database(process.argv[1])
    db.pragma('busy_timeout = 5000')
    const variant = db.prepare("SELECT id FROM variants LIMIT 1").pluck().get()
    const cart = db.prepare('INSERT INTO carts (id) VALUES (?)')
    const line = db.prepare('INSERT INTO cart_lines (cart_id, variant_id, quantity) VALUES (?, ?, 1)')
    const job = db.prepare("INSERT INTO jobs (kind, payload, run_at) VALUES ('bench.other_release', '{}', ?)")
    let writes = 0
    const write = db.transaction(() => {
      const id = ('bench' + Math.random().toString(36).slice(2) + Math.random().toString(36).slice(2)).padEnd(43, '0')
      cart.run(id)
      line.run(id, variant)
      job.run(Date.now() + 86400000)
    })
    setInterval(() => { write.immediate(); writes++ }, ${everyMs})
    process.on('SIGTERM', () => { process.stdout.write(String(writes)); process.exit(0) })
  `
  const child = spawn(process.execPath, ['-e', script, path.join(store.storageDir, 'store.sqlite3')], { cwd: root, stdio: ['ignore', 'pipe', 'inherit'] })
  let out = ''
  child.stdout.on('data', (d) => (out += d))
  return {
    stop: () =>
      new Promise((resolve) => {
        child.once('exit', () => resolve(Number(out) || 0))
        child.kill('SIGTERM')
      }),
  }
}
