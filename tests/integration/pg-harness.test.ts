import { spawn } from 'node:child_process'
import fs from 'node:fs'
import path from 'node:path'
import pg from 'pg'
import { describe, expect, it } from 'vitest'
import { startPostgres } from '../support/postgres'

// The PostgreSQL the tests start for themselves leaves nothing behind: not when stop() is
// called, and not when the test process is killed before it can call it.

const harness = path.resolve(__dirname, '..', 'support', 'postgres.ts')

async function accepts(port: number): Promise<boolean> {
  const client = new pg.Client({ host: '127.0.0.1', port, user: 'postgres', database: 'till', connectionTimeoutMillis: 2_000 })
  client.on('error', () => {})
  try {
    await client.connect()
    await client.query('SELECT 1')
    return true
  } catch {
    return false
  } finally {
    await client.end().catch(() => {})
  }
}

/** Polls until `done()` holds; fails the test if it never does. */
async function eventually(done: () => Promise<boolean> | boolean, what: string, timeoutMs = 30_000) {
  const deadline = performance.now() + timeoutMs
  while (!(await done())) {
    if (performance.now() > deadline) throw new Error(`never happened: ${what}`)
    await new Promise((resolve) => setTimeout(resolve, 100))
  }
}

describe('tests/support/postgres', () => {
  it('started twice at once: two clusters of their own; stop() ends each and removes its folder', async () => {
    const [one, two] = await Promise.all([startPostgres(), startPostgres()])
    expect(one.port).not.toBe(two.port)
    expect(one.dir).not.toBe(two.dir)
    for (const server of [one, two]) {
      expect(await accepts(server.port)).toBe(true)
      expect(fs.existsSync(server.dir)).toBe(true)
    }
    await one.stop()
    expect(await accepts(one.port)).toBe(false)
    expect(fs.existsSync(one.dir)).toBe(false)
    expect(await accepts(two.port)).toBe(true)
    await two.stop()
    expect(await accepts(two.port)).toBe(false)
    expect(fs.existsSync(two.dir)).toBe(false)
  })

  it('a test process killed with SIGKILL leaves no server and no folder behind', async () => {
    const child = spawn(
      process.execPath,
      ['--import', 'tsx', '-e', `require(${JSON.stringify(harness)}).startPostgres().then((s) => { console.log(JSON.stringify({ dir: s.dir, port: s.port })); setInterval(() => {}, 1000) })`],
      { stdio: ['ignore', 'pipe', 'inherit'] },
    )
    const started = await new Promise<{ dir: string; port: number }>((resolve, reject) => {
      let out = ''
      child.stdout.on('data', (d) => {
        out += d
        if (out.includes('\n')) resolve(JSON.parse(out.split('\n')[0]!))
      })
      child.once('exit', (code) => reject(new Error(`the child exited (${code}) before its server started`)))
    })
    expect(await accepts(started.port)).toBe(true)
    child.kill('SIGKILL')
    await eventually(async () => !(await accepts(started.port)), 'the orphaned server stops')
    await eventually(() => !fs.existsSync(started.dir), 'its folder is removed')
  })
})
