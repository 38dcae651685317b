// Starts the production (standalone) server from the repository root. The standalone server
// changes its working directory to .next/standalone, so a relative STORAGE_DIR is made
// absolute here first. The configuration is validated here, by lib/env.ts (bundled at
// postbuild), before Next starts: Next prints "✓ Ready" as soon as it listens, and a bad
// setting found later at boot read as a start followed by a crash.
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

const configCheck = path.join(root, '.next', 'standalone', 'till-config.mjs')
if (fs.existsSync(configCheck)) {
  const { ConfigError, parseEnv } = await import(configCheck)
  try {
    // The standalone server runs as production whatever NODE_ENV says; check it the same way.
    parseEnv({ ...process.env, NODE_ENV: 'production' })
  } catch (err) {
    if (!(err instanceof ConfigError)) throw err
    console.error(`till: cannot start.\n${err.message}`)
    process.exit(1)
  }
}
await import(server)
