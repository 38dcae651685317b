// The standalone server serves .next/static and public/ only when they sit beside it.
import fs from 'node:fs'
import path from 'node:path'

const root = process.cwd()
const standalone = path.join(root, '.next', 'standalone')
if (!fs.existsSync(path.join(standalone, 'server.js'))) {
  console.error('postbuild: .next/standalone/server.js is missing; is output: "standalone" set?')
  process.exit(1)
}
fs.rmSync(path.join(standalone, '.next', 'static'), { recursive: true, force: true })
fs.cpSync(path.join(root, '.next', 'static'), path.join(standalone, '.next', 'static'), { recursive: true })
if (fs.existsSync(path.join(root, 'public'))) {
  fs.cpSync(path.join(root, 'public'), path.join(standalone, 'public'), { recursive: true })
}
console.log('postbuild: copied static assets into .next/standalone')
