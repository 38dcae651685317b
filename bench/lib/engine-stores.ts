import { spawn, type ChildProcess } from 'node:child_process'
import fs from 'node:fs'
import path from 'node:path'
import { performance } from 'node:perf_hooks'
import pg from 'pg'
import { openDatabase, setDb, STORE_FILE, type Db } from '@/db'
import * as changes from '@/db/catalog-changes'
import { postgresEngine } from '@/db/pg/steps'
// named so: React's hooks lint reads any use… call as a hook
import { transaction, usePostgres as runBodiesOn } from '@/db/tx'
import { submitActionForm } from '../../tests/support/server'
import { cpuMs, root, settle, treeCpuMs } from './processes'
import { percentiles } from './search-bench'
import type { Store } from './store'
import { sessionIdsOf, type PaymentsAt } from './webhook-bench'

// The built store measured on both engines through HTTP (`npm run bench -- --engine
// postgres`): what a shopper's request costs on SQLite and on PostgreSQL, and what two app
// servers on one PostgreSQL ingest together. The measures here take a store and give figures;
// bench/index.ts runs them in turns, one engine after the other, and prints the rows.

export type Engine = 'sqlite' | 'postgres'

// ---- the payments server every store of this part shares

export type Payments = PaymentsAt & { webhookSecret: string; process: ChildProcess; stop(): Promise<void> }

/**
 * The Stripe-compatible server in a process of its own (tests/support/stripe-server-cli.ts):
 * several app servers must read the same sessions, so they cannot each use the emulator built
 * into their own process, and in the bench's process it would share one event loop with the
 * load generator. No webhook address: the bench sends the events itself.
 */
export async function startPayments(): Promise<Payments> {
  const child = spawn(process.execPath, [path.join(root, 'node_modules', 'tsx', 'dist', 'cli.mjs'), path.join(root, 'tests', 'support', 'stripe-server-cli.ts')], {
    cwd: root,
    env: { ...process.env, NODE_ENV: 'production' },
    stdio: ['ignore', 'pipe', 'pipe'],
  })
  let output = ''
  const first = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`the payments server did not start in 60 s:\n${output}`)), 60_000)
    child.stdout!.on('data', (d) => {
      output += d
      const line = output.split('\n').find((l) => l.startsWith('{'))
      if (line && output.includes('\n')) {
        clearTimeout(timer)
        resolve(line)
      }
    })
    child.stderr!.on('data', (d) => (output += d))
    child.once('exit', (code) => {
      clearTimeout(timer)
      reject(new Error(`the payments server exited (${code}):\n${output}`))
    })
  })
  const at = JSON.parse(first) as { url: string; port: number; secretKey: string; webhookSecret: string }
  return {
    ...at,
    process: child,
    stop: () =>
      new Promise<void>((resolve) => {
        if (child.exitCode !== null || child.signalCode !== null) return resolve()
        const timer = setTimeout(() => child.kill('SIGKILL'), 10_000)
        child.once('exit', () => {
          clearTimeout(timer)
          resolve()
        })
        child.kill('SIGTERM')
      }),
  }
}

/** What an app server of this part is started with: payments from `payments`, on PostgreSQL when `databaseUrl` is given. */
export function storeEnv(payments: Payments, databaseUrl?: string): Record<string, string> {
  return {
    PAYMENTS: 'stripe',
    STRIPE_API_BASE: payments.url,
    STRIPE_SECRET_KEY: payments.secretKey,
    STRIPE_WEBHOOK_SECRET: payments.webhookSecret,
    ...(databaseUrl ? { DATABASE_URL: databaseUrl } : {}),
  }
}

/** The postmaster's pid, from its data folder (tests/support/postgres.ts keeps it in `dir/data`). */
export function postmasterPid(dir: string): number {
  return Number(fs.readFileSync(path.join(dir, 'data', 'postmaster.pid'), 'utf8').split('\n', 1)[0])
}

// ---- where the CPU goes

/** Processes whose CPU a measure reports: each name's pids, and whether to count their descendants. */
export type Watched = { name: string; pids: number[]; withChildren?: boolean }

/** CPU milliseconds used by each watched group between start() and the returned stop(). */
export function cpuWatch(groups: Watched[]): () => Map<string, number> {
  const read = (g: Watched) => g.pids.reduce((sum, pid) => sum + (g.withChildren ? treeCpuMs(pid) : cpuMs(pid)), 0)
  const before = groups.map(read)
  return () => new Map(groups.map((g, i) => [g.name, read(g) - before[i]!]))
}

/** Waits until every process named has gone quiet (bench/lib/processes.ts settle). */
export async function settleAll(pids: number[]): Promise<void> {
  for (const pid of pids) await settle(pid)
}

// ---- a shopper's cart

export type CartFigures = { shoppers: number; perSecond: number; p50: number; p99: number; failed: number }

/**
 * `shoppers` new visitors, `concurrency` at a time, each: the product page (from the response
 * cache), the add-to-cart form posted as a browser without JavaScript posts it (the server
 * action: a new cart, its cookie, the line), then the cart page with that cookie (rendered for
 * this cart, never cached). Timed from the first request to the cart page's last byte.
 */
export async function shopperCarts(store: Store, productSlug: string, shoppers: number, concurrency: number): Promise<CartFigures> {
  const times: number[] = []
  let failed = 0
  let next = 0
  const started = performance.now()
  const shopper = async () => {
    while (next < shoppers) {
      next++
      const t = performance.now()
      try {
        const added = await submitActionForm(store.url, `/products/${productSlug}`, 'name="productSlug"')
        await added.arrayBuffer()
        const cookie = added.headers
          .getSetCookie()
          .map((c) => c.split(';', 1)[0]!)
          .join('; ')
        if (added.status !== 303 || !cookie.includes('till_cart=')) throw new Error(`add to cart answered ${added.status}`)
        const view = await fetch(`${store.url}/cart`, { headers: { cookie } })
        const html = await view.text()
        if (!view.ok || !html.includes(`/products/${productSlug}`)) throw new Error(`the cart answered ${view.status} without the product`)
        times.push(performance.now() - t)
      } catch {
        failed++
      }
    }
  }
  await Promise.all(Array.from({ length: concurrency }, shopper))
  const seconds = (performance.now() - started) / 1000
  const { p50, p99 } = times.length ? percentiles(times) : { p50: NaN, p99: NaN }
  return { shoppers, perSecond: times.length / seconds, p50, p99, failed }
}

// ---- a page render that misses every cache

/**
 * Writes catalog edits into a store's database from this process, as another app server
 * would: the store hears them (SQLite: its poll of the file; PostgreSQL: LISTEN/NOTIFY) and
 * drops its cached pages and Next's cached catalog reads (lib/cache.ts).
 */
export type CatalogWriter = { edit(): Promise<void>; close(): Promise<void> }

export function catalogWriter(engine: Engine, store: Store, databaseUrl?: string): CatalogWriter {
  const origin = `bench-${process.pid}`
  let sqlite: Db | undefined
  let pool: pg.Pool | undefined
  let onPostgres: ReturnType<typeof postgresEngine> | undefined
  if (engine === 'sqlite') sqlite = openDatabase(path.join(store.storageDir, STORE_FILE))
  else {
    pool = new pg.Pool({ connectionString: databaseUrl, max: 1 })
    onPostgres = postgresEngine(pool)
  }
  return {
    async edit() {
      runBodiesOn(onPostgres)
      setDb(sqlite)
      try {
        await transaction(function* () {
          yield* changes.recordingCatalogChanged(origin, Date.now())
        })
      } finally {
        runBodiesOn(undefined)
        setDb(undefined)
      }
    },
    async close() {
      sqlite?.$client.close()
      await pool?.end()
    },
  }
}

export type RenderFigures = { times: number[]; misses: number; total: number }

// How long after an edit the bench waits before asking for a page: SQLite's store polls
// every half second, then refreshes Next's cache through a request to itself and drops what
// was rendered meanwhile a quarter of a second later (lib/cache.ts); PostgreSQL's hears the
// edit within milliseconds and does the same.
const HEARD_MS = 1_200

/**
 * One catalog edit, then each path asked for once, one at a time, each timed to its last
 * byte. A render counts as a miss when neither cache answered it: no `x-till-cache` (the
 * response cache passed it to Next) and Next rendered it afresh (`x-nextjs-cache` MISS, or none
 * on a page rendered per request), rather than sending its own copy (HIT, STALE).
 */
export async function rendersAfterEdit(store: Store, writer: CatalogWriter, paths: string[], into: RenderFigures): Promise<void> {
  await writer.edit()
  await new Promise((resolve) => setTimeout(resolve, HEARD_MS))
  for (const p of paths) {
    const t = performance.now()
    const res = await fetch(`${store.url}${p}`)
    await res.arrayBuffer()
    const ms = performance.now() - t
    into.total++
    if (!res.ok) throw new Error(`${p} answered ${res.status}`)
    const next = res.headers.get('x-nextjs-cache')
    if (res.headers.get('x-till-cache') === null && (next === null || next === 'MISS')) {
      into.misses++
      into.times.push(ms)
    }
  }
}

// ---- search through the store's route

// Any request header the response cache does not know sends the request to Next and keeps
// nothing (server/response-cache.ts): every search is rendered, as a new query would be.
const UNCACHED = { 'x-bench': 'uncached' }

/** One `/search?q=` page rendered by the store for `query`, timed to its last byte. */
export async function searchRoute(store: Store, query: string): Promise<number> {
  const t = performance.now()
  const res = await fetch(`${store.url}/search?q=${encodeURIComponent(query)}`, { headers: UNCACHED })
  await res.arrayBuffer()
  if (!res.ok || res.headers.get('x-till-cache') !== null) throw new Error(`/search?q=${query} answered ${res.status} ${res.headers.get('x-till-cache') ?? ''}`)
  return performance.now() - t
}

// ---- the alternation

/**
 * The engines' order in each round: SQLite first in odd rounds, PostgreSQL first in even
 * ones, so neither always measures right after the other's load.
 */
export function turnOrder(round: number): Engine[] {
  return round % 2 === 0 ? ['sqlite', 'postgres'] : ['postgres', 'sqlite']
}

/** PostgreSQL's figure over SQLite's, as the table prints ratios; NaN when either is missing. */
export function ratioOf(postgres: number, sqlite: number): number {
  return Number.isFinite(postgres) && Number.isFinite(sqlite) && sqlite > 0 ? postgres / sqlite : NaN
}

/** How many of the events' sessions have their order in the PostgreSQL database at `url`. */
export async function ordersOnPostgres(url: string, payloads: string[]): Promise<number> {
  const pool = new pg.Pool({ connectionString: url, max: 1 })
  try {
    const { rows } = await pool.query<{ n: string }>('SELECT count(*) AS n FROM orders WHERE stripe_checkout_session_id = ANY($1)', [sessionIdsOf(payloads)])
    return Number(rows[0]!.n)
  } finally {
    await pool.end()
  }
}
