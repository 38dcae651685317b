import type pg from 'pg'

// The one way to write on PostgreSQL (docs/decisions/039-postgresql-engine.md), as write() is
// on SQLite. There is no single writer here: several app servers write at once under READ
// COMMITTED, so the rules live in the statements (conditional updates, `SELECT … FOR UPDATE`,
// keys with ON CONFLICT DO NOTHING) and a transaction that loses a race to a serialization
// failure or a deadlock is run again from the start. So is one whose connection was lost
// before COMMIT was sent: nothing of it can have landed.
//
// The body may await the database and nothing else (no Stripe, no mail, no timers): it holds
// row locks and may run more than once. It must be idempotent by its own keys, because a
// COMMIT whose reply is lost may have landed; that case is never retried here, it surfaces as
// CommitOutcomeUnknown for the caller to settle by reading its key back.

type Isolation = 'read committed' | 'repeatable read' | 'serializable'

export type RetryInfo = { attempt: number; reason: 'serialization failure' | 'deadlock' | 'connection lost'; err: unknown }

export type TransactionOptions = {
  /** READ COMMITTED unless a body needs a snapshot across statements. */
  isolation?: Isolation
  /** Attempts in all, the first included. */
  maxAttempts?: number
  /** The first retry waits up to this long; each later one up to twice the last, capped at a second. */
  backoffMs?: number
  /** Called before each retry (tests count them; the app logs them). */
  onRetry?: (info: RetryInfo) => void
}

/** COMMIT answered ROLLBACK: a statement failed inside the body and the body carried on. */
export class TransactionRolledBack extends Error {
  constructor() {
    super('db: COMMIT answered ROLLBACK (a statement in the transaction failed and the body went on); nothing was written')
    this.name = 'TransactionRolledBack'
  }
}

/**
 * The connection went while COMMIT was on its way: the transaction may or may not have
 * committed. Exported for the callers that will settle it by reading their key back (none
 * imports it yet: the order intake that needs it is not converted to db/tx.ts).
 * @public
 */
export class CommitOutcomeUnknown extends Error {
  constructor(cause: unknown) {
    super('db: the connection was lost during COMMIT; the transaction may have committed. Read its idempotency key back before doing it again.', { cause })
    this.name = 'CommitOutcomeUnknown'
  }
}

/** The client reported its connection gone while the body ran, though the body carried on. */
class ConnectionLost extends Error {
  constructor(cause: unknown) {
    super('db: the connection was lost during the transaction, before COMMIT was sent', { cause })
    this.name = 'ConnectionLost'
  }
}

/**
 * Where a transaction takes its connection: a pg.Pool on one server, or the PrimaryPool that
 * follows a cluster's primary (db/pg/primary.ts).
 */
export type Connects = { connect(): Promise<pg.PoolClient> }

const DEFAULTS = { isolation: 'read committed', maxAttempts: 5, backoffMs: 20 } as const
const MAX_BACKOFF_MS = 1_000

// SQLSTATE class 08 is "connection exception"; 57P01-57P03 are the server shutting down or
// not yet accepting connections (a failover); the rest are the socket's own errors.
const CONNECTION_CODES = new Set(['57P01', '57P02', '57P03', 'ECONNRESET', 'ECONNREFUSED', 'EPIPE', 'ETIMEDOUT', 'EHOSTUNREACH', 'ENETUNREACH'])

/** The error and the errors it wraps: drizzle's query errors carry the driver's as `cause`. */
function* chain(err: unknown): Generator<unknown> {
  for (let e = err, depth = 0; e !== null && e !== undefined && depth < 5; e = (e as { cause?: unknown }).cause, depth++) yield e
}

function code(err: unknown): string {
  for (const e of chain(err)) {
    const value = (e as { code?: unknown }).code
    if (typeof value === 'string') return value
  }
  return ''
}

function isConnectionError(err: unknown): boolean {
  if (err instanceof ConnectionLost) return true
  const c = code(err)
  if (c.startsWith('08') || CONNECTION_CODES.has(c)) return true
  for (const e of chain(err)) {
    const message = e instanceof Error ? e.message : ''
    if (/Connection terminated|Client has encountered a connection error|connection (?:is )?(?:closed|ended)|Client was closed/i.test(message)) return true
  }
  return false
}

function retryReason(err: unknown): RetryInfo['reason'] | null {
  const c = code(err)
  if (c === '40001') return 'serialization failure'
  if (c === '40P01') return 'deadlock'
  if (isConnectionError(err)) return 'connection lost'
  return null
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms))

/**
 * Runs `fn` in one transaction on a client of `pool` and commits it; retries the whole of it
 * on a serialization failure, a deadlock or a connection lost before COMMIT was sent.
 */
export async function transaction<T>(pool: Connects, fn: (client: pg.PoolClient) => Promise<T>, options: TransactionOptions = {}): Promise<T> {
  const { isolation, maxAttempts, backoffMs } = { ...DEFAULTS, ...options }
  for (let attempt = 1; ; attempt++) {
    try {
      return await once(pool, fn, isolation)
    } catch (err) {
      const reason = err instanceof CommitOutcomeUnknown ? null : retryReason(err)
      if (!reason || attempt >= maxAttempts) throw err
      options.onRetry?.({ attempt, reason, err })
      // Full jitter: writers that collided once spread out instead of colliding again.
      await sleep(Math.random() * Math.min(MAX_BACKOFF_MS, backoffMs * 2 ** (attempt - 1)))
    }
  }
}

async function once<T>(pool: Connects, fn: (client: pg.PoolClient) => Promise<T>, isolation: Isolation): Promise<T> {
  const client = await pool.connect()
  // Without a listener, a server that dies while this client is checked out emits an 'error'
  // nobody handles and the whole process exits. The query in flight fails with it anyway.
  let lost: unknown = null
  const onError = (err: unknown) => (lost ??= err)
  client.on('error', onError)
  let isBroken = false
  let isCommitSent = false
  try {
    await client.query(`BEGIN ISOLATION LEVEL ${isolation.toUpperCase()}`)
    const result = await fn(client)
    // lost while the body ran (its error caught inside it): COMMIT was never sent
    if (lost) throw new ConnectionLost(lost)
    isCommitSent = true
    const commit = await client.query('COMMIT')
    if (commit.command !== 'COMMIT') throw new TransactionRolledBack()
    return result
  } catch (err) {
    if (lost || isConnectionError(err)) {
      isBroken = true
      if (isCommitSent) throw new CommitOutcomeUnknown(err)
    } else if (!isCommitSent) {
      // After a failed COMMIT the transaction is already over; otherwise end it here. A client
      // that cannot even roll back is not given to the next caller.
      await client.query('ROLLBACK').catch(() => (isBroken = true))
    }
    throw err
  } finally {
    // A broken client keeps the listener: its socket may still report an error after release.
    if (!isBroken) client.off('error', onError)
    client.release(isBroken)
  }
}
