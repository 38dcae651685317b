import 'server-only'
import crypto from 'node:crypto'
import { eq, sql } from 'drizzle-orm'
import { leaseHolder, type Lease } from '@/db/job-rules'
import { get, read, sqlGet, sqlRun, transaction } from '@/db/tx'
import { log } from '@/lib/log'

// A lease is a row in `leases` that names who may do one piece of work right now. Two
// processes share the database during a deploy, so "only one at a time" has to be decided
// by the database: taking a lease is one statement that succeeds only when the row is free,
// expired, or already ours. The holder renews it while it works; a holder that dies stops
// renewing, and once expires_at passes anyone may take it over.
//
// Scheduled work runs under a lease named after its job kind (lib/jobs/index.ts). Any other
// task that must not overlap with itself across processes (a backup, say) can use
// withLease() directly.

/** This process, as it appears in leases and job locks (a pid alone repeats across containers). */
export const processId = `${process.pid}-${crypto.randomBytes(4).toString('hex')}`

export type { Lease }

/**
 * Takes the lease `name` for `ttlMs` when it is free or expired; null while someone else
 * holds it. Each acquisition gets its own holder id (leaseHolder), so two overlapping calls
 * in one process exclude each other too. One conditional upsert, so of several app servers
 * asking at once exactly one gets it: on PostgreSQL the upsert waits for a concurrent insert
 * of the name, then re-checks the expiry on the row that committed.
 */
export async function tryAcquire(name: string, ttlMs: number, now = Date.now()): Promise<Lease | null> {
  const holder = leaseHolder(processId)
  const row = await transaction(() =>
    sqlGet<{ holder: string; expires_at: number | string }>(sql`
      INSERT INTO leases (name, holder, acquired_at, expires_at) VALUES (${name}, ${holder}, ${now}, ${now + ttlMs})
      ON CONFLICT (name) DO UPDATE SET holder = excluded.holder, acquired_at = excluded.acquired_at, expires_at = excluded.expires_at
        WHERE leases.expires_at <= excluded.acquired_at
      RETURNING holder, expires_at`),
  )
  // expires_at is bigint on PostgreSQL, which raw SQL returns as text
  return row?.holder === holder ? { name, holder, expiresAt: Number(row.expires_at) } : null
}

/**
 * Extends a held lease by `ttlMs` from now. False when it was taken over: the caller no
 * longer holds it and should stop. A lease that expired but was not taken is renewed —
 * nobody else has started the work.
 */
export async function renew(lease: Lease, ttlMs: number, now = Date.now()): Promise<boolean> {
  const row = await transaction(() =>
    sqlGet<{ expires_at: number | string }>(sql`UPDATE leases SET expires_at = ${now + ttlMs} WHERE name = ${lease.name} AND holder = ${lease.holder} RETURNING expires_at`),
  )
  if (!row) return false
  lease.expiresAt = Number(row.expires_at)
  return true
}

/** Gives the lease up so the next taker need not wait for it to expire. */
export async function release(lease: Lease): Promise<void> {
  await transaction(() => sqlRun(sql`DELETE FROM leases WHERE name = ${lease.name} AND holder = ${lease.holder}`))
}

/** Who holds `name` and until when (expired rows included), for operators and tests. */
export function holderOf(name: string): Promise<{ holder: string; expiresAt: number } | undefined> {
  return read(function* (db, t) {
    return yield* get(db.select({ holder: t.leases.holder, expiresAt: t.leases.expiresAt }).from(t.leases).where(eq(t.leases.name, name)))
  })
}

export type LeaseResult<T> = { acquired: true; value: T } | { acquired: false; holder: string | undefined; expiresAt: number | undefined }

/**
 * Runs `fn` while holding the lease `name`, renewing it every third of `ttlMs`, and releases
 * it afterwards; answers `{ acquired: false }` without running `fn` when another holder has
 * it. If a renewal finds the lease taken over (this process stalled longer than the TTL),
 * `signal` aborts: `fn` should stop at its next step, because someone else is now doing it.
 */
export async function withLease<T>(name: string, ttlMs: number, fn: (signal: AbortSignal) => Promise<T> | T): Promise<LeaseResult<T>> {
  const lease = await tryAcquire(name, ttlMs)
  if (!lease) {
    const current = await holderOf(name)
    return { acquired: false, holder: current?.holder, expiresAt: current?.expiresAt }
  }
  const lost = new AbortController()
  const timer = setInterval(() => {
    renew(lease, ttlMs).then(
      async (isOurs) => {
        if (isOurs || lost.signal.aborted) return
        clearInterval(timer)
        lost.abort(new Error(`lease "${name}" was taken over`))
        log.warn('lease: lost to another holder', { name, holder: lease.holder, now: (await holderOf(name))?.holder })
      },
      // A busy database delays a renewal; the next tick tries again well before expiry.
      (err: unknown) => log.warn('lease: renewal failed', { name, err }),
    ).catch((err: unknown) => log.warn('lease: could not read the new holder', { name, err }))
  }, Math.max(10, Math.floor(ttlMs / 3)))
  timer.unref()
  try {
    return { acquired: true, value: await fn(lost.signal) }
  } finally {
    clearInterval(timer)
    try {
      await release(lease)
    } catch (err) {
      // It expires on its own; the next taker waits at most ttlMs.
      log.warn('lease: release failed', { name, err })
    }
  }
}
