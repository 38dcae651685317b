import { spawn } from 'node:child_process'
import path from 'node:path'

const root = path.resolve(__dirname, '..', '..')

/**
 * `npm run <script> -- args` from the repository root, as an operator would type it, with only
 * the variables given (plus PATH and HOME). Async, because the calling test process may be
 * serving the Stripe API the script talks to.
 */
export function npmRun(script: string, args: string[], env: Record<string, string>): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const child = spawn('npm', ['run', '--silent', script, ...(args.length ? ['--', ...args] : [])], { cwd: root, env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '/tmp', NODE_ENV: 'production', LOG_LEVEL: 'warn', ...env }, stdio: ['ignore', 'pipe', 'pipe'] })
    let stdout = ''
    let stderr = ''
    child.stdout.on('data', (d) => (stdout += d))
    child.stderr.on('data', (d) => (stderr += d))
    child.once('exit', (code) => resolve({ code, stdout, stderr }))
  })
}
