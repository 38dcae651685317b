import { spawn } from 'node:child_process'
import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { afterEach, describe, expect, it } from 'vitest'
import { processesIn, PYTHON, SUBREAPER } from '../support/patroni'

// The wrapper every cluster member runs under: pulling the plug must take every process below
// it, including one that left its session (as Patroni's postmaster does) and one orphaned by
// its parent's death.

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms))

// A shell that starts a process in a session of its own, which starts two more, then waits.
const MACHINE = 'setsid sh -c "sleep 300 & sleep 301 & wait" & sleep 302'

let dir = ''
afterEach(() => {
  for (const pid of processesIn(dir)) process.kill(pid, 'SIGKILL')
  fs.rmSync(dir, { recursive: true, force: true })
})

async function until(what: string, check: () => boolean): Promise<void> {
  const deadline = Date.now() + 10_000
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`no ${what} within 10 s`)
    await sleep(50)
  }
}

describe('subreaper.py', () => {
  it('kills every process below it on SIGUSR1, the detached ones too, and exits 137', async () => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'till-subreaper-'))
    const wrapper = spawn(PYTHON, [SUBREAPER, String(process.pid), 'sh', '-c', MACHINE], { cwd: dir, stdio: 'ignore' })
    const exited = new Promise<number | null>((resolve) => wrapper.once('exit', resolve))
    // the wrapper, two shells and three sleeps
    await until('six processes', () => processesIn(dir).length === 6)
    wrapper.kill('SIGUSR1')
    expect(await exited).toBe(137)
    expect(processesIn(dir)).toEqual([])
  })

  it('kills every process below it when the process that started it dies', async () => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'till-subreaper-'))
    // A shell stands in for the harness: it starts the wrapper, then dies when its input ends.
    const harness = spawn('sh', ['-c', `"${PYTHON}" "${SUBREAPER}" $$ sh -c '${MACHINE}' & read line`], { cwd: dir, stdio: ['pipe', 'ignore', 'ignore'] })
    const exited = new Promise((resolve) => harness.once('exit', resolve))
    // the harness, the wrapper, two shells and three sleeps
    await until('seven processes', () => processesIn(dir).length === 7)
    harness.stdin.end()
    await exited
    await until('end of every process below the wrapper', () => processesIn(dir).length === 0)
    expect(processesIn(dir)).toEqual([])
  })
})
