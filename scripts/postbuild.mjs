// The standalone server serves .next/static and public/ only when they sit beside it.
import fs from 'node:fs'
import path from 'node:path'

const root = process.cwd()
const standalone = path.join(root, '.next', 'standalone')
if (!fs.existsSync(path.join(standalone, 'server.js'))) {
  console.error('postbuild: .next/standalone/server.js is missing; is output: "standalone" set?')
  process.exit(1)
}
fs.rmSync(path.join(standalone, '.next', 'static'), { recursive: true, force: true })
fs.cpSync(path.join(root, '.next', 'static'), path.join(standalone, '.next', 'static'), { recursive: true })
if (fs.existsSync(path.join(root, 'public'))) {
  fs.cpSync(path.join(root, 'public'), path.join(standalone, 'public'), { recursive: true })
}
console.log('postbuild: copied static assets into .next/standalone')

// scripts/start.mjs validates the configuration before Next starts, with lib/env.ts itself:
// bundled here (with zod) into one file beside the server, since the standalone output has
// no TypeScript and no tsx. Without it a bad setting surfaced only after Next's "✓ Ready".
const { build } = await import('esbuild')
await build({
  entryPoints: [path.join(root, 'lib', 'env.ts')],
  outfile: path.join(standalone, 'till-config.mjs'),
  bundle: true,
  platform: 'node',
  format: 'esm',
  target: 'node20',
  alias: { 'server-only': path.join(root, 'node_modules', 'server-only', 'empty.js') },
  logLevel: 'warning',
})
console.log('postbuild: bundled lib/env.ts for the start-up check')
