// The front server: starts the production (standalone) Next server in this process and stands
// in front of every request it receives. Built by scripts/postbuild.mjs into
// .next/standalone/front-server.mjs (docs/decisions/036-front-server-room.md) and run from the
// repository root (`npm start`, the Dockerfile). What it shares with the app is in
// ./contract.ts; it imports nothing else of the app but the configuration check.
//
// The standalone server changes its working directory to .next/standalone, so a relative
// STORAGE_DIR is made absolute here first. The configuration is validated here, by lib/env.ts,
// before Next starts: Next prints "✓ Ready" as soon as it listens, and a bad setting found
// later at boot read as a start followed by a crash.
import fs from 'node:fs'
import http, { type IncomingMessage, type RequestListener, type ServerResponse } from 'node:http'
import net from 'node:net'
import path from 'node:path'
import { ConfigError, parseEnv } from '@/lib/env'
import { SHAREABLE_PAGES } from '@/app/(shop)/shareable-pages'
import { adoptHttpServers, frontCache, PEER_HEADER } from './contract'
import * as guard from './request-guard'
import { createResponseCache } from './response-cache'

const root = process.cwd()
const nextServer = path.join(root, '.next', 'standalone', 'server.js')
if (!fs.existsSync(nextServer)) {
  console.error('till: no production build found; run `npm run build` first.')
  process.exit(1)
}
process.env.STORAGE_DIR = path.resolve(root, process.env.STORAGE_DIR || 'storage')
process.env.HOSTNAME ||= '0.0.0.0'

let env: ReturnType<typeof parseEnv>
try {
  // The standalone server runs as production whatever NODE_ENV says; check it the same way.
  env = parseEnv({ ...process.env, NODE_ENV: 'production' })
} catch (err) {
  if (!(err instanceof ConfigError)) throw err
  console.error(`till: cannot start.\n${err.message}`)
  process.exit(1)
}

// How long an idle keep-alive connection stays open (KEEP_ALIVE_TIMEOUT, 65 s by default).
// Node's default, 5 s, is shorter than the idle time of the clients that pool connections to
// the store (a proxy in front, an HTTP agent): when the server closes a socket at the moment
// the client reuses it, the client's request meets a reset and is lost. The side that closes
// should be the one that waits longest. Next's standalone server reads the same variable and
// applies it itself; it gets the checked value, never a raw one.
process.env.KEEP_ALIVE_TIMEOUT = String(env.keepAliveTimeoutMs)

// A port another process holds (an earlier `npm run demo` still running, say) would surface
// as Next's raw EADDRINUSE error object. Asked here first, it gets one plain sentence.
const port = Number(process.env.PORT) || 3000
const refusal = await new Promise<string | null>((resolve) => {
  const probe = net.createServer()
  probe.once('error', (err: NodeJS.ErrnoException) => resolve(err.code ?? 'error'))
  probe.listen(port, process.env.HOSTNAME, () => probe.close(() => resolve(null)))
})
if (refusal === 'EADDRINUSE' || refusal === 'EACCES') {
  const why = refusal === 'EADDRINUSE' ? `port ${port} is already in use (another server, perhaps an earlier npm run demo, is listening on it)` : `port ${port} needs administrator rights`
  console.error(`till: cannot start.\n  - PORT: ${why}. Stop the other server, or choose a free port, e.g. PORT=${port === 3000 ? 3001 : 3000} npm run demo`)
  process.exit(1)
}

// The app shuts down in order on SIGTERM/SIGINT (lib/platform/shutdown.ts): stop claiming jobs, let the
// running job and in-flight requests finish, stop the emulator, close the database, exit 0.
// Next's own handler would close the HTTP server and exit 143 as soon as requests are done,
// cutting a running job short, so it is switched off here and the app is handed the HTTP
// servers Next creates instead (contract.ts adoptHttpServers).
process.env.NEXT_MANUAL_SIG_HANDLE = 'true'
const servers = adoptHttpServers()

// Two requests are answered before Next sees them:
// - a method the app does not answer (guard.checkMethod): Next turns every request into a
//   fetch Request, which refuses TRACE, so a TRACE would end as a 500.
// - a body announced larger than any route accepts (guard.MAX_BODY_BYTES, or
//   MAX_UPLOAD_BODY_BYTES on the two upload paths): Next reads a body to its end before it
//   sends proxy.ts's answer, so a client announcing a huge body and sending nothing would
//   hold the request open.
// The answer is sent at once. Closing the connection while the client is still sending resets
// it, and a reset can reach the client before it has read the answer, which it then loses. So
// what it keeps sending is read and dropped; past 8 MB reading stops, which blocks the client's
// sending (so it reads the answer) rather than resetting it; the connection closes when the
// request ends or after 5 s.
const MAX_DISCARD_BYTES = 8 * guard.MAX_BODY_BYTES
const LINGER_MS = 5000
// Anonymous catalog pages are answered from the response cache when it holds them
// (./response-cache.ts; docs/decisions/005-response-cache-and-lean-pages.md). 32 MB holds
// every page of a few hundred products in each encoding. The app tells it what changed
// through the contract's FrontCache: this puts `invalidate` there, boot puts `poll` (until
// then the cache answers nothing).
const front = frontCache()
const responseCache = createResponseCache({
  pages: SHAREABLE_PAGES,
  maxBytes: 32 * 1024 * 1024,
  maxEntryBytes: 1024 * 1024,
  ttlMs: env.responseCacheTtlMs,
  staleMs: env.responseCacheStaleMs,
  poll: () => front.poll?.() === true,
})
front.invalidate = responseCache.invalidate

// The socket peer, for the one client-address rule (lib/request/client-address.ts): written here from
// the connection, after every copy the client sent is dropped, so no request can choose the
// address the limiters key on.
function stampPeer(req: IncomingMessage): void {
  for (let i = req.rawHeaders.length - 2; i >= 0; i -= 2) {
    if (req.rawHeaders[i]!.toLowerCase() === PEER_HEADER) req.rawHeaders.splice(i, 2)
  }
  const peer = req.socket.remoteAddress ?? ''
  req.headers[PEER_HEADER] = peer
  req.rawHeaders.push(PEER_HEADER, peer)
}

function refuse(req: IncomingMessage, res: ServerResponse, { status, message }: guard.Refusal): void {
  const body = `${message}\n`
  res.writeHead(status, { 'Content-Type': 'text/plain; charset=utf-8', 'Content-Length': Buffer.byteLength(body), 'Cache-Control': 'no-store', Connection: 'close' })
  res.write(body)
  let discarded = 0
  const timer = setTimeout(() => req.socket.destroy(), LINGER_MS)
  req.on('data', (chunk: Buffer) => {
    discarded += chunk.length
    if (discarded > MAX_DISCARD_BYTES) req.pause()
  })
  req.on('end', () => res.end())
  req.socket.on('close', () => clearTimeout(timer))
}

function inFront(listener: RequestListener): RequestListener {
  return (req, res) => {
    stampPeer(req)
    const badMethod = guard.checkMethod(req.method ?? '')
    if (badMethod) return refuse(req, res, badMethod)
    const limit = guard.UPLOAD_PATH.test(req.url ?? '') ? guard.MAX_UPLOAD_BODY_BYTES : guard.MAX_BODY_BYTES
    if (Number(req.headers['content-length']) > limit) return refuse(req, res, guard.tooLarge(limit))
    responseCache.handle(req, res, () => listener(req, res))
  }
}


const createServer = http.createServer
http.createServer = function (this: unknown, ...args: unknown[]) {
  const at = args.findIndex((arg) => typeof arg === 'function')
  if (at >= 0) args[at] = inFront(args[at] as RequestListener)
  const created = (createServer as (...a: unknown[]) => http.Server).apply(this, args)
  created.keepAliveTimeout = env.keepAliveTimeoutMs
  servers.add(created)
  return created
} as typeof http.createServer
await import(nextServer)
