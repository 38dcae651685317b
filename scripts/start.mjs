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

// The app shuts down in order on SIGTERM/SIGINT (lib/shutdown.ts): stop claiming jobs, let the
// running job and in-flight requests finish, stop the emulator, close the database, exit 0.
// Next's own handler would close the HTTP server and exit 143 as soon as requests are done,
// cutting a running job short, so it is switched off here and the app is handed the HTTP
// servers Next creates instead (Next keeps no public reference to them).
process.env.NEXT_MANUAL_SIG_HANDLE = 'true'
const servers = new Set()
globalThis.tillHttpServers = servers
const createServer = http.createServer
http.createServer = function (...args) {
  const created = createServer.apply(this, args)
  servers.add(created)
  return created
}

await import(server)
