// A hash of every file the build reads, written by postbuild beside a build that passed its
// checks (.next/till-build-stamp) and compared by scripts/build-if-stale.mjs. Every function
// takes the project's root (the current folder by default), so a test can point it at a copy.
import crypto from 'node:crypto'
import fs from 'node:fs'
import path from 'node:path'

const inputs = ['app', 'lib', 'server', 'db', 'demo', 'emulator', 'public', 'scripts', 'instrumentation.ts', 'proxy.ts', 'next.config.ts', 'postcss.config.mjs', 'tsconfig.json', 'package.json', 'package-lock.json']

export function stampFile(root = process.cwd()) {
  return path.join(root, '.next', 'till-build-stamp')
}

export function sourceHash(root = process.cwd()) {
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

/** The build in root/.next is complete and was made from the sources as they are now. */
export function isBuildCurrent(root = process.cwd()) {
  const file = stampFile(root)
  const built = fs.existsSync(file) ? fs.readFileSync(file, 'utf8').trim() : ''
  return built === sourceHash(root) && fs.existsSync(path.join(root, '.next', 'standalone', 'server.js'))
}

export function writeStamp(root = process.cwd()) {
  fs.writeFileSync(stampFile(root), `${sourceHash(root)}\n`)
}
