import pg from 'pg'

// The suites on a PostgreSQL of the runner's choosing (decision 050). With DATABASE_URL set to a
// postgres:// URL when the tests start, that server holds every store the tests make: each
// engine-parameterised block and each started store gets a database of its own on it, created
// here and dropped when the run ends. The database the URL names is never written to, so it
// may be any database on a server the tests may create databases on.
//
// Without DATABASE_URL nothing changes: the SQLite legs run, and the PostgreSQL legs start a
// server of their own (tests/support/postgres.ts).

// The global setups move the URL out of DATABASE_URL before any test file loads: code under test
// reads its config from the environment, and a test chooses its engine itself.
const SUITE_ENV = 'TILL_SUITE_POSTGRES'
const given = process.env[SUITE_ENV] ?? process.env.DATABASE_URL
/** The server the suites run on, when the run was given one. */
export const SUITE_POSTGRES: string | undefined = given && /^postgres(ql)?:\/\//.test(given) ? given : undefined

/**
 * The environment without the suite's PostgreSQL, for a program a test runs that chooses its
 * engines itself (the bench): its stores are not the suite's.
 */
export function withoutSuitePostgres(env: NodeJS.ProcessEnv): NodeJS.ProcessEnv {
  const { [SUITE_ENV]: _suite, DATABASE_URL: _url, ...rest } = env
  return rest
}

/** The run's tag, handed to every worker by the global setups, so teardown finds its databases. */
const RUN_ENV = 'TILL_SUITE_RUN'

let made = 0

/** A new empty database on the suite's server; its URL. */
export async function scratchDatabase(): Promise<string> {
  if (!SUITE_POSTGRES) throw new Error('suite-database: DATABASE_URL is not a postgres:// URL')
  const run = process.env[RUN_ENV] ?? 'norun'
  const name = `till_t_${run}_${process.pid}_${++made}`
  await onServer((client) => client.query(`CREATE DATABASE ${name}`))
  const url = new URL(SUITE_POSTGRES)
  url.pathname = `/${name}`
  return url.toString()
}

/** Global setup: tags the run and, when it ends, drops every database the run made. */
export function suiteDatabases(): (() => Promise<void>) | undefined {
  if (!SUITE_POSTGRES) return undefined
  // both vitest projects run this setup: one tag for the run
  const run = (process.env[RUN_ENV] ??= Math.random().toString(36).slice(2, 10))
  process.env[SUITE_ENV] = SUITE_POSTGRES
  delete process.env.DATABASE_URL
  return async () => {
    await onServer(async (client) => {
      const { rows } = await client.query<{ name: string }>(`SELECT datname AS name FROM pg_database WHERE datname LIKE $1`, [`till_t_${run}_%`])
      // WITH (FORCE): a store a failed test left running still holds connections
      for (const { name } of rows) await client.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`)
    })
  }
}

async function onServer<T>(work: (client: pg.Client) => Promise<T>): Promise<T> {
  const client = new pg.Client({ connectionString: SUITE_POSTGRES })
  await client.connect()
  try {
    return await work(client)
  } finally {
    await client.end()
  }
}
