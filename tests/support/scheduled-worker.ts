import fs from 'node:fs'
import { parseArgs } from 'node:util'
import { closeDb, openDatabase, setDb } from '@/db'
import * as jobs from '@/lib/jobs'

// One process of the two-process schedule test (tests/integration/scheduled-work.test.ts): the
// real job worker on a shared database with second-level crons, so many slots pass in a few
// seconds. Every handler run appends "kind slot pid startMs endMs" to --runs.
//   npx tsx tests/support/scheduled-worker.ts --db store.sqlite3 --runs runs.log --for-ms 8000

const { values } = parseArgs({
  options: {
    db: { type: 'string' },
    runs: { type: 'string' },
    'for-ms': { type: 'string', default: '8000' },
  },
  strict: true,
})
if (!values.db || !values.runs) {
  console.error('scheduled-worker: --db and --runs are required')
  process.exit(2)
}
const runsFile = values.runs
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms))

setDb(openDatabase(values.db))
const record = async (kind: string, payload: Record<string, unknown>, workMs: number) => {
  const start = Date.now()
  await sleep(workMs)
  fs.appendFileSync(runsFile, `${kind} ${String(payload.slot)} ${process.pid} ${start} ${Date.now()}\n`)
}
const worker = jobs.startWorker(
  {
    // quick work, every second: counts runs per slot
    'test.tick': (payload) => record('test.tick', payload, 20),
    // work longer than its slot, every second: the lease keeps runs from overlapping
    'test.slow': (payload) => record('test.slow', payload, 1500),
  },
  [
    { kind: 'test.tick', cron: '* * * * * *' },
    { kind: 'test.slow', cron: '* * * * * *' },
  ],
  { pollMs: 50, heartbeatMs: 200, staleMs: 3000, leaseTtlMs: 2000 },
)
console.log(JSON.stringify({ pid: process.pid, ready: true }))
setTimeout(() => {
  void worker.stop(5000).then(({ finished }) => {
    closeDb()
    process.exit(finished ? 0 : 3)
  })
}, Number(values['for-ms']))
