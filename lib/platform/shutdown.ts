import 'server-only'
import type { Server } from 'node:http'
import { closeDb } from '@/db'
import * as cache from '@/lib/cache'
import * as jobs from '@/lib/jobs'
import { httpServers } from '@/server/contract'
import { stopChecking } from './health'
import { log } from '@/lib/log'

// What a process does when told to stop: SIGTERM from a deploy (kamal stops the old container)
// or SIGINT from a terminal. In order, within one time budget:
//   1. stop claiming jobs and firing schedules; stop accepting connections;
//   2. let the job in hand and the requests in flight finish;
//   3. stop hearing other processes' catalog changes (SQLite's poll, PostgreSQL's listener);
//   4. stop the payments emulator's loops (when this process serves it);
//   5. close the database: on SQLite so the last process out leaves no -wal behind, on
//      PostgreSQL the pool's connections, once the requests that used them are done;
//   6. exit 0.
// A job still running when the budget is spent goes back to the queue, due now, and open
// connections are cut; the other process (or the next boot) picks the job up at once.
//
// Next's standalone server would otherwise handle the signal itself: it closes the HTTP
// server, waits for in-flight requests without a bound and exits with 143 — without waiting
// for background work. The front server (server/start.ts) turns that off
// (NEXT_MANUAL_SIG_HANDLE) and hands over the HTTP servers Next creates (server/contract.ts
// httpServers); this module closes them.
// (Next's handler would also await work scheduled with `after()`; the app schedules none.)

const globalForShutdown = globalThis as unknown as { tillShutdown?: { installed: boolean; started?: Promise<void> } }

export type ShutdownOptions = {
  timeoutMs: number
  /** Boot passes the emulator's stop: only boot may reach the emulator. */
  stopEmulator?: () => Promise<void>
  /** Closes the store's database (boot's, for its engine); without it, SQLite's connection. */
  closeDatabase?: () => Promise<void>
}

/** True when the front server started this process, so the app (not Next) owns the signals. */
function ownsSignals(): boolean {
  return httpServers() !== undefined
}

export function installSignalHandlers(options: ShutdownOptions): void {
  const state = (globalForShutdown.tillShutdown ??= { installed: false })
  if (state.installed) return
  state.installed = true
  for (const signal of ['SIGTERM', 'SIGINT'] as const) {
    process.on(signal, () => {
      if (state.started) {
        log.warn('shutdown: already stopping', { signal })
        return
      }
      if (!ownsSignals()) {
        // Under `next dev` or `next start`, Next exits on its own schedule; at least claim
        // no new job, so none is left `running` behind.
        log.info('shutdown: Next handles this signal; stopping the job worker only', { signal })
        state.started = jobs.currentWorker()?.stop(options.timeoutMs).then(() => undefined) ?? Promise.resolve()
        return
      }
      const startedAt = Date.now()
      state.started = shutdown(options, signal).then(
        () => {
          log.info('shutdown: done', { signal, ms: Date.now() - startedAt })
          process.exit(0)
        },
        (err: unknown) => {
          console.error('till: shutdown failed', err)
          process.exit(1)
        },
      )
    })
  }
}

async function shutdown(options: ShutdownOptions, signal: string): Promise<void> {
  const deadline = Date.now() + options.timeoutMs
  log.info('shutdown: draining', { signal, timeoutMs: options.timeoutMs })
  const worker = jobs.currentWorker()
  const [work, http] = await Promise.all([
    worker ? worker.stop(options.timeoutMs) : Promise.resolve({ finished: true }),
    closeHttpServers([...(httpServers() ?? [])], deadline),
  ])
  if (!work.finished) log.warn('shutdown: the running job did not finish in time and was handed back to the queue')
  if (!http.finished) log.warn('shutdown: requests still open at the deadline were cut')
  stopChecking()
  try {
    await cache.stopFrontCache()
  } catch (err) {
    log.error('shutdown: could not stop hearing catalog changes', { err })
  }
  if (options.stopEmulator) {
    try {
      await options.stopEmulator()
    } catch (err) {
      log.error('shutdown: could not stop the payments emulator', { err })
    }
  }
  if (options.closeDatabase) await options.closeDatabase()
  else closeDb()
}

/** Stops accepting connections and waits for requests in flight until `deadline`, then cuts the rest. */
async function closeHttpServers(servers: Server[], deadline: number): Promise<{ finished: boolean }> {
  if (servers.length === 0) return { finished: true }
  let timeout: NodeJS.Timeout | undefined
  const closed = Promise.all(servers.map((server) => new Promise<void>((resolve) => server.close(() => resolve())))).then(() => true)
  // close() drops the connections idle at that moment; a keep-alive connection whose request
  // finishes later would otherwise sit open until its keep-alive timeout.
  const sweep = setInterval(() => {
    for (const server of servers) server.closeIdleConnections()
  }, 50)
  const finished = await Promise.race([
    closed,
    new Promise<boolean>((resolve) => {
      timeout = setTimeout(() => resolve(false), Math.max(0, deadline - Date.now()))
    }),
  ])
  clearTimeout(timeout)
  clearInterval(sweep)
  if (!finished) for (const server of servers) server.closeAllConnections()
  return { finished }
}
