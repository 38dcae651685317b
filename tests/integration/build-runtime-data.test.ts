import { spawn, spawnSync } from 'node:child_process'
import crypto from 'node:crypto'
import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { afterAll, beforeAll, describe, expect, it, inject } from 'vitest'

// The build must never carry runtime data: on a machine that has run the store, ./storage
// holds the live database, the emulator's keys, customers' mail and uploads, and a build that
// traced them would copy them into .next/standalone (and into an image). This builds a copy
// of the project after a store has written its ./storage, as `npm run demo` and `npm test` do
// on a second run in one checkout, and looks at the result itself rather than trusting
// scripts/postbuild.mjs's own check.

const repo = path.resolve(__dirname, '..', '..')
let project: string
let build: { code: number | null; output: string }
const runtimeFiles: Record<string, Buffer> = {}

/** The project's files as git sees them (tracked, and new ones not ignored), from the working tree. */
function copyProject(to: string): void {
  const listed = spawnSync('git', ['ls-files', '-z', '--cached', '--others', '--exclude-standard'], { cwd: repo, encoding: 'utf8' })
  if (listed.status !== 0) throw new Error(`git ls-files failed: ${listed.stderr}`)
  for (const rel of listed.stdout.split('\0').filter(Boolean)) {
    const from = path.join(repo, rel)
    if (!fs.existsSync(from) || rel.startsWith('storage/')) continue
    fs.mkdirSync(path.dirname(path.join(to, rel)), { recursive: true })
    fs.copyFileSync(from, path.join(to, rel))
  }
  // node_modules as hard links: a copy in seconds. Turbopack refuses a node_modules that is a
  // symlink out of the project, so a link of the folder itself will not do.
  const linked = spawnSync('cp', ['-al', path.join(repo, 'node_modules'), path.join(to, 'node_modules')])
  if (linked.status !== 0) fs.cpSync(path.join(repo, 'node_modules'), path.join(to, 'node_modules'), { recursive: true, verbatimSymlinks: true })
}

/** What a store that has run leaves in ./storage: each file marked so a copy of it is recognised. */
function writeStorage(storage: string): void {
  const marker = crypto.randomBytes(16).toString('hex')
  const files: Record<string, Buffer> = {
    'store.sqlite3': fs.readFileSync(inject('templateDb')),
    'store.sqlite3-wal': Buffer.from(`wal ${marker}`),
    'emulator-keys.json': Buffer.from(JSON.stringify({ secretKey: `sk_test_${marker}`, webhookSecret: `whsec_${marker}` })),
    'mail/order-1-confirmation.eml': Buffer.from(`Subject: Your order\n\n${marker}\n`),
    'uploads/products/x.jpg': Buffer.from(`jpeg ${marker}`),
    'uploads/products/harbor-rain-jacket/1.svg': Buffer.from(`<svg>${marker}</svg>`),
    'backups/store-2026-01-01.sqlite3': Buffer.from(`backup ${marker}`),
  }
  for (const [rel, body] of Object.entries(files)) {
    fs.mkdirSync(path.dirname(path.join(storage, rel)), { recursive: true })
    fs.writeFileSync(path.join(storage, rel), body)
    runtimeFiles[rel] = body
  }
}

function walk(dir: string, into: string[] = []): string[] {
  for (const entry of fs.readdirSync(dir, { withFileTypes: true })) {
    const full = path.join(dir, entry.name)
    if (entry.isDirectory()) walk(full, into)
    else into.push(full)
  }
  return into
}

beforeAll(async () => {
  project = fs.mkdtempSync(path.join(os.tmpdir(), 'till-build-'))
  copyProject(project)
  writeStorage(path.join(project, 'storage'))
  build = await new Promise((resolve) => {
    const child = spawn('npm', ['run', 'build'], { cwd: project, env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '/tmp', NODE_ENV: 'production', NEXT_TELEMETRY_DISABLED: '1', NO_COLOR: '1' }, stdio: ['ignore', 'pipe', 'pipe'] })
    let output = ''
    child.stdout.on('data', (d) => (output += d))
    child.stderr.on('data', (d) => (output += d))
    child.once('exit', (code) => resolve({ code, output }))
  })
}, 600_000)
afterAll(() => {
  if (project) fs.rmSync(project, { recursive: true, force: true })
})

describe('a build in a checkout whose store has run', { timeout: 60_000 }, () => {
  it('succeeds, and explains the ⨯ Next prints for an experimental option turned off', () => {
    expect(build.code, build.output.slice(-3000)).toBe(0)
    if (build.output.includes('⨯ isrFlushToDisk')) expect(build.output).toContain('"⨯ isrFlushToDisk" above is not an error')
  })

  it('copies no runtime file into .next/standalone', () => {
    const standalone = path.join(project, '.next', 'standalone')
    expect(fs.existsSync(path.join(standalone, 'server.js'))).toBe(true)
    expect(fs.existsSync(path.join(standalone, 'storage'))).toBe(false)
    const own = walk(standalone).filter((f) => !f.includes(`${path.sep}node_modules${path.sep}`))
    expect(own.filter((f) => /\.sqlite3(-wal|-shm)?$|emulator-keys\.json$|\.eml$|^\.env/.test(path.basename(f)))).toEqual([])
    // and no file in it, under any name, is one of the store's files
    const sizes = new Set(Object.values(runtimeFiles).map((b) => b.length))
    const copies = own.filter((f) => sizes.has(fs.statSync(f).size) && Object.values(runtimeFiles).some((b) => b.equals(fs.readFileSync(f))))
    expect(copies).toEqual([])
  })

  it('names no runtime file in any trace list', () => {
    const storage = path.join(project, 'storage')
    const traces = walk(path.join(project, '.next')).filter((f) => f.endsWith('.nft.json') && !f.includes(`${path.sep}standalone${path.sep}`))
    expect(traces.length).toBeGreaterThan(10)
    const traced = traces.flatMap((trace) =>
      (JSON.parse(fs.readFileSync(trace, 'utf8')) as { files: string[] }).files.map((f) => path.resolve(path.dirname(trace), f)).filter((f) => f === storage || f.startsWith(storage + path.sep)).map((f) => `${path.relative(project, trace)}: ${path.relative(project, f)}`),
    )
    expect(traced).toEqual([])
  })
})
