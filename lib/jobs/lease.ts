import 'server-only'
import crypto from 'node:crypto'
import { eq, sql } from 'drizzle-orm'
import { getDb, write } from '@/db'
import { leaseHolder, type Lease } from '@/db/job-rules'
import { leases } from '@/db/schema'
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
 * in one process exclude each other too.
 */
export function tryAcquire(name: string, ttlMs: number, now = Date.now()): Lease | null {
  const holder = leaseHolder(processId)
  const row = write((tx) =>
    tx.get<{ holder: string; expires_at: number }>(sql`
      INSERT INTO leases (name, holder, acquired_at, expires_at) VALUES (${name}, ${holder}, ${now}, ${now + ttlMs})
      ON CONFLICT (name) DO UPDATE SET holder = excluded.holder, acquired_at = excluded.acquired_at, expires_at = excluded.expires_at
        WHERE leases.expires_at <= excluded.acquired_at
      RETURNING holder, expires_at`),
  )
  return row?.holder === holder ? { name, holder, expiresAt: row.expires_at } : null
}

/**
 * Extends a held lease by `ttlMs` from now. False when it was taken over: the caller no
 * longer holds it and should stop. A lease that expired but was not taken is renewed —
 * nobody else has started the work.
 */
export function renew(lease: Lease, ttlMs: number, now = Date.now()): boolean {
  const row = write((tx) =>
    tx.get<{ expires_at: number }>(sql`
      UPDATE leases SET expires_at = ${now + ttlMs} WHERE name = ${lease.name} AND holder = ${lease.holder}
      RETURNING expires_at`),
  )
  if (!row) return false
  lease.expiresAt = row.expires_at
  return true
}

/** Gives the lease up so the next taker need not wait for it to expire. */
export function release(lease: Lease): void {
  write((tx) => tx.run(sql`DELETE FROM leases WHERE name = ${lease.name} AND holder = ${lease.holder}`))
}

/** Who holds `name` and until when (expired rows included), for operators and tests. */
export function holderOf(name: string): { holder: string; expiresAt: number } | undefined {
  return getDb().select({ holder: leases.holder, expiresAt: leases.expiresAt }).from(leases).where(eq(leases.name, name)).get()
}

export type LeaseResult<T> = { acquired: true; value: T } | { acquired: false; holder: string | undefined; expiresAt: number | undefined }

/**
 * Runs `fn` while holding the lease `name`, renewing it every third of `ttlMs`, and releases
 * it afterwards; answers `{ acquired: false }` without running `fn` when another holder has
 * it. If a renewal finds the lease taken over (this process stalled longer than the TTL),
 * `signal` aborts: `fn` should stop at its next step, because someone else is now doing it.
 */
export async function withLease<T>(name: string, ttlMs: number, fn: (signal: AbortSignal) => Promise<T> | T): Promise<LeaseResult<T>> {
  const lease = tryAcquire(name, ttlMs)
  if (!lease) {
    const current = holderOf(name)
    return { acquired: false, holder: current?.holder, expiresAt: current?.expiresAt }
  }
  const lost = new AbortController()
  const timer = setInterval(() => {
    try {
      if (!renew(lease, ttlMs)) {
        clearInterval(timer)
        log.warn('lease: lost to another holder', { name, holder: lease.holder, now: holderOf(name)?.holder })
        lost.abort(new Error(`lease "${name}" was taken over`))
      }
    } catch (err) {
      // A busy database delays a renewal; the next tick tries again well before expiry.
      log.warn('lease: renewal failed', { name, err })
    }
  }, Math.max(10, Math.floor(ttlMs / 3)))
  timer.unref()
  try {
    return { acquired: true, value: await fn(lost.signal) }
  } finally {
    clearInterval(timer)
    try {
      release(lease)
    } catch (err) {
      // It expires on its own; the next taker waits at most ttlMs.
      log.warn('lease: release failed', { name, err })
    }
  }
}
