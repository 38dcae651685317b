// `npm run demo` builds only when the build is missing or older than the sources: a restart
// (to add an admin, to change a setting) should not cost a full build. Any other difference
// (no stamp, another hash, no server) builds again.
import { spawnSync } from 'node:child_process'
import fs from 'node:fs'
import path from 'node:path'
import { sourceHash, stampFile } from './build-stamp.mjs'

const current = sourceHash()
const built = fs.existsSync(stampFile) ? fs.readFileSync(stampFile, 'utf8').trim() : ''
if (built === current && fs.existsSync(path.join(process.cwd(), '.next', 'standalone', 'server.js'))) {
  console.log('demo: the build is up to date with the sources; starting it (delete .next to force a build)')
} else {
  const run = spawnSync('npm', ['run', 'build'], { stdio: 'inherit' })
  if (run.status !== 0) process.exit(run.status ?? 1)
}
