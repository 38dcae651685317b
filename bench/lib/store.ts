import crypto from 'node:crypto'
import fs from 'node:fs'
import path from 'node:path'
import { performance } from 'node:perf_hooks'
import { startServer } from '../../tests/support/server'
import { root, run, untilOk, type Child } from './processes'

// The store as it runs in production: the standalone build started by server/start.ts.

const serverFile = path.join(root, '.next', 'standalone', 'server.js')
// What a build is made from; a newer file in any of them means the build is stale.
const SOURCES = ['app', 'lib', 'db', 'emulator', 'demo', 'public', 'proxy.ts', 'instrumentation.ts', 'next.config.ts', 'postcss.config.mjs', 'package-lock.json', 'scripts/postbuild.mjs']

function newestSource(): number {
  let newest = 0
  const visit = (file: string) => {
    if (!fs.existsSync(file)) return
    const stat = fs.statSync(file)
    if (stat.isDirectory()) for (const entry of fs.readdirSync(file)) visit(path.join(file, entry))
    else newest = Math.max(newest, stat.mtimeMs)
  }
  for (const entry of SOURCES) visit(path.join(root, entry))
  return newest
}

export function isStoreBuilt(): boolean {
  return fs.existsSync(serverFile)
}

function isStoreBuildCurrent(): boolean {
  return isStoreBuilt() && fs.statSync(serverFile).mtimeMs >= newestSource()
}

/** `npm run build` unless the standalone build is newer than every source; says whether it built. */
export async function buildStore(): Promise<boolean> {
  if (isStoreBuildCurrent()) return false
  await run('npm', ['run', 'build'], { cwd: root, label: 'npm run build' })
  return true
}

export type Store = Child & { storageDir: string; webhookSecret: string; secretKey: string }

/**
 * Starts the store the way the integration tests do (tests/support/server.ts: demo catalog,
 * built-in payments emulator), with keys the bench chose, so it can sign webhooks and drive
 * the emulator; boot is timed from the spawn to the first 200 on /up.
 */
export async function startStore(storageDir: string, extraEnv: Record<string, string> = {}): Promise<Store> {
  // keys given in extraEnv (a Stripe-compatible server's) are the ones the store is told
  const secretKey = extraEnv.STRIPE_SECRET_KEY ?? `sk_test_bench${crypto.randomBytes(12).toString('hex')}`
  const webhookSecret = extraEnv.STRIPE_WEBHOOK_SECRET ?? `whsec_bench${crypto.randomBytes(12).toString('hex')}`
  const started = performance.now()
  // BENCH_STORE_NODE_OPTIONS reaches the store's process alone: say, `--require` of a file that
  // runs node:inspector's profiler, to profile it under the bench's load (Node refuses
  // `--cpu-prof` in NODE_OPTIONS).
  const nodeOptions = process.env.BENCH_STORE_NODE_OPTIONS
  const server = await startServer({ storageDir, env: { STRIPE_SECRET_KEY: secretKey, STRIPE_WEBHOOK_SECRET: webhookSecret, ...(nodeOptions ? { NODE_OPTIONS: nodeOptions } : {}), ...extraEnv }, waitForHealthy: false })
  const bootMs = (await untilOk(`${server.url}/up`, () => server.process.exitCode !== null, server.output)) - started
  const stop = async () => {
    const t = performance.now()
    const code = await server.stop()
    return { ms: performance.now() - t, code }
  }
  return { url: server.url, port: server.port, process: server.process, output: server.output, bootMs, stop, storageDir, secretKey, webhookSecret }
}
