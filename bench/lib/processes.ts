import { spawn, type ChildProcess } from 'node:child_process'
import fs from 'node:fs'
import path from 'node:path'
import { performance } from 'node:perf_hooks'
import { freePort } from '../../tests/support/server'

// Starting, timing and stopping the processes the bench measures.

export const root = path.resolve(__dirname, '..', '..')

export type Child = {
  url: string
  port: number
  process: ChildProcess
  output: () => string
  /** milliseconds from spawn to the first 200 on the health path */
  bootMs: number
  /** SIGTERM, then the milliseconds until the process has exited (SIGKILL after 20 s) */
  stop: () => Promise<{ ms: number; code: number | null }>
}

export { freePort }

type SpawnOptions = { command: string[]; cwd: string; env: Record<string, string>; port: number; healthPath: string; timeoutMs?: number }

/** Spawns a server and waits for a 200 on `healthPath`, polling every 20 ms. */
export async function spawnServer(options: SpawnOptions): Promise<Child> {
  const url = `http://127.0.0.1:${options.port}`
  let log = ''
  const started = performance.now()
  const child = spawn(process.execPath, options.command, {
    cwd: options.cwd,
    env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '/tmp', NODE_ENV: 'production', NEXT_TELEMETRY_DISABLED: '1', ...options.env },
    stdio: ['ignore', 'pipe', 'pipe'],
  })
  child.stdout.on('data', (d) => (log = (log + d).slice(-20_000)))
  child.stderr.on('data', (d) => (log = (log + d).slice(-20_000)))
  let bootMs: number
  try {
    bootMs = (await untilOk(`${url}${options.healthPath}`, () => child.exitCode !== null, () => log, options.timeoutMs)) - started
  } catch (err) {
    child.kill('SIGKILL')
    throw err
  }
  return {
    url,
    port: options.port,
    process: child,
    output: () => log,
    bootMs,
    stop: () => stopChild(child),
  }
}

/** Polls `url` every 20 ms until it answers 200; the performance.now() of that answer. */
export async function untilOk(url: string, hasExited: () => boolean, output: () => string, timeoutMs = 60_000): Promise<number> {
  const deadline = Date.now() + timeoutMs
  while (Date.now() < deadline) {
    if (hasExited()) throw new Error(`the server for ${url} exited before it answered:\n${output()}`)
    try {
      const res = await fetch(url)
      await res.arrayBuffer()
      if (res.status === 200) return performance.now()
    } catch {
      // not listening yet
    }
    await new Promise((r) => setTimeout(r, 20))
  }
  throw new Error(`${url} did not answer 200 in ${timeoutMs} ms:\n${output()}`)
}

function stopChild(child: ChildProcess): Promise<{ ms: number; code: number | null }> {
  const started = performance.now()
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve({ ms: 0, code: child.exitCode })
  return new Promise((resolve) => {
    const timer = setTimeout(() => child.kill('SIGKILL'), 20_000)
    child.once('exit', (code) => {
      clearTimeout(timer)
      resolve({ ms: performance.now() - started, code })
    })
    child.kill('SIGTERM')
  })
}

/** A process and all its descendants, now (Linux /proc). */
function withDescendants(pid: number): number[] {
  const parents = new Map<number, number[]>()
  for (const entry of fs.readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue
    try {
      const stat = fs.readFileSync(`/proc/${entry}/stat`, 'utf8')
      // the command name may hold spaces and parentheses: fields start after the last ')'
      const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1])
      parents.set(ppid, [...(parents.get(ppid) ?? []), Number(entry)])
    } catch {
      // exited while listing
    }
  }
  const all: number[] = []
  const stack = [pid]
  while (stack.length) {
    const p = stack.pop()!
    all.push(p)
    stack.push(...(parents.get(p) ?? []))
  }
  return all
}

/** Resident memory of a process and all its descendants, in bytes (Linux /proc). */
export function treeRss(pid: number): number {
  let total = 0
  for (const p of withDescendants(pid)) {
    try {
      const rss = /VmRSS:\s+(\d+) kB/.exec(fs.readFileSync(`/proc/${p}/status`, 'utf8'))
      total += rss ? Number(rss[1]) * 1024 : 0
    } catch {
      // exited
    }
  }
  return total
}

/**
 * CPU time used so far by a process and its descendants, in milliseconds: each live process's
 * own time and that of the children it has reaped (a PostgreSQL backend whose connection
 * closed is counted in its postmaster's), so the figure never goes back.
 */
export function treeCpuMs(pid: number): number {
  let total = 0
  for (const p of withDescendants(pid)) {
    try {
      total += cpuTicks(p, true) * 10
    } catch {
      // exited
    }
  }
  return total
}

/** CPU time a process has used so far (user + system), in milliseconds (Linux /proc, 100 Hz ticks). */
export function cpuMs(pid: number): number {
  return cpuTicks(pid) * 10
}

function cpuTicks(pid: number, withReapedChildren = false): number {
  const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8')
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ')
  // utime and stime, fields 14 and 15 of the whole line; cutime and cstime, 16 and 17
  const own = Number(fields[11]) + Number(fields[12])
  return withReapedChildren ? own + Number(fields[13]) + Number(fields[14]) : own
}

/**
 * Waits until the process uses under about 5% of a core over half a second (at most
 * `timeoutMs`): work it queued during a run (emails after orders, say) must not land on the
 * baseline measured next.
 */
export async function settle(pid: number, timeoutMs = 15_000): Promise<void> {
  const deadline = Date.now() + timeoutMs
  while (Date.now() < deadline) {
    const before = cpuTicks(pid)
    await new Promise((r) => setTimeout(r, 500))
    // clock ticks are hundredths of a second on Linux: 2 ticks in 500 ms is 4%
    if (cpuTicks(pid) - before <= 2) return
  }
}

/** Runs a command to completion, its output passed through with a prefix; throws on failure. */
export async function run(command: string, args: string[], options: { cwd: string; env?: Record<string, string>; label: string }): Promise<void> {
  await new Promise<void>((resolve, reject) => {
    const child = spawn(command, args, { cwd: options.cwd, env: { ...process.env, NEXT_TELEMETRY_DISABLED: '1', ...options.env }, stdio: ['ignore', 'pipe', 'pipe'] })
    let tail = ''
    const onData = (d: Buffer) => (tail = (tail + d).slice(-8000))
    child.stdout.on('data', onData)
    child.stderr.on('data', onData)
    child.on('error', reject)
    child.on('exit', (code) => (code === 0 ? resolve() : reject(new Error(`${options.label} failed (exit ${code}):\n${tail}`))))
  })
}

/**
 * The pids of the Next servers running now (called before the bench starts its own): Next
 * names its server process `next-server (vX)`, which is what /proc shows as its command line.
 * Empty where there is no /proc.
 */
export function otherNextServers(): number[] {
  let entries: string[]
  try {
    entries = fs.readdirSync('/proc')
  } catch {
    return []
  }
  const pids: number[] = []
  for (const entry of entries) {
    if (!/^\d+$/.test(entry)) continue
    try {
      if (fs.readFileSync(`/proc/${entry}/cmdline`, 'utf8').startsWith('next-server')) pids.push(Number(entry))
    } catch {
      // the process ended while being read
    }
  }
  return pids
}
