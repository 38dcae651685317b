import { execFile, execFileSync, spawn, type ChildProcess } from 'node:child_process'
import fs from 'node:fs'
import path from 'node:path'
import { promisify } from 'node:util'
import pg from 'pg'
import { freePort, tempStorage } from './server'

// A PostgreSQL of its own for a test file: Debian's server binaries, a fresh cluster in a temp
// folder, a free loopback port, the socket in the same folder, no system service. Each call is
// its own cluster, so test files running at once never share one.
//
// PostgreSQL refuses to run as root, so when the tests run as root the cluster is made and run
// as the `postgres` OS user, in a folder that user owns.
//
// A test process that crashes (or is SIGKILLed by the runner) cannot run stop(). A watchdog, a
// detached shell reading a pipe from this process, sees the pipe close when this process goes,
// however it goes, and then stops the server and removes the folder: no server outlives its test.

export type Postgres = {
  url: string
  port: number
  dir: string
  stop: () => Promise<void>
  /**
   * Shuts the server down and keeps its data, as an outage would: `fast` ends its sessions
   * first; `crash` stops every process at once, and `resume` then recovers from the WAL.
   */
  halt: (how?: 'fast' | 'crash') => Promise<void>
  /** Starts the halted server again on the same port and data. */
  resume: () => Promise<void>
}

/**
 * Set by tests/support/postgres-template.ts, the integration tests' global setup: a folder,
 * owned by the server's user, where the first cluster of the run is made once (initdb is most
 * of a start) and every later one copies it. Unset (a script, a single file run elsewhere):
 * each cluster runs initdb itself.
 */
export const TEMPLATE_ENV = 'TILL_PG_TEMPLATE_DIR'

const DATABASE = 'till'

function binDir(): string {
  const root = '/usr/lib/postgresql'
  const versions = fs.existsSync(root) ? fs.readdirSync(root).filter((v) => fs.existsSync(path.join(root, v, 'bin', 'initdb'))) : []
  const newest = versions.sort((a, b) => Number(b) - Number(a))[0]
  if (!newest) throw new Error(`postgres: no initdb under ${root}/*/bin (apt-get install postgresql)`)
  return path.join(root, newest, 'bin')
}

export function runAs(): { uid: number; gid: number } | undefined {
  if (process.getuid?.() !== 0) return undefined
  const id = (flag: string) => Number(execFileSync('id', [flag, 'postgres'], { encoding: 'utf8' }).trim())
  return { uid: id('-u'), gid: id('-g') }
}

const run = promisify(execFile)
const INITDB_ARGS = ['-U', 'postgres', '--auth=trust', '-E', 'UTF8', '--locale=C', '--no-sync', '--no-instructions']

/** A new cluster in `data`: a copy of the run's template when there is one, else initdb's own. */
async function makeCluster(bin: string, data: string, asOwner: { cwd: string; uid?: number; gid?: number }): Promise<void> {
  const template = process.env[TEMPLATE_ENV]
  if (template && fs.existsSync(template)) {
    const ready = path.join(template, 'ready')
    const failed = path.join(template, 'failed')
    let isMaker = false
    try {
      // the first caller of the run makes it; mkdir is atomic across processes
      fs.mkdirSync(path.join(template, 'making'))
      isMaker = true
    } catch {}
    if (isMaker) {
      try {
        await run(path.join(bin, 'initdb'), ['-D', path.join(template, 'data'), ...INITDB_ARGS], asOwner)
        fs.writeFileSync(ready, '')
      } catch (err) {
        fs.writeFileSync(failed, String(err))
        throw err
      }
    } else {
      const deadline = performance.now() + 60_000
      while (!fs.existsSync(ready) && !fs.existsSync(failed) && performance.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 50))
    }
    if (fs.existsSync(ready)) {
      // copied as the server's user, so the copy is its own (the server refuses anything else)
      await run('cp', ['-a', path.join(template, 'data'), data], asOwner)
      return
    }
    // its maker failed, or died before finishing: make this one the slow way
  }
  await run(path.join(bin, 'initdb'), ['-D', data, ...INITDB_ARGS], asOwner)
}

async function exited(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return
  await new Promise((resolve) => child.once('exit', resolve))
}

async function acceptsConnections(port: number, server: ChildProcess, output: () => string, timeoutMs: number): Promise<void> {
  const deadline = performance.now() + timeoutMs
  for (;;) {
    if (server.exitCode !== null || server.signalCode !== null) throw new Error(`postgres: the server exited while starting:\n${output()}`)
    const client = new pg.Client({ host: '127.0.0.1', port, user: 'postgres', database: 'postgres' })
    client.on('error', () => {})
    try {
      await client.connect()
      await client.query('SELECT 1')
      return
    } catch (err) {
      if (performance.now() > deadline) throw new Error(`postgres: not accepting connections after ${timeoutMs} ms (${String(err)}):\n${output()}`)
      await new Promise((resolve) => setTimeout(resolve, 50))
    } finally {
      await client.end().catch(() => {})
    }
  }
}

/** Runs one of PostgreSQL's client programs (pg_dump, pg_basebackup, …) as the server's user; resolves with its output. */
export async function runProgram(name: string, args: string[], cwd: string): Promise<{ stdout: string; stderr: string }> {
  return run(path.join(binDir(), name), args, { cwd, ...runAs(), maxBuffer: 16 * 1024 * 1024 })
}

type StartOptions = {
  timeoutMs?: number
  /** Server settings beyond the tests' own, each given as `-c name=value` (later ones win). */
  settings?: Record<string, string>
  /**
   * Fills the empty data folder instead of a fresh cluster (a restored backup, say), run as
   * the server's user. Its `till` database is then expected to be there already.
   */
  fillData?: (data: string, asOwner: { cwd: string; uid?: number; gid?: number }) => Promise<void>
}

/**
 * Starts a fresh PostgreSQL with an empty database `till` (or the server of the data folder
 * `fillData` makes); stop() stops it and removes its folder.
 */
export async function startPostgres(options: StartOptions = {}): Promise<Postgres> {
  const bin = binDir()
  const owner = runAs()
  const dir = tempStorage('till-pg-')
  const data = path.join(dir, 'data')
  if (owner) fs.chownSync(dir, owner.uid, owner.gid)
  // cwd: the postgres user may not be allowed into the directory the tests run from
  const asOwner = { cwd: dir, ...owner }
  const settings = Object.entries(options.settings ?? {}).flatMap(([name, value]) => ['-c', `${name}=${value}`])

  try {
    if (options.fillData) await options.fillData(data, asOwner)
    else await makeCluster(bin, data, asOwner)
  } catch (err) {
    fs.rmSync(dir, { recursive: true, force: true })
    throw err
  }

  // The pipe the watchdog reads: it closes when this process ends, whatever ends it.
  const watchdog = spawn(
    'sh',
    [
      '-c',
      // each line is the server's pid (the last one counts); at the pipe's end, an immediate
      // shutdown, a kill if that hangs (an exited server waiting to be reaped counts as gone),
      // and the folder goes
      'pid=; while read -r line; do pid=$line; done; [ -n "$pid" ] && kill -QUIT "$pid" 2>/dev/null; i=0; while kill -0 "$pid" 2>/dev/null && [ "$(cut -d" " -f3 /proc/$pid/stat 2>/dev/null)" != Z ] && [ $i -lt 50 ]; do sleep 0.1; i=$((i+1)); done; kill -KILL "$pid" 2>/dev/null; rm -rf "$1"',
      'till-pg-watchdog',
      dir,
    ],
    { detached: true, stdio: ['pipe', 'ignore', 'ignore'] },
  )
  watchdog.unref()
  ;(watchdog.stdin as unknown as { unref?: () => void }).unref?.()

  let server: ChildProcess | undefined
  let port = 0
  let output = ''
  const launch = (on: number): ChildProcess => {
    output = ''
    const child = spawn(
      path.join(bin, 'postgres'),
      // fsync off: a test's cluster is thrown away, a crash of the machine never matters;
      // small buffers and few connections: several clusters share a small machine
      ['-D', data, '-p', String(on), '-c', 'listen_addresses=127.0.0.1', '-c', `unix_socket_directories=${dir}`, '-c', 'fsync=off', '-c', 'full_page_writes=off', '-c', 'shared_buffers=16MB', '-c', 'max_connections=40', ...settings],
      { ...asOwner, detached: true, stdio: ['ignore', 'pipe', 'pipe'] },
    )
    child.unref()
    child.stdout?.on('data', (d) => (output += d))
    child.stderr?.on('data', (d) => (output += d))
    ;(child.stdout as unknown as { unref?: () => void }).unref?.()
    ;(child.stderr as unknown as { unref?: () => void }).unref?.()
    watchdog.stdin?.write(`${child.pid}\n`)
    return child
  }
  try {
    // A free port can be taken by another test between the check and the bind: try another.
    for (let attempt = 1; ; attempt++) {
      port = await freePort()
      server = launch(port)
      try {
        await acceptsConnections(port, server, () => output, options.timeoutMs ?? 30_000)
        break
      } catch (err) {
        const portTaken = /could not bind|Address already in use/i.test(output)
        if (!portTaken || attempt >= 3) throw err
        await exited(server)
      }
    }
    if (!options.fillData) {
      const admin = new pg.Client({ host: '127.0.0.1', port, user: 'postgres', database: 'postgres' })
      await admin.connect()
      try {
        await admin.query(`CREATE DATABASE ${DATABASE}`)
      } finally {
        await admin.end()
      }
    }
  } catch (err) {
    watchdog.stdin?.end()
    throw err
  }

  let started = server!
  let stopped: Promise<void> | undefined
  return {
    url: `postgres://postgres@127.0.0.1:${port}/${DATABASE}`,
    port,
    dir,
    stop: () =>
      (stopped ??= (async () => {
        // The watchdog goes first, so it never signals a process id that is no longer ours.
        watchdog.kill('SIGKILL')
        // SIGQUIT is `pg_ctl stop -m immediate`: the postmaster ends its backends and exits.
        // Held (ref) until it has: otherwise a process with nothing else to do exits first.
        started.ref()
        started.kill('SIGQUIT')
        await exited(started)
        fs.rmSync(dir, { recursive: true, force: true })
      })()),
    halt: async (how = 'fast') => {
      // SIGINT is `pg_ctl stop -m fast`: sessions are ended, the data is kept. SIGQUIT is
      // `-m immediate`: every process gone at once, as a crash, and the next start recovers from WAL.
      started.ref()
      started.kill(how === 'crash' ? 'SIGQUIT' : 'SIGINT')
      await exited(started)
    },
    resume: async () => {
      started = launch(port)
      await acceptsConnections(port, started, () => output, options.timeoutMs ?? 30_000)
    },
  }
}
