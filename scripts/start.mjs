// Starts the production (standalone) server from the repository root. The standalone server
// changes its working directory to .next/standalone, so a relative STORAGE_DIR is made
// absolute here first. The configuration is validated here, by lib/env.ts (bundled at
// postbuild), before Next starts: Next prints "✓ Ready" as soon as it listens, and a bad
// setting found later at boot read as a start followed by a crash.
import fs from 'node:fs'
import http from 'node:http'
import net from 'node:net'
import path from 'node:path'
import { createResponseCache } from './response-cache.mjs'

const root = process.cwd()
const server = path.join(root, '.next', 'standalone', 'server.js')
if (!fs.existsSync(server)) {
  console.error('till: no production build found; run `npm run build` first.')
  process.exit(1)
}
process.env.STORAGE_DIR = path.resolve(root, process.env.STORAGE_DIR || 'storage')
process.env.HOSTNAME ||= '0.0.0.0'

const configCheck = path.join(root, '.next', 'standalone', 'till-config.mjs')
let env = { responseCacheStaleMs: 5000, responseCacheTtlMs: 60_000 }
if (fs.existsSync(configCheck)) {
  const { ConfigError, parseEnv } = await import(configCheck)
  try {
    // The standalone server runs as production whatever NODE_ENV says; check it the same way.
    env = parseEnv({ ...process.env, NODE_ENV: 'production' })
  } catch (err) {
    if (!(err instanceof ConfigError)) throw err
    console.error(`till: cannot start.\n${err.message}`)
    process.exit(1)
  }
}

// A port another process holds (an earlier `npm run demo` still running, say) would surface
// as Next's raw EADDRINUSE error object. Asked here first, it gets one plain sentence.
const port = Number(process.env.PORT) || 3000
const refusal = await new Promise((resolve) => {
  const probe = net.createServer()
  probe.once('error', (err) => resolve(err.code ?? 'error'))
  probe.listen(port, process.env.HOSTNAME, () => probe.close(() => resolve(null)))
})
if (refusal === 'EADDRINUSE' || refusal === 'EACCES') {
  const why = refusal === 'EADDRINUSE' ? `port ${port} is already in use (another server, perhaps an earlier npm run demo, is listening on it)` : `port ${port} needs administrator rights`
  console.error(`till: cannot start.\n  - PORT: ${why}. Stop the other server, or choose a free port, e.g. PORT=${port === 3000 ? 3001 : 3000} npm run demo`)
  process.exit(1)
}

// The app shuts down in order on SIGTERM/SIGINT (lib/shutdown.ts): stop claiming jobs, let the
// running job and in-flight requests finish, stop the emulator, close the database, exit 0.
// Next's own handler would close the HTTP server and exit 143 as soon as requests are done,
// cutting a running job short, so it is switched off here and the app is handed the HTTP
// servers Next creates instead (Next keeps no public reference to them).
process.env.NEXT_MANUAL_SIG_HANDLE = 'true'
const servers = new Set()
globalThis.tillHttpServers = servers

// Two requests are answered before Next sees them:
// - TRACE: Next turns every request into a fetch Request, which refuses that method, so a
//   TRACE would end as a 500.
// - a body announced larger than any route accepts (1 MB, as MAX_BODY_BYTES in
//   lib/request-guard.ts): Next reads a body to its end before it sends proxy.ts's answer,
//   so a client announcing a huge body and sending nothing would hold the request open.
// The answer is sent at once. Closing the connection while the client is still sending resets
// it, and a reset can reach the client before it has read the answer, which it then loses. So
// what it keeps sending is read and dropped; past 8 MB reading stops, which blocks the client's
// sending (so it reads the answer) rather than resetting it; the connection closes when the
// request ends or after 5 s.
const MAX_BODY_BYTES = 1024 * 1024
// The admin's picture upload (app/admin/(console)/products/[id]/images/route.ts), a digital
// product's file (app/admin/(console)/products/[id]/download/route.ts) and catalog import
// (app/admin/(console)/import/upload/route.ts) cap their own bodies at 10 MB, 50 MB and 8 MB
// and answer more with a message on the form; past this, the plain 413 too.
const UPLOAD_PATH = /^\/admin\/(products\/\d{1,10}\/(images|download)|import\/upload)(\?|$)/
const MAX_UPLOAD_BODY_BYTES = 64 * MAX_BODY_BYTES
const MAX_DISCARD_BYTES = 8 * MAX_BODY_BYTES
const LINGER_MS = 5000
// Anonymous catalog pages are answered from the response cache when it holds them
// (scripts/response-cache.mjs; docs/decisions/005-response-cache-and-lean-pages.md). 32 MB
// holds every page of a few hundred products in each encoding. The app tells it what changed
// through globalThis.tillFrontCache, typed in lib/cache.ts (FrontCache): start.mjs puts
// `invalidate` there, boot puts `poll` (until then the cache answers nothing).
const frontCache = (globalThis.tillFrontCache ??= {})
const responseCache = createResponseCache({
  maxBytes: 32 * 1024 * 1024,
  maxEntryBytes: 1024 * 1024,
  ttlMs: env.responseCacheTtlMs,
  staleMs: env.responseCacheStaleMs,
  poll: () => frontCache.poll?.() === true,
})
// The socket peer, for the one client-address rule (lib/client-address.ts, whose PEER_HEADER
// this must equal): written here from the connection, after every copy the client sent is
// dropped, so no request can choose the address the limiters key on.
const PEER_HEADER = 'x-till-peer'
function stampPeer(req) {
  for (let i = req.rawHeaders.length - 2; i >= 0; i -= 2) {
    if (req.rawHeaders[i].toLowerCase() === PEER_HEADER) req.rawHeaders.splice(i, 2)
  }
  const peer = req.socket.remoteAddress ?? ''
  req.headers[PEER_HEADER] = peer
  req.rawHeaders.push(PEER_HEADER, peer)
}
frontCache.invalidate = responseCache.invalidate
frontCache.stats = responseCache.stats
const createServer = http.createServer
http.createServer = function (...args) {
  const at = args.findIndex((arg) => typeof arg === 'function')
  if (at >= 0) {
    const listener = args[at]
    args[at] = (req, res) => {
      stampPeer(req)
      const refuse = (status, message) => {
        const body = `${message}\n`
        res.writeHead(status, { 'Content-Type': 'text/plain; charset=utf-8', 'Content-Length': Buffer.byteLength(body), 'Cache-Control': 'no-store', Connection: 'close' })
        res.write(body)
        let discarded = 0
        const timer = setTimeout(() => req.socket.destroy(), LINGER_MS)
        req.on('data', (chunk) => {
          discarded += chunk.length
          if (discarded > MAX_DISCARD_BYTES) req.pause()
        })
        req.on('end', () => res.end())
        req.socket.on('close', () => clearTimeout(timer))
      }
      if (req.method === 'TRACE') return refuse(405, 'Method not allowed.')
      const limit = UPLOAD_PATH.test(req.url ?? '') ? MAX_UPLOAD_BODY_BYTES : MAX_BODY_BYTES
      if (Number(req.headers['content-length']) > limit) return refuse(413, `Request body too large: the limit is ${limit / 1024} KB.`)
      return responseCache.handle(req, res, () => listener(req, res))
    }
  }
  const created = createServer.apply(this, args)
  servers.add(created)
  return created
}
await import(server)
