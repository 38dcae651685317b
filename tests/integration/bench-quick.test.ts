import { spawn } from 'node:child_process'
import path from 'node:path'
import { expect, it } from 'vitest'
import { withoutSuitePostgres } from '../support/suite-database'

// The bench's smoke run (npm run bench -- --quick) against the build `npm test` made: every
// row of the table is there and nothing in it errored. Timings are not judged here; the
// quick run's loads are far too small to mean anything.

const root = path.resolve(__dirname, '..', '..')

const ROWS = [
  'home (/) req/s vs minimal static',
  'collection (/collections/',
  'product (/products/',
  'listing (/products?sort=',
  'search (/search?q=',
  'cart (new visitor) req/s vs minimal dynamic',
  ...['home', 'collection', 'product', 'listing', 'search', 'cart'].flatMap((page) => [`${page} req/s vs raw node:http`, `first-load JS (gzip), ${page}`]),
  'product page HTML',
  ...['home', 'product', 'listing', 'cart'].map((page) => `Lighthouse mobile, ${page}`),
  'boot to healthy',
  'RSS after',
  'browsing while selling 1 order/s',
  'browsing while selling 5 orders/s',
  'browsing beside a second process writing carts and jobs',
  'webhook ingest (signed',
  'webhook ingest vs a raw route making the same Stripe read',
  'graceful shutdown',
  'search p50 at',
  'search p99 at',
  'commit: synchronous=FULL vs NORMAL',
  'commit: paid order recorded',
  'commit: duplicate delivery',
]

async function quickBench(...flags: string[]): Promise<string[]> {
  const child = spawn(process.execPath, [path.join(root, 'node_modules', 'tsx', 'dist', 'cli.mjs'), '--conditions=react-server', 'bench/index.ts', '--quick', ...flags], {
    cwd: root,
    // the bench chooses its engines itself, whatever engine the suite runs on (decision 050)
    env: { ...withoutSuitePostgres(process.env), LOG_LEVEL: 'silent' },
    stdio: ['ignore', 'pipe', 'pipe'],
  })
  let stdout = ''
  let stderr = ''
  child.stdout.on('data', (d) => (stdout += d))
  child.stderr.on('data', (d) => (stderr += d))
  const code = await new Promise<number | null>((resolve) => child.on('exit', resolve))
  expect(code, `${stdout}\n${stderr}`).toBe(0)

  const tableRows = stdout.split('\n').filter((line) => line.startsWith('| ') && !line.startsWith('| measure |'))
  const results = tableRows.map((line) => line.split(' | ').at(-1)!.replace(/ \|$/, ''))
  expect(results.filter((r) => r === 'error'), stdout).toEqual([])
  // Quick figures are never judged: a smoke run cannot pass or fail a budget.
  expect(results.filter((r) => /PASS|FAIL/.test(r))).toEqual([])
  return tableRows
}

it('the quick bench prints every row of the table and exits 0', async () => {
  const tableRows = await quickBench()
  for (const measure of ROWS) expect(tableRows.filter((line) => line.startsWith(`| ${measure}`)), measure).not.toHaveLength(0)
}, 180_000)

it('--engine postgres prints every row on both engines, beside a PostgreSQL it starts, and exits 0', async () => {
  const tableRows = await quickBench('--engine', 'postgres')
  const inProcess = ['search p50 at', 'search p99 at', 'a write transaction (order note', 'write transactions from 8 connections', 'moving the store into PostgreSQL']
  for (const measure of inProcess) expect(tableRows.filter((line) => line.startsWith(`| ${measure}`) && /PostgreSQL|rows/.test(line) && line.endsWith('| info |')), measure).toHaveLength(1)
  // the built store on each engine, through HTTP: each row gives both engines' figures and a ratio
  const throughStores = [
    "a shopper's cart",
    'a product page render that misses every cache',
    'a listing render that misses every cache',
    'search p50 through the store',
    'search p99 through the store',
    'webhook ingest (signed checkout.session.completed → order) on one app server',
  ]
  for (const measure of throughStores) {
    const row = tableRows.filter((line) => line.startsWith(`| ${measure}`))
    expect(row, measure).toHaveLength(1)
    expect(row[0], measure).toMatch(/\| PostgreSQL [^|]*\d[^|]* \| SQLite [^|]*\d[^|]* \| \d+\.\d\d× \| – \| info \|$/)
  }
  // the renders missed both caches (neither answered them), and the carts all held their product
  for (const measure of ['a product page render', 'a listing render']) expect(tableRows.find((line) => line.startsWith(`| ${measure}`)), measure).not.toMatch(/\b0 of \d+ renders missed/)
  expect(tableRows.find((line) => line.startsWith("| a shopper's cart"))).not.toMatch(/failed/)
  // two app servers on the one PostgreSQL, against one and against SQLite on one
  for (const measure of ['webhook ingest: two app servers on one PostgreSQL vs one', 'webhook ingest: two app servers on one PostgreSQL vs SQLite on one']) {
    expect(tableRows.filter((line) => line.startsWith(`| ${measure}`) && /two servers/.test(line) && /\d+\.\d\d× \| – \| info \|$/.test(line)), measure).toHaveLength(1)
  }
  expect(tableRows.filter((line) => /skipped/.test(line))).toEqual([])
}, 480_000)
