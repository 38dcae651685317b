import crypto from 'node:crypto'
import fs from 'node:fs'
import http from 'node:http'
import os from 'node:os'
import path from 'node:path'
import { Emulator, serve, type EmulatorLog } from '@/emulator'

// The local Stripe-compatible server: the app's payments emulator behind a plain node:http
// server on 127.0.0.1. Point the real SDK at it with
//   new Stripe(key, { host: server.host, port: server.port, protocol: 'http' })



export type StripeServerOptions = {
  webhookUrl?: string
  secretKey?: string
  webhookSecret?: string
  asyncDelayMs?: number
  retrySchedule?: number[]
  webhookTimeoutMs?: number
  /** Reuse a file to keep state across restarts; default is a fresh temporary file. */
  dbFile?: string
  /** Default 0: any free port. */
  port?: number
  /** Run the background loops (webhook delivery, expiry sweep, settlement). Default true. */
  isBackgroundOn?: boolean
  log?: EmulatorLog
  /** Automatic tax: flat percent per country (default: the emulator's own table). */
  taxRates?: Record<string, number>
}

export type HeldAnswer = { captured: Promise<void>; release(): void; cancel(): void; readonly isCaptured: boolean }

type Gate = { match: (request: { method: string; path: string }) => boolean; isUsed: boolean; onCapture: () => void; released: Promise<void> }

/** One API request the server answered (the test controls under /emulator are not logged). */
type LoggedRequest = { method: string; path: string; userAgent: string }

export type StripeServer = {
  /** Every /v1 request, in arrival order. */
  requests: LoggedRequest[]
  /** /v1 requests the store's own client made (its User-Agent names Till), not the test's. */
  storeRequests(): LoggedRequest[]
  /**
   * While a predicate here matches a request, the server answers it 500 api_error without
   * doing anything (Stripe unreachable for that call, as far as the caller can tell).
   */
  faults: ((request: { method: string; path: string }) => boolean)[]
  /**
   * Holds back the answer to the store's next request that matches: the server reads its
   * state now, and the answer leaves only at release(). The store then acts later on what
   * Stripe said earlier (a slow network, a paused process). `captured` resolves when the
   * request has been answered and held; cancel() drops a gate no request matched.
   */
  holdNext(match?: (request: { method: string; path: string }) => boolean): HeldAnswer
  url: string
  port: number
  host: string
  secretKey: string
  webhookSecret: string
  dbFile: string
  emulator: Emulator
  close(): Promise<void>
}

async function toRequest(req: http.IncomingMessage, origin: string): Promise<Request> {
  const headers = new Headers()
  for (const [key, value] of Object.entries(req.headers)) {
    if (value === undefined) continue
    for (const v of Array.isArray(value) ? value : [value]) headers.append(key, v)
  }
  const method = req.method ?? 'GET'
  let body: Buffer | undefined
  if (method !== 'GET' && method !== 'HEAD') {
    const chunks: Buffer[] = []
    for await (const chunk of req) chunks.push(chunk as Buffer)
    body = Buffer.concat(chunks)
  }
  return new Request(new URL(req.url ?? '/', origin), { method, headers, body: body && body.length ? new Uint8Array(body) : undefined })
}

async function send(res: http.ServerResponse, response: Response): Promise<void> {
  const headers: Record<string, string | string[]> = {}
  response.headers.forEach((value, key) => {
    headers[key] = value
  })
  const body = Buffer.from(await response.arrayBuffer())
  res.writeHead(response.status, headers)
  res.end(body)
}

export async function startStripeServer(opts: StripeServerOptions = {}): Promise<StripeServer> {
  const host = '127.0.0.1'
  let tempDir: string | null = null
  let dbFile = opts.dbFile
  if (!dbFile) {
    tempDir = fs.mkdtempSync(path.join(os.tmpdir(), 'till-stripe-'))
    dbFile = path.join(tempDir, 'emulator.sqlite3')
  }
  let emulator: Emulator | null = null
  const requests: LoggedRequest[] = []
  const faults: StripeServer['faults'] = []
  const gates: Gate[] = []
  const holdNext = (match: Gate['match'] = () => true): HeldAnswer => {
    let release!: () => void
    let onCapture!: () => void
    let isCaptured = false
    const released = new Promise<void>((resolve) => (release = resolve))
    const captured = new Promise<void>((resolve) => (onCapture = resolve))
    const gate: Gate = {
      match,
      isUsed: false,
      onCapture: () => {
        isCaptured = true
        onCapture()
      },
      released,
    }
    gates.push(gate)
    return {
      captured,
      release,
      cancel: () => {
        gate.isUsed = true
        release()
      },
      get isCaptured() {
        return isCaptured
      },
    }
  }
  const server = http.createServer((req, res) => {
    void (async () => {
      try {
        if (!emulator) throw new Error('emulator not ready')
        const method = req.method ?? 'GET'
        const path = new URL(req.url ?? '/', 'http://local').pathname
        if (path.startsWith('/v1/')) {
          requests.push({ method, path, userAgent: String(req.headers['user-agent'] ?? '') })
          if (faults.some((fault) => fault({ method, path }))) {
            for await (const chunk of req) void chunk
            res.writeHead(500, { 'Content-Type': 'application/json' })
            res.end(JSON.stringify({ error: { type: 'api_error', message: 'Injected fault: Stripe is unavailable.' } }))
            return
          }
        }
        const response = await serve(emulator, await toRequest(req, `http://${host}`))
        const isStore = String(req.headers['user-agent'] ?? '').includes('Till')
        const gate = isStore ? gates.find((g) => !g.isUsed && g.match({ method, path })) : undefined
        if (gate) {
          gate.isUsed = true
          gate.onCapture()
          await gate.released
        }
        await send(res, response)
      } catch (err) {
        if (!res.headersSent) res.writeHead(500, { 'Content-Type': 'application/json' })
        res.end(JSON.stringify({ error: { type: 'api_error', message: String(err) } }))
      }
    })()
  })
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject)
    server.listen(opts.port ?? 0, host, () => resolve())
  })
  const address = server.address()
  const port = typeof address === 'object' && address ? address.port : 0
  const url = `http://${host}:${port}`
  // Random per server, as the built-in emulator's are per storage folder.
  const secretKey = opts.secretKey ?? `sk_test_emu${crypto.randomBytes(16).toString('hex')}`
  const webhookSecret = opts.webhookSecret ?? `whsec_emu${crypto.randomBytes(16).toString('hex')}`
  emulator = new Emulator({
    dbFile,
    secretKey,
    webhookSecret,
    webhookUrl: opts.webhookUrl ?? null,
    publicBaseUrl: url,
    asyncDelayMs: opts.asyncDelayMs,
    retrySchedule: opts.retrySchedule,
    webhookTimeoutMs: opts.webhookTimeoutMs,
    log: opts.log,
    taxRates: opts.taxRates,
  })
  if (opts.isBackgroundOn !== false) emulator.start()
  const running = emulator
  let closing: Promise<void> | null = null
  return {
    requests,
    storeRequests: () => requests.filter((r) => r.userAgent.includes('Till')),
    faults,
    holdNext,
    url,
    port,
    host,
    secretKey,
    webhookSecret,
    dbFile,
    emulator: running,
    close() {
      closing ??= (async () => {
        await new Promise<void>((resolve) => {
          server.close(() => resolve())
          server.closeAllConnections()
        })
        await running.stop()
        if (tempDir) fs.rmSync(tempDir, { recursive: true, force: true })
      })()
      return closing
    },
  }
}
