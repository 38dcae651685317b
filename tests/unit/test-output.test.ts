import { spawn } from 'node:child_process'
import path from 'node:path'
import { describe, expect, it } from 'vitest'

// What `npm test` prints into a CI log is read as text: Vitest's colour codes (it colours
// whenever TERM is set, terminal or not) made it escape soup. package.json's test:unit adds
// --no-color unless stderr is a terminal (stdout is not the script's own inside $(…)).

const root = path.resolve(__dirname, '..', '..')

describe('npm run test:unit, off the terminal', { timeout: 120_000 }, () => {
  it('prints no colour codes', async () => {
    const { code, output } = await new Promise<{ code: number | null; output: string }>((resolve) => {
      const child = spawn('npm', ['run', '--silent', 'test:unit', '--', 'tests/unit/money.test.ts'], {
        cwd: root,
        env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '/tmp', TERM: 'xterm-256color', NODE_ENV: 'test' },
        stdio: ['ignore', 'pipe', 'pipe'],
      })
      let output = ''
      child.stdout.on('data', (d) => (output += d))
      child.stderr.on('data', (d) => (output += d))
      child.once('exit', (exit) => resolve({ code: exit, output }))
    })
    expect(code, output).toBe(0)
    expect(output).toMatch(/money\.test\.ts/)
    expect(output).not.toContain('\u001b[')
  })
})
