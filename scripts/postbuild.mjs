// The standalone server serves .next/static and public/ only when they sit beside it.
import fs from 'node:fs'
import path from 'node:path'

const root = process.cwd()
const standalone = path.join(root, '.next', 'standalone')
if (!fs.existsSync(path.join(standalone, 'server.js'))) {
  console.error('postbuild: .next/standalone/server.js is missing; is output: "standalone" set?')
  process.exit(1)
}
// The build must carry no database: a traced copy of storage/ would be a copy of the live
// store file taken behind SQLite's back (next.config.ts excludes it; this is the check).
const carried = []
const walk = (dir) => {
  for (const entry of fs.readdirSync(dir, { withFileTypes: true })) {
    const full = path.join(dir, entry.name)
    if (entry.isDirectory()) {
      if (full === path.join(standalone, 'storage')) carried.push(full)
      else if (entry.name !== 'node_modules') walk(full)
    } else if (/\.sqlite3(-wal|-shm)?$/.test(entry.name)) carried.push(full)
  }
}
walk(standalone)
if (carried.length) {
  console.error(`postbuild: the build carries runtime data it must not:\n  ${carried.join('\n  ')}\nExclude it in next.config.ts (outputFileTracingExcludes).`)
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
