// What db/tx.ts's runner costs on SQLite: the same write body (a read, then an insert, as
// adding an order note does) through write() directly, as the synchronous domain writes
// today, and as a generator body through transaction(), awaited as the converted domain's
// callers await it. Same process, same connection, runs interleaved in rounds so drift hits
// both alike. Measured with the store's synchronous=FULL (what a request pays) and with
// synchronous=OFF (no fsync: the runner's own CPU cost, the worst ratio it can show).
// Run: npx tsx --conditions=react-server bench/tx-runner.ts [n]
import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { performance } from 'node:perf_hooks'
import { count, eq } from 'drizzle-orm'
import { openDatabase, setDb, write, type Db } from '@/db'
import { migrate } from '@/db/migrate'
import { auditLog } from '@/db/schema'
import { get, run, transaction } from '@/db/tx'

export type RunnerFigures = { directMs: number; runnerMs: number; rows: { direct: number; runner: number } }

const ROUNDS = 10

/** Milliseconds per transaction of each path, `n` transactions each, on `db` (installed as the process's connection). */
export async function runnerOverhead(db: Db, n: number): Promise<RunnerFigures> {
  setDb(db)
  // the read is a key lookup, so the body's cost stays flat while the table grows
  const direct = (i: number) =>
    write((tx) => {
      const seen = tx.select({ id: auditLog.id }).from(auditLog).where(eq(auditLog.id, i)).get()
      tx.insert(auditLog).values({ adminEmail: 'bench@example.com', action: 'bench.direct', subject: `bench:${i}`, after: { seen: seen?.id ?? null } }).run()
    })
  const runner = (i: number) =>
    transaction(function* (tx, t) {
      const seen = yield* get(tx.select({ id: t.auditLog.id }).from(t.auditLog).where(eq(t.auditLog.id, i)))
      yield* run(tx.insert(t.auditLog).values({ adminEmail: 'bench@example.com', action: 'bench.runner', subject: `bench:${i}`, after: { seen: seen?.id ?? null } }))
    })
  for (let i = 0; i < 20; i++) {
    direct(-1 - i)
    await runner(-1 - i)
  }
  db.$client.exec(`DELETE FROM audit_log WHERE action LIKE 'bench.%'`)
  let directMs = 0
  let runnerMs = 0
  const perRound = Math.ceil(n / ROUNDS)
  for (let done = 0, round = 0; done < n; done += perRound, round++) {
    const size = Math.min(perRound, n - done)
    const timeDirect = () => {
      const start = performance.now()
      for (let i = done; i < done + size; i++) direct(i)
      directMs += performance.now() - start
    }
    const timeRunner = async () => {
      const start = performance.now()
      for (let i = done; i < done + size; i++) await runner(i)
      runnerMs += performance.now() - start
    }
    // each path goes first in every other round
    if (round % 2 === 0) {
      timeDirect()
      await timeRunner()
    } else {
      await timeRunner()
      timeDirect()
    }
  }
  const rowsOf = (action: string) => db.select({ n: count() }).from(auditLog).where(eq(auditLog.action, action)).get()!.n
  return { directMs: directMs / n, runnerMs: runnerMs / n, rows: { direct: rowsOf('bench.direct'), runner: rowsOf('bench.runner') } }
}

async function main(n: number) {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'till-bench-'))
  const db = openDatabase(path.join(dir, 'store.sqlite3'))
  try {
    migrate(db.$client)
    for (const synchronous of ['FULL', 'OFF']) {
      db.$client.pragma(`synchronous = ${synchronous}`)
      const f = await runnerOverhead(db, n)
      console.log(
        `load ${os.loadavg()[0]!.toFixed(1)}  synchronous=${synchronous.padEnd(4)}  write(): ${(f.directMs * 1000).toFixed(1)} µs/tx   runner: ${(f.runnerMs * 1000).toFixed(1)} µs/tx   ` +
          `runner / write(): ${(f.runnerMs / f.directMs).toFixed(2)}x (+${((f.runnerMs - f.directMs) * 1000).toFixed(1)} µs)`,
      )
    }
  } finally {
    setDb(undefined)
    db.$client.close()
    fs.rmSync(dir, { recursive: true, force: true })
  }
}

if (require.main === module) void main(Number(process.argv[2] ?? 5000))
