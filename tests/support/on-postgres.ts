import { spawn } from 'node:child_process'
import { startPostgres } from './postgres'
import { SUITE_POSTGRES } from './suite-database'

// `npm run test:postgres [-- script…]`: the suites with every store on PostgreSQL (decision
// 050). Runs the npm scripts named (the unit and integration tests, then the browser suite, by
// default) with DATABASE_URL set: the caller's own, or a PostgreSQL started here from Debian's
// binaries for the run and stopped after it.

const scripts = process.argv.slice(2).length ? process.argv.slice(2) : ['test:unit', 'test:e2e']

async function main(): Promise<number> {
  const server = SUITE_POSTGRES ? undefined : await startPostgres({ settings: { max_connections: '300' } })
  const url = SUITE_POSTGRES ?? server!.url
  console.log(`test:postgres: every store on ${new URL(url).host}${server ? ' (started for this run)' : ''}`)

  let code = 0
  for (const script of scripts) {
    code = await new Promise<number>((resolve) => {
      const child = spawn('npm', ['run', script], { stdio: 'inherit', env: { ...process.env, DATABASE_URL: url } })
      child.on('exit', (c, signal) => resolve(c ?? (signal ? 1 : 0)))
    })
    if (code !== 0) break
  }
  await server?.stop()
  return code
}

void main().then((code) => process.exit(code))
