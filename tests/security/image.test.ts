import { execFile, spawnSync } from 'node:child_process'
import fs from 'node:fs'
import http from 'node:http'
import path from 'node:path'
import { afterEach, describe, expect, it } from 'vitest'
import { freePort, tempStorage } from '../support/server'

// What the image must never carry, and the health check it runs: secrets stay out of the
// build context and out of the standalone output, and the check asks the port the app is
// told to listen on.

const root = path.resolve(__dirname, '..', '..')
const dockerfile = fs.readFileSync(path.join(root, 'Dockerfile'), 'utf8')

/** The paths of the build context `docker build .` would send, per .dockerignore (its simple globs). */
function ignored(relative: string): boolean {
  const patterns = fs
    .readFileSync(path.join(root, '.dockerignore'), 'utf8')
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => l && !l.startsWith('#'))
  return patterns.some((pattern) => {
    const re = new RegExp(
      '^' +
        pattern
          .replace(/[.+^${}()|[\]\\]/g, '\\$&')
          .replace(/\*\*\//g, '(?:.*/)?')
          .replace(/\*/g, '[^/]*') +
        '(?:/.*)?$',
    )
    return re.test(relative)
  })
}

const dirs: string[] = []
let server: http.Server | undefined
afterEach(async () => {
  for (const dir of dirs.splice(0)) fs.rmSync(dir, { recursive: true, force: true })
  await new Promise((resolve) => (server ? server.close(resolve) : resolve(undefined)))
  server = undefined
})

describe('the image', () => {
  it('leaves every .env file out of the build context', () => {
    for (const file of ['.env', '.env.production', '.env.local', 'app/.env', 'deploy/.env.staging']) expect(ignored(file), file).toBe(true)
    expect(ignored('lib/env.ts')).toBe(false)
    expect(ignored('package.json')).toBe(false)
  })

  it('postbuild refuses a standalone output that holds a .env file', () => {
    const dir = tempStorage('till-postbuild-')
    dirs.push(dir)
    fs.mkdirSync(path.join(dir, '.next', 'standalone'), { recursive: true })
    fs.mkdirSync(path.join(dir, '.next', 'server'), { recursive: true })
    fs.writeFileSync(path.join(dir, '.next', 'standalone', 'server.js'), '')
    fs.writeFileSync(path.join(dir, '.next', 'standalone', '.env.production'), 'STRIPE_SECRET_KEY=sk_live_secret\n')
    const run = spawnSync(process.execPath, [path.join(root, 'scripts', 'postbuild.mjs')], { cwd: dir, encoding: 'utf8', env: { PATH: process.env.PATH ?? '', NODE_ENV: 'production' } })
    expect(run.status).toBe(1)
    expect(run.stderr).toContain('.env.production')
  })

  it('health-checks the port in $PORT', async () => {
    const line = dockerfile.split('\n').find((l) => l.startsWith('HEALTHCHECK'))!
    const command = line.slice(line.indexOf(' CMD ') + 5)
    expect(command).not.toMatch(/:3000\b/)
    const port = await freePort()
    server = http.createServer((req, res) => res.writeHead(req.url === '/up' ? 200 : 404).end())
    await new Promise<void>((resolve) => server!.listen(port, '127.0.0.1', resolve))
    // Docker runs a shell-form CMD with /bin/sh -c, in the container's environment.
    // Async: this process is the server the check talks to.
    const code = await new Promise<number>((resolve) => execFile('/bin/sh', ['-c', command], { env: { PATH: process.env.PATH ?? '', NODE_ENV: 'production', PORT: String(port) } }, (err) => resolve(err ? Number(err.code ?? 1) : 0)))
    expect(code).toBe(0)
  })
})
