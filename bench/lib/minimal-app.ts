import crypto from 'node:crypto'
import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { freePort, root, run, spawnServer, type Child } from './processes'

// The baseline Next app (bench/minimal-app): copied into a folder of its own in the system's
// temporary folder with a link to the store's node_modules, built once per change of its
// source, and run with `next start`. Not under the store's folder: a Next project inside it
// is built with the store's instrumentation.ts and proxy.ts (found at Turbopack's root).

const source = path.join(root, 'bench', 'minimal-app')
const minimalDir = path.join(os.tmpdir(), `till-bench-minimal-app-${crypto.createHash('sha256').update(root).digest('hex').slice(0, 8)}`)
// Turbopack must reach the linked node_modules, wherever the store's folder is.
const turbopackRoot = path.parse(root).root
const nextBin = path.join(root, 'node_modules', 'next', 'dist', 'bin', 'next')

function sourceHash(): string {
  const hash = crypto.createHash('sha256')
  const walk = (dir: string) => {
    for (const entry of fs.readdirSync(dir, { withFileTypes: true }).sort((a, b) => a.name.localeCompare(b.name))) {
      const file = path.join(dir, entry.name)
      if (entry.isDirectory()) walk(file)
      else hash.update(path.relative(source, file)).update(fs.readFileSync(file))
    }
  }
  walk(source)
  hash.update(fs.readFileSync(path.join(root, 'package-lock.json')))
  return hash.digest('hex')
}

export function isMinimalAppBuilt(): boolean {
  const stamp = path.join(minimalDir, '.source-hash')
  return fs.existsSync(path.join(minimalDir, '.next', 'BUILD_ID')) && fs.existsSync(stamp) && fs.readFileSync(stamp, 'utf8') === sourceHash()
}

/** Builds the minimal app unless its last build is of the same source; says whether it built. */
export async function buildMinimalApp(): Promise<boolean> {
  if (isMinimalAppBuilt()) return false
  fs.rmSync(minimalDir, { recursive: true, force: true })
  fs.mkdirSync(path.dirname(minimalDir), { recursive: true })
  fs.cpSync(source, minimalDir, { recursive: true })
  fs.symlinkSync(path.join(root, 'node_modules'), path.join(minimalDir, 'node_modules'), 'dir')
  await run(process.execPath, [nextBin, 'build'], { cwd: minimalDir, env: { BENCH_MINIMAL_ROOT: turbopackRoot }, label: 'next build (minimal app)' })
  fs.writeFileSync(path.join(minimalDir, '.source-hash'), sourceHash())
  return true
}

export async function startMinimalApp(): Promise<Child> {
  const port = await freePort()
  return spawnServer({
    command: [nextBin, 'start', '-p', String(port), '-H', '127.0.0.1'],
    cwd: minimalDir,
    env: { NODE_ENV: 'production', BENCH_MINIMAL_ROOT: turbopackRoot },
    port,
    healthPath: '/',
  })
}
