// A hash of every file the build reads, written by postbuild beside a build that passed its
// checks (.next/till-build-stamp) and compared by scripts/build-if-stale.mjs.
import crypto from 'node:crypto'
import fs from 'node:fs'
import path from 'node:path'

const root = process.cwd()
export const stampFile = path.join(root, '.next', 'till-build-stamp')
const inputs = ['app', 'lib', 'db', 'emulator', 'public', 'scripts', 'instrumentation.ts', 'proxy.ts', 'next.config.ts', 'postcss.config.mjs', 'tsconfig.json', 'package.json', 'package-lock.json']

export function sourceHash() {
  const hash = crypto.createHash('sha256')
  const add = (rel) => {
    const full = path.join(root, rel)
    if (!fs.existsSync(full)) return
    const stat = fs.statSync(full)
    if (stat.isDirectory()) {
      for (const name of fs.readdirSync(full).sort()) add(path.join(rel, name))
    } else {
      hash.update(`${rel}\0`)
      hash.update(fs.readFileSync(full))
    }
  }
  for (const input of inputs) add(input)
  hash.update(`node ${process.version}`)
  return hash.digest('hex')
}

