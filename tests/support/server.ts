import { spawn, type ChildProcess } from 'node:child_process'
import fs from 'node:fs'
import net from 'node:net'
import os from 'node:os'
import path from 'node:path'
import { scratchDatabase, SUITE_POSTGRES } from './suite-database'

// Starts the real production server (.next/standalone via the front server, server/start.ts) as a child
// process on a free port with its own STORAGE_DIR. Needs `npm run build` first.

const root = path.resolve(__dirname, '..', '..')

export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = net.createServer()
    srv.unref()
    srv.on('error', reject)
    srv.listen(0, '127.0.0.1', () => {
      const address = srv.address()
      const port = typeof address === 'object' && address ? address.port : 0
      srv.close(() => resolve(port))
    })
  })
}

export function tempStorage(prefix = 'till-e2e-'): string {
  return fs.mkdtempSync(path.join(os.tmpdir(), prefix))
}

/** The admin every test server starts with (created at boot from ADMIN_EMAIL/ADMIN_PASSWORD). */
export const TEST_ADMIN = { email: 'owner@till.test', password: 'correct horse battery staple' }

export type ServerHandle = {
  url: string
  port: number
  storageDir: string
  process: ChildProcess
  output: () => string
  stop: (signal?: NodeJS.Signals) => Promise<number | null>
  restart: () => Promise<void>
}

export type ServerOptions = {
  storageDir?: string
  port?: number
  env?: Record<string, string>
  waitForHealthy?: boolean
  timeoutMs?: number
  /**
   * A test of SQLite's own machinery (the file, its backups, its guards) says `sqlite`; by
   * default the store runs on the run's engine: with DATABASE_URL set for the run, a database
   * of its own on that server (tests/support/suite-database.ts).
   */
  engine?: 'sqlite' | 'postgres'
}

// The database each STORAGE_DIR's store was given, so a store started again on the same folder
// finds its rows, and a test can read them (tests/support/store-file.ts).
const databases = new Map<string, string>()
const making = new Map<string, Promise<string>>()

/** The PostgreSQL database of the store in `storageDir`, when it runs on one. */
export function databaseOf(storageDir: string): string | undefined {
  return databases.get(storageDir)
}

export async function startServer(options: ServerOptions = {}): Promise<ServerHandle> {
  const storageDir = options.storageDir ?? tempStorage()
  if (options.env?.DATABASE_URL) databases.set(storageDir, options.env.DATABASE_URL)
  else if (SUITE_POSTGRES && options.engine !== 'sqlite' && !databases.has(storageDir)) {
    // two servers started at once on one folder share one database
    let made = making.get(storageDir)
    if (!made) making.set(storageDir, (made = scratchDatabase()))
    databases.set(storageDir, await made)
  }
  const database = options.engine === 'sqlite' ? undefined : databases.get(storageDir)
  const port = options.port ?? (await freePort())
  const url = `http://127.0.0.1:${port}`
  let child: ChildProcess
  let log = ''

  const launch = async () => {
    child = spawn(process.execPath, [path.join(root, '.next', 'standalone', 'front-server.mjs')], {
      cwd: root,
      env: {
        PATH: process.env.PATH ?? '',
        HOME: process.env.HOME ?? '/tmp',
        NODE_ENV: 'production',
        PORT: String(port),
        HOSTNAME: '127.0.0.1',
        APP_URL: url,
        STORAGE_DIR: storageDir,
        SEED_DEMO: '1',
        PAYMENTS: 'emulator',
        LOG_LEVEL: 'warn',
        NEXT_TELEMETRY_DISABLED: '1',
        ADMIN_EMAIL: TEST_ADMIN.email,
        ADMIN_PASSWORD: TEST_ADMIN.password,
        ...(database ? { DATABASE_URL: database } : {}),
        ...options.env,
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    })
    child.stdout?.on('data', (d) => (log += d))
    child.stderr?.on('data', (d) => (log += d))
    if (options.waitForHealthy !== false) await waitForHealthy(url, child, () => log, options.timeoutMs ?? 60_000)
  }

  await launch()
  const handle: ServerHandle = {
    url,
    port,
    storageDir,
    get process() {
      return child
    },
    output: () => log,
    stop: (signal = 'SIGTERM') => stopChild(child, signal),
    restart: async () => {
      await stopChild(child, 'SIGTERM')
      await launch()
    },
  }
  return handle
}

async function waitForHealthy(url: string, child: ChildProcess, output: () => string, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs
  while (Date.now() < deadline) {
    if (child.exitCode !== null) throw new Error(`server exited with ${child.exitCode} before it was healthy:\n${output()}`)
    try {
      const res = await fetch(`${url}/up`)
      if (res.status === 200) return
    } catch {
      // not listening yet
    }
    await new Promise((r) => setTimeout(r, 200))
  }
  throw new Error(`server at ${url} not healthy after ${timeoutMs} ms:\n${output()}`)
}

/** /up, asked again for up to 10 s while it still answers 200 (the app checks itself once a second). */
export async function upWhenDown(url: string): Promise<Response> {
  let res = await fetch(`${url}/up`)
  for (let i = 0; i < 40 && res.status === 200; i++) {
    await new Promise((r) => setTimeout(r, 250))
    res = await fetch(`${url}/up`)
  }
  return res
}

function stopChild(child: ChildProcess, signal: NodeJS.Signals): Promise<number | null> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve(child.exitCode)
  return new Promise((resolve) => {
    const timer = setTimeout(() => child.kill('SIGKILL'), 10_000)
    child.once('exit', (code) => {
      clearTimeout(timer)
      resolve(code)
    })
    child.kill(signal)
  })
}

/**
 * Submits a server-action form the way a browser without JavaScript does: finds the form on
 * `page` whose markup contains `marker`, and posts it (multipart, same origin) with `fields`.
 * Answers the raw response (redirects are not followed).
 */
export async function submitActionForm(baseUrl: string, page: string, marker: string, init: { cookie?: string; fields?: Record<string, string> } = {}): Promise<Response> {
  const headers: Record<string, string> = init.cookie ? { cookie: init.cookie } : {}
  const html = await (await fetch(`${baseUrl}${page}`, { headers })).text()
  const form = [...html.matchAll(/<form\b[\s\S]*?<\/form>/g)].map((m) => m[0]).find((f) => f.includes(marker))
  if (!form) throw new Error(`no form containing ${JSON.stringify(marker)} on ${page}`)
  const body = new FormData()
  for (const m of form.matchAll(/<input\b[^>]*>/g)) {
    const name = /name="([^"]*)"/.exec(m[0])?.[1]
    if (name) body.append(name.replaceAll('&amp;', '&'), /value="([^"]*)"/.exec(m[0])?.[1] ?? '')
  }
  for (const [key, value] of Object.entries(init.fields ?? {})) body.set(key, value)
  return fetch(`${baseUrl}${page}`, { method: 'POST', redirect: 'manual', headers: { ...headers, origin: baseUrl }, body })
}
