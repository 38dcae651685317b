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

// Kamal's loading of a destination (Kamal::Configuration.load_raw_config): the base file, then
// config/deploy.<destination>.yml deep-merged over it, as ActiveSupport's Hash#deep_merge does:
// maps merge key by key, anything else (a list, a string) from the destination replaces.
function deepMerge(base: Record<string, unknown>, over: Record<string, unknown>): Record<string, unknown> {
  const merged: Record<string, unknown> = { ...base }
  for (const [key, value] of Object.entries(over)) {
    const mine = merged[key]
    const isMap = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v)
    merged[key] = isMap(mine) && isMap(value) ? deepMerge(mine, value) : value
  }
  return merged
}

describe('config/deploy.postgres.yml, the PostgreSQL destination', () => {
  const destination = parse(fs.readFileSync(path.join(root, 'config', 'deploy.postgres.yml'), 'utf8')) as Record<string, unknown>
  const merged = deepMerge(config, destination) as typeof config & { servers: { web: { hosts: string[] } }; proxy: { ssl: Record<string, string> } }
  // With a destination, Kamal's secrets come from .kamal/secrets-common and .kamal/secrets.<destination>.
  const secretsFiles = ['secrets-common', 'secrets.postgres'].map((f) => path.join(root, '.kamal', f)).filter((f) => fs.existsSync(f))
  const secrets = secretsFiles.map((f) => fs.readFileSync(f, 'utf8')).join('\n')

  it('adds no key Kamal 2 does not know, and sets nothing the base must keep (service, image, volume)', () => {
    expect(unknownKeys(destination, TOP_LEVEL)).toEqual([])
    expect(unknownKeys(merged, TOP_LEVEL)).toEqual([])
    expect(unknownKeys(merged.proxy, PROXY)).toEqual([])
    expect(Object.keys(merged.proxy.ssl).sort()).toEqual(['certificate_pem', 'private_key_pem'])
    for (const key of ['service', 'image', 'volumes', 'registry']) expect(destination).not.toHaveProperty(key)
  })

  it('runs two web hosts, with the certificate from secrets, since Let\'s Encrypt needs a single host', () => {
    expect(merged.servers.web.hosts).toHaveLength(2)
    expect(new Set(merged.servers.web.hosts).size).toBe(2)
    // Kamal refuses `ssl: true` without a host, and Let's Encrypt cannot answer for two hosts
    expect(merged.proxy.ssl).not.toBe(true)
    expect(merged.proxy.forward_headers).toBe(false)
    expect(merged.proxy.healthcheck.path).toBe('/up')
  })

  it('reaches the database through DATABASE_URL, a secret, and starts with the merged settings', () => {
    expect(merged.env.secret).toContain('DATABASE_URL')
    expect(Object.keys(merged.env.clear)).not.toContain('DATABASE_URL')
    // every secret of the base is still there: the destination's list replaces the base's whole
    for (const name of config.env.secret) expect(merged.env.secret).toContain(name)
    const env = parseEnv({
      ...Object.fromEntries(Object.entries(merged.env.clear).map(([k, v]) => [k, String(v)])),
      STRIPE_SECRET_KEY: 'sk_live_x',
      STRIPE_WEBHOOK_SECRET: 'whsec_x',
      DATABASE_URL: 'postgres://till:secret@db1:5432,db2:5432,db3:5432/till?target_session_attrs=read-write',
    })
    expect(env.databaseUrl?.hosts.map((h) => h.host)).toEqual(['db1', 'db2', 'db3'])
    expect(env.databaseUrl?.targetSessionAttrs).toBe('read-write')
  })

  it('finds every secret it names in the files Kamal reads for the destination, taken from the environment', () => {
    expect(secretsFiles.length).toBeGreaterThan(0)
    const named = [...merged.env.secret, ...merged.registry.password, ...Object.values(merged.proxy.ssl)]
    for (const name of named) expect(secrets).toMatch(new RegExp(`^${name}=\\$${name}$`, 'm'))
  })

  it('replaces the aliases that open the SQLite file with PostgreSQL ones, the console read-only', () => {
    expect(Object.keys(merged.aliases).sort()).toEqual(Object.keys(config.aliases).sort())
    for (const command of Object.values(merged.aliases)) {
      expect(command).toMatch(/^app exec .*--reuse /)
      expect(command).not.toMatch(/sqlite3|store\.sqlite3/)
    }
    expect(merged.aliases.sql).toMatch(/default_transaction_read_only=on.*psql \\"\$DATABASE_URL\\"/)
    // the dump is the one db/pg/backup.ts makes (the drill restores exactly that format)
    expect(merged.aliases.backup).toMatch(/pg_dump --dbname \\"\$DATABASE_URL\\" --format=custom --file \/app\/storage\/backups\/.* --no-password/)
    // the image carries psql and pg_dump, and the PostgreSQL migrations boot applies
    const dockerfile = fs.readFileSync(path.join(root, 'Dockerfile'), 'utf8')
    expect(dockerfile).toMatch(/postgresql-client-15/)
    expect(dockerfile).toMatch(/COPY --from=build \/app\/db\/pg\/migrations/)
  })
})
