// What db/tx.ts's runner costs on SQLite: the same write body (a read, then an insert, as
// adding an order note does) through write() directly, as the synchronous domain writes
// today, and as a generator body through transaction(), awaited as the converted domain's
// callers await it. Same process, same connection, runs interleaved in rounds so drift hits
// both alike. Measured with the store's synchronous=FULL (what a request pays) and with
// synchronous=OFF (no fsync), then the runner alone: key lookups inside one transaction,
// direct and as one-step bodies. The figures are in docs/decisions/047-generator-transactions.md.
// Run: npx tsx --conditions=react-server bench/tx-runner.ts [n]
import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { performance } from 'node:perf_hooks'
import { count, eq } from 'drizzle-orm'
import { openDatabase, setDb, write, type Db } from '@/db'
import { migrate } from '@/db/migrate'
import { auditLog } from '@/db/schema'
import { get, run, runNow, transaction } from '@/db/tx'

/** Per transaction: wall-clock milliseconds, and this process's CPU milliseconds (which other processes on a busy machine do not inflate). */
export type RunnerFigures = { directMs: number; runnerMs: number; directCpuMs: number; runnerCpuMs: number; rows: { direct: number; runner: number } }

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
  let directCpuMs = 0
  let runnerCpuMs = 0
  const cpuMs = (since: NodeJS.CpuUsage) => {
    const used = process.cpuUsage(since)
    return (used.user + used.system) / 1000
  }
  const perRound = Math.ceil(n / ROUNDS)
  for (let done = 0, round = 0; done < n; done += perRound, round++) {
    const size = Math.min(perRound, n - done)
    const timeDirect = () => {
      const start = performance.now()
      const cpu = process.cpuUsage()
      for (let i = done; i < done + size; i++) direct(i)
      directCpuMs += cpuMs(cpu)
      directMs += performance.now() - start
    }
    const timeRunner = async () => {
      const start = performance.now()
      const cpu = process.cpuUsage()
      for (let i = done; i < done + size; i++) await runner(i)
      runnerCpuMs += cpuMs(cpu)
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
  return { directMs: directMs / n, runnerMs: runnerMs / n, directCpuMs: directCpuMs / n, runnerCpuMs: runnerCpuMs / n, rows: { direct: rowsOf('bench.direct'), runner: rowsOf('bench.runner') } }
}

/**
 * The runner's cost per query alone: `n` key lookups inside one write() (no BEGIN, COMMIT or
 * fsync to hide it), called directly and as one-step bodies driven by runNow. Microseconds per
 * lookup, best of `ROUNDS` rounds each, so a round slowed by another process does not count.
 */
export function perQuery(db: Db, n: number): { directUs: number; runnerUs: number } {
  setDb(db)
  let directUs = Infinity
  let runnerUs = Infinity
  write((tx) => {
    for (let round = 0; round < ROUNDS; round++) {
      let start = performance.now()
      for (let i = 0; i < n; i++) tx.select({ id: auditLog.id }).from(auditLog).where(eq(auditLog.id, i)).get()
      directUs = Math.min(directUs, ((performance.now() - start) * 1000) / n)
      start = performance.now()
      for (let i = 0; i < n; i++)
        runNow(tx, function* (tx, t) {
          return yield* get(tx.select({ id: t.auditLog.id }).from(t.auditLog).where(eq(t.auditLog.id, i)))
        })
      runnerUs = Math.min(runnerUs, ((performance.now() - start) * 1000) / n)
    }
  })
  return { directUs, runnerUs }
}

async function main(n: number) {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'till-bench-'))
  const db = openDatabase(path.join(dir, 'store.sqlite3'))
  try {
    migrate(db.$client)
    for (const synchronous of ['FULL', 'OFF']) {
      db.$client.pragma(`synchronous = ${synchronous}`)
      const f = await runnerOverhead(db, n)
      const us = (ms: number) => `${(ms * 1000).toFixed(1)} µs`
      console.log(
        `load ${os.loadavg()[0]!.toFixed(1)}  synchronous=${synchronous.padEnd(4)}  ` +
          `wall: write() ${us(f.directMs)}, runner ${us(f.runnerMs)}, ${(f.runnerMs / f.directMs).toFixed(2)}x   ` +
          `cpu: write() ${us(f.directCpuMs)}, runner ${us(f.runnerCpuMs)}, ${(f.runnerCpuMs / f.directCpuMs).toFixed(2)}x (+${us(f.runnerCpuMs - f.directCpuMs)})`,
      )
    }
    const q = perQuery(db, n)
    console.log(`one key lookup inside a transaction: direct ${q.directUs.toFixed(2)} µs, through the runner ${q.runnerUs.toFixed(2)} µs, ${(q.runnerUs / q.directUs).toFixed(2)}x (+${(q.runnerUs - q.directUs).toFixed(2)} µs)`)
  } finally {
    setDb(undefined)
    db.$client.close()
    fs.rmSync(dir, { recursive: true, force: true })
  }
}

if (require.main === module) void main(Number(process.argv[2] ?? 5000))
