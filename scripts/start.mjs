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
// Next turns every request into a fetch Request, and Node's fetch refuses the TRACE method,
// so a TRACE would end as a 500. It is answered 405 before Next sees it.
const createServer = http.createServer
http.createServer = (...args) => {
  const at = args.findIndex((arg) => typeof arg === 'function')
  if (at >= 0) {
    const listener = args[at]
    args[at] = (req, res) => {
      if (req.method !== 'TRACE') return listener(req, res)
      res.writeHead(405, { 'Content-Type': 'text/plain; charset=utf-8', Allow: 'GET, HEAD, POST' })
      res.end('Method not allowed.\n')
    }
  }
  return createServer.apply(http, args)
}
await import(server)
