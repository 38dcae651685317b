import { spawn } from 'node:child_process'
import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import Database from 'better-sqlite3'
import { afterEach, describe, expect, inject, it } from 'vitest'

// Two real processes share one database file, as the blue and green releases do during a
// deploy, each running the job worker with the same second-level schedules.
const root = path.resolve(__dirname, '..', '..')
const dirs: string[] = []
afterEach(() => {
  for (const dir of dirs.splice(0)) fs.rmSync(dir, { recursive: true, force: true })
})

function runWorker(dbFile: string, runsFile: string, forMs: number): Promise<{ code: number | null; output: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [path.join(root, 'node_modules', 'tsx', 'dist', 'cli.mjs'), '--conditions=react-server', path.join(root, 'tests', 'support', 'scheduled-worker.ts'), '--db', dbFile, '--runs', runsFile, '--for-ms', String(forMs)], {
      cwd: root,
      env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '/tmp', LOG_LEVEL: 'error', NODE_ENV: 'test' },
      stdio: ['ignore', 'pipe', 'pipe'],
    })
    let output = ''
    child.stdout.on('data', (d) => (output += d))
    child.stderr.on('data', (d) => (output += d))
    child.on('error', reject)
    child.on('exit', (code) => resolve({ code, output }))
  })
}

type Run = { kind: string; slot: string; pid: number; start: number; end: number }

describe('scheduled work across two processes', () => {
  it('runs each slot once, and never runs a scheduled task twice at the same time', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'till-sched-'))
    dirs.push(dir)
    const dbFile = path.join(dir, 'store.sqlite3')
    fs.copyFileSync(inject('templateDb'), dbFile)
    const runsFile = path.join(dir, 'runs.log')
    const forMs = 8000
    const [a, b] = await Promise.all([runWorker(dbFile, runsFile, forMs), runWorker(dbFile, runsFile, forMs)])
    expect(a!.code, a!.output).toBe(0)
    expect(b!.code, b!.output).toBe(0)

    const runs: Run[] = fs
      .readFileSync(runsFile, 'utf8')
      .trim()
      .split('\n')
      .map((line) => {
        const [kind, slot, pid, start, end] = line.split(' ')
        return { kind: kind!, slot: slot!, pid: Number(pid), start: Number(start), end: Number(end) }
      })

    // one run per slot: each second's tick ran once, though both processes scheduled it
    const ticks = runs.filter((r) => r.kind === 'test.tick')
    const perSlot = new Map<string, number>()
    // grouped by the second each run was scheduled for, whatever key the queue used
    for (const r of ticks) perSlot.set(r.slot.slice(0, 19), (perSlot.get(r.slot.slice(0, 19)) ?? 0) + 1)
    const perPid = new Map<number, number>()
    for (const r of ticks) perPid.set(r.pid, (perPid.get(r.pid) ?? 0) + 1)
    console.log(`scheduled-work: ${perSlot.size} tick slots; runs by pid:`, Object.fromEntries(perPid))
    expect(perSlot.size).toBeGreaterThanOrEqual(4)
    for (const [slot, count] of perSlot) expect({ slot, count }).toEqual({ slot, count: 1 })
    for (const r of ticks) expect(r.slot).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.000Z$/)

    const sqlite = new Database(dbFile, { readonly: true })
    try {
      const rows = sqlite.prepare("SELECT unique_key, status FROM jobs WHERE kind = 'test.tick'").all() as { unique_key: string; status: string }[]
      // one job row per slot; none left running
      expect(new Set(rows.map((r) => r.unique_key)).size).toBe(rows.length)
      expect(rows.filter((r) => r.status === 'running')).toEqual([])
      expect(rows.filter((r) => r.status === 'done').length).toBe(perSlot.size)
    } finally {
      sqlite.close()
    }

    // the slow task (1.5 s of work, scheduled every second) ran under its lease: no two runs
    // overlap, whichever process ran them
    const slow = runs.filter((r) => r.kind === 'test.slow').sort((x, y) => x.start - y.start)
    console.log(`scheduled-work: ${slow.length} slow runs, by pid:`, slow.map((r) => r.pid).join(','))
    expect(slow.length).toBeGreaterThanOrEqual(2)
    for (let i = 1; i < slow.length; i++) expect(slow[i]!.start).toBeGreaterThanOrEqual(slow[i - 1]!.end)
  })
})
