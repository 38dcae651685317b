import fs from 'node:fs'
import path from 'node:path'
import { afterEach, describe, expect, it } from 'vitest'
import { parse } from 'yaml'
import { GET as up } from '@/app/up/route'
import { parseEnv } from '@/lib/env'
import { freshDb, type TestDb } from '../support/db'

// config/deploy.yml as Kamal 2 reads it: no key Kamal does not know (Kamal refuses to
// deploy on one), the volume where the app keeps its data, a health check that answers, and
// timeouts that let the old release finish its work.

const root = path.resolve(__dirname, '..', '..')
const config = parse(fs.readFileSync(path.join(root, 'config', 'deploy.yml'), 'utf8')) as Record<string, unknown> & {
  proxy: Record<string, unknown> & { healthcheck: Record<string, number | string>; buffering: Record<string, number | boolean>; response_timeout: number }
  env: { clear: Record<string, string | number>; secret: string[] }
  volumes: string[]
  registry: { password: string[] }
  aliases: Record<string, string>
  deploy_timeout: number
  drain_timeout: number
  stop_timeout: number
}

// Kamal 2.12's configuration reference: the top-level keys and the proxy keys it knows.
const TOP_LEVEL = ['service', 'image', 'labels', 'volumes', 'registry', 'servers', 'env', 'asset_path', 'hooks_path', 'hooks_output', 'secrets_path', 'error_pages_path', 'require_destination', 'primary_role', 'allow_empty_roles', 'retain_containers', 'minimum_version', 'readiness_delay', 'deploy_timeout', 'drain_timeout', 'stop_timeout', 'run_directory', 'ssh', 'builder', 'accessories', 'proxy', 'sshkit', 'boot', 'logging', 'output', 'aliases']
const PROXY = ['host', 'hosts', 'app_port', 'ssl', 'ssl_redirect', 'forward_headers', 'response_timeout', 'path_prefix', 'path_prefixes', 'strip_path_prefix', 'healthcheck', 'buffering', 'logging', 'run']
const HEALTHCHECK = ['path', 'interval', 'timeout']
const BUFFERING = ['requests', 'responses', 'max_request_body', 'max_response_body', 'memory']

// The job worker's graceful-shutdown bound: on SIGTERM the running job gets this long.
const SHUTDOWN_BOUND_SECONDS = 25
// Room for the process to exit after that job, and for clock and scheduling slop.
const MARGIN_SECONDS = 10

const unknownKeys = (object: Record<string, unknown>, known: string[]) => Object.keys(object).filter((k) => !known.includes(k))

let t: TestDb | undefined
afterEach(() => {
  t?.close()
  t = undefined
})

describe('config/deploy.yml', () => {
  it('has no key outside what Kamal 2 knows, at the top level and under proxy', () => {
    expect(unknownKeys(config, TOP_LEVEL)).toEqual([])
    expect(unknownKeys(config.proxy, PROXY)).toEqual([])
    expect(unknownKeys(config.proxy.healthcheck, HEALTHCHECK)).toEqual([])
    expect(unknownKeys(config.proxy.buffering, BUFFERING)).toEqual([])
    expect(config).not.toHaveProperty('stop_wait_time')
  })

  it('mounts the one volume at STORAGE_DIR, as the app and the image resolve it', () => {
    expect(config.volumes).toHaveLength(1)
    const [, containerPath] = config.volumes[0]!.split(':')
    expect(containerPath).toBe(config.env.clear.STORAGE_DIR)
    const secrets = { STRIPE_SECRET_KEY: 'sk_live_x', STRIPE_WEBHOOK_SECRET: 'whsec_x', ADMIN_EMAIL: 'owner@example.com', ADMIN_PASSWORD: 'a-long-password', SMTP_URL: 'smtp://mail.example.com:587' }
    const env = parseEnv({ ...Object.fromEntries(Object.entries(config.env.clear).map(([k, v]) => [k, String(v)])), ...secrets })
    expect(env.storageDir).toBe(containerPath)
    expect(fs.readFileSync(path.join(root, 'Dockerfile'), 'utf8')).toMatch(new RegExp(`STORAGE_DIR=${containerPath}\\b`))
  })

  it('health-checks a path that answers 200 in the app', async () => {
    t = freshDb()
    const route = path.join(root, 'app', ...String(config.proxy.healthcheck.path).split('/').filter(Boolean), 'route.ts')
    expect(fs.existsSync(route)).toBe(true)
    expect(config.proxy.healthcheck.path).toBe('/up')
    const res = await up(new Request('http://127.0.0.1/up'))
    expect(res.status).toBe(200)
    expect(((await res.json()) as { status: string }).status).toBe('ok')
  })

  it('gives the old release longer than its graceful shutdown, and requests longer than none of it', () => {
    expect(config.stop_timeout).toBeGreaterThanOrEqual(SHUTDOWN_BOUND_SECONDS + MARGIN_SECONDS)
    expect(config.drain_timeout).toBeGreaterThanOrEqual(SHUTDOWN_BOUND_SECONDS + MARGIN_SECONDS)
    // a request the proxy still waits for can finish within the drain
    expect(config.proxy.response_timeout).toBeLessThanOrEqual(config.drain_timeout)
    // the health check gets several tries before the deploy gives up
    expect(Number(config.proxy.healthcheck.timeout)).toBeLessThan(config.deploy_timeout)
    expect(Number(config.proxy.healthcheck.interval) * 10).toBeLessThanOrEqual(config.deploy_timeout)
  })

  it('says whether the proxy forwards client headers, and trusts X-Forwarded-For only from the proxy', () => {
    // Explicit, never Kamal's default (which flips with ssl): with TLS at kamal-proxy it
    // writes the client's address itself and must not pass on what a client sent.
    expect(config.proxy).toHaveProperty('forward_headers')
    expect(config.proxy.forward_headers).toBe(config.proxy.ssl === true ? false : true)
    const env = parseEnv({ ...Object.fromEntries(Object.entries(config.env.clear).map(([k, v]) => [k, String(v)])), STRIPE_SECRET_KEY: 'sk_live_x', STRIPE_WEBHOOK_SECRET: 'whsec_x' })
    // kamal-proxy reaches the app over Docker's bridge networks (172.16.0.0/12), never from a public address
    expect(env.trustedProxies).toEqual(['172.16.0.0/12'])
  })

  it('lets through the proxy no body larger than the largest the store takes (a product picture)', () => {
    // A product picture (10 MB) plus its form; the app caps everything else at 1 MB itself.
    expect(config.proxy.buffering.max_request_body).toBe(11_000_000)
  })

  it('has aliases that run inside the live container: shell, read-only SQL, reconcile, backup, the first admin, unlock', () => {
    expect(Object.keys(config.aliases).sort()).toEqual(['admin-create', 'backup', 'reconcile', 'shell', 'sql', 'unlock'])
    expect(config.aliases.unlock).toContain('.next/standalone/ops/admin-unlock.cjs')
    expect(fs.existsSync(path.join(root, 'scripts', 'admin-unlock.ts'))).toBe(true)
    for (const command of Object.values(config.aliases)) expect(command).toMatch(/^app exec .*--reuse /)
    expect(config.aliases.sql).toMatch(/sqlite3 -readonly .*\/app\/storage\/store\.sqlite3/)
    // the bundled scripts they call are built from these sources (npm run build:ops)
    for (const name of ['reconcile', 'backup', 'admin-create']) {
      expect(config.aliases[name]).toContain(`.next/standalone/ops/${name}.cjs`)
      expect(fs.existsSync(path.join(root, 'scripts', `${name}.ts`))).toBe(true)
      expect(fs.readFileSync(path.join(root, 'scripts', 'bundle-ops.mjs'), 'utf8')).toContain(`'${name}'`)
    }
    // it asks for the password, so it needs a terminal
    expect(config.aliases['admin-create']).toMatch(/--interactive/)
  })

  it('keeps no admin password in the container: the first admin comes from admin-create, run once', () => {
    expect(config.env.secret).not.toContain('ADMIN_PASSWORD')
    expect(config.env.secret).not.toContain('ADMIN_EMAIL')
    expect(fs.readFileSync(path.join(root, '.kamal', 'secrets'), 'utf8')).not.toMatch(/ADMIN_/)
  })

  it('reads every secret from .kamal/secrets, which takes them from the environment', () => {
    const secrets = fs.readFileSync(path.join(root, '.kamal', 'secrets'), 'utf8')
    for (const name of [...config.env.secret, ...config.registry.password]) expect(secrets).toMatch(new RegExp(`^${name}=\\$${name}$`, 'm'))
  })
})
