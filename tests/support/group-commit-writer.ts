import fs from 'node:fs'
import { sql } from 'drizzle-orm'
import { openDatabase, setDb, writeGrouped } from '@/db'

// One process of the group-commit crash test (tests/chaos/group-commit-crash.test.ts): groups
// of four writeGrouped inserts, one after another, each id appended to the acks file once its
// promise resolved (as the webhook answers 200). In group --crash-at the last body SIGKILLs
// the process after its insert, while the shared transaction is still open.
//   npx tsx --conditions=react-server tests/support/group-commit-writer.ts <db> <acks file> <crash-at>

const [file, acksFile, crashAt] = process.argv.slice(2)
if (!file || !acksFile || !crashAt) {
  console.error('group-commit-writer: <db> <acks file> <crash-at> are required')
  process.exit(2)
}
setDb(openDatabase(file))
async function run(): Promise<never> {
  for (let group = 0; ; group++) {
    const ids = [0, 1, 2, 3].map((i) => `g-${group}-${i}`)
    await Promise.all(
      ids.map((id, i) =>
        writeGrouped((tx) => {
          tx.run(sql`INSERT INTO health_checks (id, checked_at, pid) VALUES (${id}, ${group}, ${process.pid})`)
          if (group === Number(crashAt) && i === ids.length - 1) process.kill(process.pid, 'SIGKILL')
        }).then(() => fs.appendFileSync(acksFile!, `${id}\n`)),
      ),
    )
  }
}
void run()
