// Starts the production (standalone) server from the repository root. The standalone server
// changes its working directory to .next/standalone, so a relative STORAGE_DIR is made
// absolute here first; every other setting is read and validated by lib/env.ts at boot.
import fs from 'node:fs'
import http from 'node:http'
import path from 'node:path'

const root = process.cwd()
const server = path.join(root, '.next', 'standalone', 'server.js')
if (!fs.existsSync(server)) {
  console.error('till: no production build found; run `npm run build` first.')
  process.exit(1)
}
process.env.STORAGE_DIR = path.resolve(root, process.env.STORAGE_DIR || 'storage')
process.env.HOSTNAME ||= '0.0.0.0'
// Two requests are answered before Next sees them:
// - TRACE: Next turns every request into a fetch Request, which refuses that method, so a
//   TRACE would end as a 500.
// - a body announced larger than any route accepts (1 MB, as MAX_BODY_BYTES in
//   lib/request-guard.ts): Next reads a body to its end before it sends proxy.ts's answer,
//   so a client announcing a huge body and sending nothing would hold the request open.
//   Here the 413 goes out at once. What the client keeps sending is discarded unread (closing
//   at once would reset the connection and could lose the 413 on its way), up to a bound,
//   then the connection is closed.
const MAX_BODY_BYTES = 1024 * 1024
const MAX_DISCARD_BYTES = 8 * MAX_BODY_BYTES
const createServer = http.createServer
http.createServer = (...args) => {
  const at = args.findIndex((arg) => typeof arg === 'function')
  if (at >= 0) {
    const listener = args[at]
    args[at] = (req, res) => {
      const refuse = (status, message) => {
        res.writeHead(status, { 'Content-Type': 'text/plain; charset=utf-8', 'Cache-Control': 'no-store' })
        res.end(`${message}\n`)
        let discarded = 0
        req.on('data', (chunk) => {
          discarded += chunk.length
          if (discarded > MAX_DISCARD_BYTES) req.socket.destroy()
        })
      }
      if (req.method === 'TRACE') return refuse(405, 'Method not allowed.')
      if (Number(req.headers['content-length']) > MAX_BODY_BYTES) return refuse(413, 'Request body too large: the limit is 1024 KB.')
      return listener(req, res)
    }
  }
  return createServer.apply(http, args)
}
await import(server)
