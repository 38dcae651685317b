import pg from 'pg'
import { clientConfig, type DatabaseUrl, type PgHost } from './url'

export interface PrimaryPoolOptions {
  /** Connections kept open to the primary (pg.Pool's `max`). */
  max?: number
  /**
   * How long a caller waits for a primary to be found, failover included. A crashed Patroni
   * leader is replaced once its leader key expires (the `ttl`, 10 s in the failover test),
   * so this must outlast that, with room for a synchronous standby to reattach.
   */
  waitForPrimaryMillis?: number
  /** How long one host may take to connect and answer while the primary is sought. */
  probeTimeoutMillis?: number
  /** Told each time the pool settles on a primary, and with `undefined` when it lets one go. */
  onPrimaryChange?: (primary: PgHost | undefined) => void
}

/** No host accepted writes within the wait; the store cannot write now. */
export class NoPrimary extends Error {
  constructor(hosts: readonly PgHost[], waitedMillis: number) {
    super(`db: no primary among ${hosts.map((h) => `${h.host}:${h.port}`).join(', ')} after ${waitedMillis} ms (DATABASE_URL)`)
    this.name = 'NoPrimary'
  }
}

// Server answers that mean this server is not (or no longer) a primary that takes writes:
// 57P01 admin shutdown (Patroni stopping or demoting it), 57P02 crash shutdown, 57P03
// cannot connect now (starting up, in recovery, shutting down), 25006 a write refused by a
// standby or a read-only server. Class 08 is the connection itself failing.
const NOT_PRIMARY_CODES = new Set(['57P01', '57P02', '57P03', '25006'])
const NETWORK_CODES = new Set(['ECONNREFUSED', 'ECONNRESET', 'ECONNABORTED', 'EPIPE', 'ETIMEDOUT', 'EHOSTUNREACH', 'ENETUNREACH', 'EADDRNOTAVAIL', 'ENOTFOUND'])
// node-postgres reports a lost connection by message only; the server's startup refusals are
// matched too for servers that send them before a code is known.
const NOT_PRIMARY_MESSAGES =
  /Connection terminated|not queryable|timeout expired|the database system is (in recovery mode|starting up|shutting down|not yet accepting connections)|read-only transaction/i

/**
 * True when an error means the server this connection went to cannot take writes now, so
 * the pool should look for the primary again. Follows `cause`, where node-postgres wraps one.
 */
export function isNotPrimaryError(err: unknown): boolean {
  for (let e = err, depth = 0; e instanceof Error && depth < 5; e = e.cause, depth++) {
    const code = (e as { code?: unknown }).code
    if (typeof code === 'string' && (NOT_PRIMARY_CODES.has(code) || NETWORK_CODES.has(code) || code.startsWith('08'))) return true
    if (NOT_PRIMARY_MESSAGES.test(e.message)) return true
  }
  return false
}

interface Primary {
  host: PgHost
  pool: pg.Pool
}

/**
 * A pool that finds the primary among the hosts of a multi-host `DATABASE_URL` and follows it
 * through a failover, for node-postgres, which has no `target_session_attrs`. Every host is
 * asked at once whether it is in recovery and read-only; the first that takes writes gets a
 * pg.Pool. An error meaning "not the primary any more" (see isNotPrimaryError) drops that
 * pool, and the next caller starts a new search; however many callers wait, one search runs
 * at a time and they all get its answer.
 *
 * Only what cannot have reached the server is retried here (finding the primary, opening a
 * connection). A statement or COMMIT that fails on a lost connection may have landed; the
 * caller retries it with a key chosen before the write (`ON CONFLICT DO NOTHING`).
 *
 * Whatever `target_session_attrs` says, the pool waits for a host that takes writes: the
 * store writes on every connection it takes.
 */
export class PrimaryPool {
  readonly #url: DatabaseUrl
  readonly #max: number
  readonly #waitMillis: number
  readonly #probeMillis: number
  readonly #onPrimaryChange: (primary: PgHost | undefined) => void
  #primary: Primary | undefined
  #search: Promise<Primary> | undefined
  #searches = 0
  #ended = false
  // Pools let go of: ended in the background as their borrowed clients come back.
  readonly #draining = new Set<Promise<void>>()

  constructor(url: DatabaseUrl, options: PrimaryPoolOptions = {}) {
    this.#url = url
    this.#max = options.max ?? 10
    this.#waitMillis = options.waitForPrimaryMillis ?? 30_000
    this.#probeMillis = options.probeTimeoutMillis ?? url.options.connectionTimeoutMillis ?? 2_000
    this.#onPrimaryChange = options.onPrimaryChange ?? (() => {})
  }

  /** The host the pool writes to now, if it has found one. */
  get primary(): PgHost | undefined {
    return this.#primary?.host
  }

  /** How many searches for the primary have run: one per failover, however many callers. */
  get searches(): number {
    return this.#searches
  }

  /**
   * A client on the primary. Give `release` the error that ended its work, if any: an error
   * meaning the server is no longer the primary makes the pool look for the new one.
   */
  async connect(): Promise<pg.PoolClient> {
    const deadline = Date.now() + this.#waitMillis
    for (;;) {
      const primary = this.#primary ?? (await this.#find())
      let client: pg.PoolClient
      try {
        client = await primary.pool.connect()
      } catch (err) {
        if (!isNotPrimaryError(err)) throw err
        this.#forget(primary)
        if (this.#ended || Date.now() >= deadline) throw err
        continue
      }
      const release = client.release
      client.release = (err?: Error | boolean) => {
        if (err instanceof Error && isNotPrimaryError(err)) this.#forget(primary)
        release(err)
      }
      return client
    }
  }

  /** One statement on the primary, like pg.Pool's `query`. */
  async query<R extends pg.QueryResultRow = pg.QueryResultRow>(text: string, values?: unknown[]): Promise<pg.QueryResult<R>> {
    const client = await this.connect()
    try {
      const result = await client.query<R>(text, values)
      client.release()
      return result
    } catch (err) {
      // A connection that failed is closed rather than handed to the next caller.
      client.release(isNotPrimaryError(err) ? (err as Error) : undefined)
      throw err
    }
  }

  async end(): Promise<void> {
    this.#ended = true
    if (this.#primary) this.#forget(this.#primary)
    await Promise.all(this.#draining)
  }

  #find(): Promise<Primary> {
    if (this.#ended) return Promise.reject(new Error('db: the PostgreSQL pool was ended'))
    this.#search ??= this.#searchForPrimary().finally(() => {
      this.#search = undefined
    })
    return this.#search
  }

  async #searchForPrimary(): Promise<Primary> {
    this.#searches++
    const started = Date.now()
    for (let round = 0; ; round++) {
      const host = await this.#firstWritable()
      if (this.#ended) throw new Error('db: the PostgreSQL pool was ended')
      if (host) {
        this.#primary = { host, pool: this.#poolOn(host) }
        this.#onPrimaryChange(host)
        return this.#primary
      }
      if (Date.now() - started >= this.#waitMillis) throw new NoPrimary(this.#url.hosts, Date.now() - started)
      // During a failover no host takes writes for several seconds; ask again soon, not in a loop.
      await new Promise((resolve) => setTimeout(resolve, Math.min(100 * 2 ** round, 500)))
    }
  }

  /** Asks every host at once; the first that takes writes wins, a dead or slow one delays nobody. */
  #firstWritable(): Promise<PgHost | undefined> {
    return new Promise((resolve) => {
      let pending = this.#url.hosts.length
      for (const host of this.#url.hosts) {
        void this.#takesWrites(host).then((yes) => {
          if (yes) resolve(host)
          if (--pending === 0) resolve(undefined)
        })
      }
    })
  }

  async #takesWrites(host: PgHost): Promise<boolean> {
    const client = new pg.Client({ ...clientConfig(this.#url, host), connectionTimeoutMillis: this.#probeMillis, query_timeout: this.#probeMillis })
    // A probe's server may die while it is asked; that is an answer (no), not a crash.
    client.on('error', () => {})
    try {
      await client.connect()
      const { rows } = await client.query<{ writable: boolean }>(
        `SELECT NOT pg_is_in_recovery() AND current_setting('transaction_read_only') = 'off' AS writable`,
      )
      return rows[0]?.writable === true
    } catch {
      return false
    } finally {
      client.end().catch(() => {})
    }
  }

  #poolOn(host: PgHost): pg.Pool {
    const pool = new pg.Pool({
      ...clientConfig(this.#url, host),
      max: this.#max,
      connectionTimeoutMillis: this.#url.options.connectionTimeoutMillis ?? 10_000,
      // A primary that vanishes without closing its sockets is noticed by keepalives.
      keepAlive: this.#url.options.keepAlive ?? true,
    })
    const primary = () => this.#primary?.pool === pool && this.#primary
    const onError = (err: Error) => {
      const current = primary()
      if (current && isNotPrimaryError(err)) this.#forget(current)
    }
    // An idle client that dies is reported on the pool; a borrowed one on itself. Without a
    // listener either kills the process with "Unhandled 'error' event" when the server dies.
    pool.on('error', onError)
    pool.on('connect', (client) => client.on('error', onError))
    return pool
  }

  #forget(primary: Primary): void {
    if (this.#primary !== primary) return
    this.#primary = undefined
    this.#onPrimaryChange(undefined)
    const ending = primary.pool.end().catch(() => {})
    this.#draining.add(ending)
    void ending.finally(() => this.#draining.delete(ending))
  }
}

/**
 * What each host of the URL answers now, in a few words per host ("127.0.0.1:5432: password
 * authentication failed for user \"till\"", "db2:5432: a standby (in recovery)"): for the
 * message of a process that found no primary, so the owner sees the server's own reason
 * rather than only that none took writes. Each host is asked once, at most `timeoutMillis`.
 */
export async function describeHosts(url: DatabaseUrl, timeoutMillis = 2_000): Promise<string> {
  const answers = await Promise.all(
    url.hosts.map(async (host) => {
      const client = new pg.Client({ ...clientConfig(url, host), connectionTimeoutMillis: timeoutMillis, query_timeout: timeoutMillis })
      client.on('error', () => {})
      try {
        await client.connect()
        const { rows } = await client.query<{ standby: boolean; readOnly: string }>(`SELECT pg_is_in_recovery() AS standby, current_setting('transaction_read_only') AS "readOnly"`)
        const state = rows[0]?.standby ? 'a standby (in recovery)' : rows[0]?.readOnly === 'on' ? 'read-only' : 'takes writes now'
        return `${host.host}:${host.port}: ${state}`
      } catch (err) {
        const e = err as { message?: string; code?: string }
        return `${host.host}:${host.port}: ${e.message || e.code || String(err)}`
      } finally {
        client.end().catch(() => {})
      }
    }),
  )
  return answers.join('; ')
}
