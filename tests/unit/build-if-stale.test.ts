import { spawnSync } from 'node:child_process'
import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'

// `npm run demo` starts with scripts/build-if-stale.mjs: it reuses a build stamped for the
// sources as they are and builds again when anything the build reads has changed. Run here,
// as npm runs it, in a small project whose `npm run build` only counts its runs and stamps
// the result the way scripts/postbuild.mjs does.

const repo = path.resolve(__dirname, '..', '..')
const stampModule = path.join(repo, 'scripts', 'build-stamp.mjs')
let project: string

beforeEach(() => {
  project = fs.mkdtempSync(path.join(os.tmpdir(), 'till-stale-'))
  const build = [
    `const fs = require('fs');`,
    `fs.appendFileSync('builds', 'x');`,
    `fs.mkdirSync('.next/standalone', { recursive: true });`,
    `fs.writeFileSync('.next/standalone/server.js', '');`,
  ].join(' ')
  fs.writeFileSync(
    path.join(project, 'package.json'),
    JSON.stringify({ name: 'stale-check', private: true, scripts: { build: `node -e "${build}" && node --input-type=module -e "import('${stampModule}').then((m) => m.writeStamp())"` } }),
  )
  fs.mkdirSync(path.join(project, 'app'))
  fs.writeFileSync(path.join(project, 'app', 'page.tsx'), 'export default function Page() { return null }\n')
  fs.mkdirSync(path.join(project, 'demo'))
  fs.writeFileSync(path.join(project, 'demo', 'catalog.ts'), 'export const PRODUCTS = []\n')
})
afterEach(() => fs.rmSync(project, { recursive: true, force: true }))

function demoStart(): string {
  const run = spawnSync(process.execPath, [path.join(repo, 'scripts', 'build-if-stale.mjs')], { cwd: project, encoding: 'utf8', env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '/tmp', NODE_ENV: 'production' } })
  expect(run.status, run.stderr).toBe(0)
  return run.stdout
}
const builds = () => (fs.existsSync(path.join(project, 'builds')) ? fs.readFileSync(path.join(project, 'builds'), 'utf8').length : 0)

describe('build-if-stale', { timeout: 60_000 }, () => {
  it('builds when there is no build, then reuses it while the sources are unchanged', () => {
    demoStart()
    expect(builds()).toBe(1)
    expect(demoStart()).toMatch(/the build is up to date with the sources/)
    expect(demoStart()).toMatch(/up to date/)
    expect(builds()).toBe(1)
  })

  it('builds again when a source the build reads changes, the demo catalog included', () => {
    demoStart()
    fs.writeFileSync(path.join(project, 'app', 'page.tsx'), 'export default function Page() { return "changed" }\n')
    demoStart()
    expect(builds()).toBe(2)
    fs.writeFileSync(path.join(project, 'demo', 'catalog.ts'), 'export const PRODUCTS = [1]\n')
    demoStart()
    expect(builds()).toBe(3)
    demoStart()
    expect(builds()).toBe(3)
  })

  it('builds again when the build is incomplete or its stamp is missing', () => {
    demoStart()
    fs.rmSync(path.join(project, '.next', 'standalone', 'server.js'))
    demoStart()
    expect(builds()).toBe(2)
    fs.rmSync(path.join(project, '.next', 'till-build-stamp'))
    demoStart()
    expect(builds()).toBe(3)
  })
})
