// `npm run demo` builds only when the build is missing or older than the sources: a restart
// (to add an admin, to change a setting) should not cost a full build. Any other difference
// (no stamp, another hash, no server) builds again.
import { spawnSync } from 'node:child_process'
import { isBuildCurrent } from './build-stamp.mjs'

if (isBuildCurrent()) {
  console.log('demo: the build is up to date with the sources; starting it (delete .next to force a build)')
} else {
  const run = spawnSync('npm', ['run', 'build'], { stdio: 'inherit' })
  if (run.status !== 0) process.exit(run.status ?? 1)
}
