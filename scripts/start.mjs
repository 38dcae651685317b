// Starts the production (standalone) server from the repository root. The standalone server
// changes its working directory to .next/standalone, so a relative STORAGE_DIR is made
// absolute here first; every other setting is read and validated by lib/env.ts at boot.
import fs from 'node:fs'
import path from 'node:path'

const root = process.cwd()
const server = path.join(root, '.next', 'standalone', 'server.js')
if (!fs.existsSync(server)) {
  console.error('till: no production build found; run `npm run build` first.')
  process.exit(1)
}
process.env.STORAGE_DIR = path.resolve(root, process.env.STORAGE_DIR || 'storage')
process.env.HOSTNAME ||= '0.0.0.0'
await import(server)
