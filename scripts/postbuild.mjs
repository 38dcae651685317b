// The standalone server serves .next/static and public/ only when they sit beside it.
import fs from 'node:fs'
import path from 'node:path'
import { writeStamp } from './build-stamp.mjs'

const root = process.cwd()
const standalone = path.join(root, '.next', 'standalone')
if (!fs.existsSync(path.join(standalone, 'server.js'))) {
  console.error('postbuild: .next/standalone/server.js is missing; is output: "standalone" set?')
  process.exit(1)
}
// The build must carry no runtime data: a traced copy of storage/ would be a copy of the live
// store file taken behind SQLite's back, the emulator's keys and customers' mail, shipped in
// an image. Run-time paths carry /*turbopackIgnore: true*/ so the tracer never follows them;
// this is the check, over the trace lists and over what was copied. Secrets (.env files) and
// test data are refused the same way.
const storageDirs = [path.join(root, 'storage'), process.env.STORAGE_DIR ? path.resolve(root, process.env.STORAGE_DIR) : null].filter(Boolean)
const forbiddenName = /\.sqlite3(-wal|-shm|-journal)?$|^\.env(\..*)?$|^emulator-keys\.json$|\.eml$/
const forbiddenTop = new Set(['storage', 'tests', 'bench', 'docs', 'test-results', 'playwright-report'])
const carried = new Set()
const inStorage = (file) => storageDirs.some((dir) => file === dir || file.startsWith(dir + path.sep))
const walk = (dir) => {
  for (const entry of fs.readdirSync(dir, { withFileTypes: true })) {
    const full = path.join(dir, entry.name)
    const top = path.relative(standalone, full).split(path.sep)[0]
    if (forbiddenTop.has(top)) carried.add(full)
    else if (entry.isDirectory()) {
      if (entry.name !== 'node_modules') walk(full)
    } else if (forbiddenName.test(entry.name)) carried.add(full)
  }
}
walk(standalone)
const traces = []
const findTraces = (dir) => {
  for (const entry of fs.readdirSync(dir, { withFileTypes: true })) {
    const full = path.join(dir, entry.name)
    if (entry.isDirectory()) findTraces(full)
    else if (entry.name.endsWith('.nft.json')) traces.push(full)
  }
}
findTraces(path.join(root, '.next', 'server'))
for (const trace of traces) {
  for (const file of JSON.parse(fs.readFileSync(trace, 'utf8')).files) {
    const resolved = path.resolve(path.dirname(trace), file)
    if (inStorage(resolved) || (!resolved.includes(`${path.sep}node_modules${path.sep}`) && forbiddenName.test(path.basename(resolved)))) {
      carried.add(`${resolved} (traced by ${path.relative(root, trace)})`)
    }
  }
}
if (carried.size) {
  console.error(`postbuild: the build carries runtime data or secrets it must not:\n  ${[...carried].join('\n  ')}\nA path known only at run time needs /*turbopackIgnore: true*/ where it is built (see lib/uploads.ts).`)
  process.exit(1)
}
fs.rmSync(path.join(standalone, '.next', 'static'), { recursive: true, force: true })
fs.cpSync(path.join(root, '.next', 'static'), path.join(standalone, '.next', 'static'), { recursive: true })
if (fs.existsSync(path.join(root, 'public'))) {
  fs.cpSync(path.join(root, 'public'), path.join(standalone, 'public'), { recursive: true })
}
console.log('postbuild: copied static assets into .next/standalone')
// Next lists experimental options at the top of the build with ⨯ for one turned off, which
// reads like an error. It is next.config.ts's isrFlushToDisk: false (rendered pages stay in
// each process's memory, never in the shared build folder), and Next 16 still reads it
// (tests/unit/next-config.test.ts checks that it does).
console.log('postbuild: "⨯ isrFlushToDisk" above is not an error: it says rendered pages are kept in memory, not written into the build folder (next.config.ts)')

// The front server (server/start.ts: the configuration check, the request guard, the response
// cache, the shutdown hand-over) is bundled here into one file beside Next's server, with
// lib/env.ts and zod, since the standalone output has no TypeScript and no tsx
// (docs/decisions/036-front-server-room.md). `npm start` and the Dockerfile run it.
const { build } = await import('esbuild')
await build({
  entryPoints: [path.join(root, 'server', 'start.ts')],
  outfile: path.join(standalone, 'front-server.mjs'),
  bundle: true,
  platform: 'node',
  format: 'esm',
  target: 'node20',
  tsconfig: path.join(root, 'tsconfig.json'),
  alias: { 'server-only': path.join(root, 'node_modules', 'server-only', 'empty.js') },
  logLevel: 'warning',
})
console.log('postbuild: bundled the front server into .next/standalone/front-server.mjs')

writeStamp(root)
