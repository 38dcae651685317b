import type pg from 'pg'
import type { ChangeRow } from '../catalog-changes'
import type { Connects } from './transaction'

// The change feed of the response cache on PostgreSQL: the counterpart of lib/cache.ts's
// catalog_changes rows and its `PRAGMA data_version` poll (docs/decisions/044-catalog-changes-on-postgres.md).
//
// Recording: inside the write transaction, the same rows lib/cache writes, and a NOTIFY that
// PostgreSQL delivers to every listening connection when (and only if) the transaction
// commits. Hearing: one connection per app server LISTENs on the primary; a notification, a
// backstop timer and every (re)connection make it read the rows past the last one it saw.
// Notifications are a hint, never the record: they are not replicated, and one sent while a
// listener is disconnected is lost, so what a listener hands on always comes from the rows.
//
// "Past the last id seen" is only correct if ids become visible in id order, which PostgreSQL
// does not promise: a transaction that took id 10 can commit after the one that took id 11,
// and a reader that saw 11 would skip 10 forever. So every transaction that records a change
// first takes one transaction-level advisory lock, held until it commits or rolls back. Ids
// are drawn under the lock, so the transaction that holds it takes the next ids and is
// visible before the next one can take any: commit order is id order. The same lock makes
// each row's sold-out state true after the rows before it under READ COMMITTED (the default of
// db/pg/transaction.ts, where each statement takes a new snapshot): the row's statement starts after
// the previous change committed, so it sees that change's stock, as SQLite's single writer
// does (two sales of the last units of two variants of one product, each unaware of the
// other, would otherwise both record "not sold out"). The cost: transactions that record a
// change take turns from their record call to their COMMIT (the decision record has the
// figures). Recording is therefore the last thing a transaction does: a transaction that took
// row locks after it could deadlock with one waiting for the lock (retried by transaction(),
// but a waste).

/** The channel every change is announced on; the payload is the writer's origin. */
export const CHANGES_CHANNEL = 'till_catalog_changes'

// Any fixed number, not used by another lock (db/pg/migrate.ts takes 0x7111_0039).
const LOCK_KEY = 0x7111_0044

// catalog_changes' bigint ids and product ids arrive from node-postgres as strings.
type PgChangeRow = { id: string; product_id: string | null; slug: string | null; is_sold_out: number; sold_out_variants: number; origin: string }
const RETURNED = 'id, product_id, slug, is_sold_out, sold_out_variants, origin'

function toChangeRow(row: PgChangeRow): ChangeRow {
  return {
    id: Number(row.id),
    productId: row.product_id === null ? null : Number(row.product_id),
    slug: row.slug,
    isSoldOut: row.is_sold_out,
    soldOutVariants: row.sold_out_variants,
    origin: row.origin,
  }
}

/** Takes the change lock (ids then commit in order) and announces the commit to come. */
async function serialize(client: pg.ClientBase, origin: string): Promise<void> {
  // A separate statement: the insert's snapshot must be taken after the lock is granted, so
  // that it sees the change committed by the transaction that held it before.
  await client.query('SELECT pg_advisory_xact_lock($1), pg_notify($2, $3)', [LOCK_KEY, CHANGES_CHANNEL, origin])
}

/**
 * Per product touched by these variants, what it shows at `$3` after this transaction's
 * change: db/stock-rules.ts's soldOutSqlText with its availability rule (stock less the
 * active, unexpired holds, never below 0).
 */
const soldOutSql = (now: string, where = '') => `
    SELECT v.product_id, coalesce(sum(a.available), 0) AS available, count(*) FILTER (WHERE a.available = 0) AS gone
    FROM variants v CROSS JOIN LATERAL (
      SELECT greatest(v.stock - coalesce((SELECT sum(h.quantity) FROM stock_holds h
        WHERE h.variant_id = v.id AND h.status = 'active' AND h.expires_at > ${now}), 0), 0) AS available
    ) a
    ${where}
    GROUP BY v.product_id`
const STOCK_CHANGED_SQL = `
  INSERT INTO catalog_changes (product_id, slug, is_sold_out, sold_out_variants, origin, created_at)
  SELECT p.id, p.slug, (s.available = 0)::integer, s.gone, $2::text, $3::bigint
  FROM products p JOIN (${soldOutSql('$3', 'WHERE v.product_id IN (SELECT product_id FROM variants WHERE id = ANY($1::bigint[]))')}
  ) s ON s.product_id = p.id
  ORDER BY p.id
  RETURNING ${RETURNED}`

/** Per product: whether it is sold out at `now` and how many of its variants are (what a listener knows before the first change it hears). */
export async function soldOutStates(client: pg.ClientBase, now: number): Promise<{ productId: number; isSoldOut: number; gone: number }[]> {
  const { rows } = await client.query<{ product_id: string; available: string; gone: string }>(soldOutSql('$1::bigint'), [now])
  return rows.map((row) => ({ productId: Number(row.product_id), isSoldOut: Number(row.available) === 0 ? 1 : 0, gone: Number(row.gone) }))
}

/**
 * lib/cache's markingStockChanged on PostgreSQL (through db/catalog-changes.ts's
 * recordingStockChanged): what can be sold changed for these variants. Call with the
 * transaction's own client (db/pg/transaction.ts), as the transaction's last statement (see the
 * top of this file). Returns the rows written, for the writer to announce once it commits;
 * other app servers hear them through their listeners then, never before and never after a
 * rollback.
 */
export async function recordStockChanged(client: pg.ClientBase, variantIds: readonly number[], origin: string, now = Date.now()): Promise<ChangeRow[]> {
  const ids = [...new Set(variantIds)].filter(Number.isSafeInteger)
  if (ids.length === 0) return []
  await serialize(client, origin)
  const { rows } = await client.query<PgChangeRow>(STOCK_CHANGED_SQL, [ids, origin, now])
  return rows.map(toChangeRow)
}

/** lib/cache's markingCatalogChanged on PostgreSQL (db/catalog-changes.ts's recordingCatalogChanged): a product, variant, picture or collection changed; every page may show it. */
export async function recordCatalogChanged(client: pg.ClientBase, origin: string, now = Date.now()): Promise<ChangeRow[]> {
  await serialize(client, origin)
  const { rows } = await client.query<PgChangeRow>(
    `INSERT INTO catalog_changes (product_id, slug, origin, created_at) VALUES (NULL, NULL, $1::text, $2::bigint) RETURNING ${RETURNED}`,
    [origin, now],
  )
  return rows.map(toChangeRow)
}

// ---------------------------------------------------------------------------------------
// Hearing the other app servers

export interface ChangeListenerOptions {
  /** This process's name in catalog_changes.origin: rows it wrote are skipped. */
  origin: string
  /**
   * Rows other processes wrote, in id order (which is commit order), each once, as soon as
   * they are read. An error thrown here is reported to onError; the rows count as handed on.
   */
  onChanges: (rows: ChangeRow[]) => void
  /** A lost connection, a failed read or connect, an error thrown by onChanges: for the log. */
  onError?: (err: unknown) => void
  /**
   * How often the rows are read with no notification: what bounds the delay if a
   * notification were ever lost without the connection being lost with it, and what notices
   * a connection that died silently (see readTimeoutMillis).
   */
  backstopMillis?: number
  /** A read that takes longer means the connection is dead (a primary gone without closing its sockets): it is closed and opened again. */
  readTimeoutMillis?: number
}

const DEFAULT_BACKSTOP_MS = 500
const DEFAULT_READ_TIMEOUT_MS = 5_000
// Rows read per statement; a longer backlog (a listener back from a long disconnection) is
// read in several, each handed on as it comes.
const BATCH = 500
const MAX_RECONNECT_DELAY_MS = 1_000

/** One connection of the listener, from connect to its end. */
type Connection = { client: pg.PoolClient; isDead: boolean; ended: Promise<void> }

/**
 * Hears the catalog changes other app servers commit: one connection taken from `pool` (on
 * a cluster, a PrimaryPool of its own with `max: 1`, so the listener never holds one of the
 * request pool's clients) LISTENs on the primary and is kept for the listener's life. On a
 * notification from another origin, every `backstopMillis`, and after every (re)connection,
 * it reads the rows past the last id it has seen and hands on those of other origins. After
 * a lost connection (the primary changed, the server closed it) it takes another, LISTENs
 * again and then reads what it missed by rows: LISTEN before the read, so a change committed
 * in between is either in the read or announced afterwards.
 *
 * It starts after the newest row present when it first connects (`ready`).
 */
export class ChangeListener {
  readonly #pool: Connects
  readonly #origin: string
  readonly #onChanges: (rows: ChangeRow[]) => void
  readonly #onError: (err: unknown) => void
  readonly #readTimeoutMillis: number
  readonly #backstop: NodeJS.Timeout
  #connection: Connection | undefined
  #connecting: Promise<void> | undefined
  #lastSeenId: number | undefined
  #connections = 0
  #isClosed = false
  #isReading = false
  #isReadDue = false
  // ends the wait between two connection attempts when the listener is closed
  #stopWaiting: (() => void) | undefined
  /** Resolves once the listener is connected and knows where it starts (it keeps trying until then), or once it is closed. */
  readonly ready: Promise<void>

  constructor(pool: Connects, options: ChangeListenerOptions) {
    this.#pool = pool
    this.#origin = options.origin
    this.#onChanges = options.onChanges
    this.#onError = options.onError ?? (() => {})
    this.#readTimeoutMillis = options.readTimeoutMillis ?? DEFAULT_READ_TIMEOUT_MS
    this.#backstop = setInterval(() => this.#wake(), options.backstopMillis ?? DEFAULT_BACKSTOP_MS)
    // The connection keeps a server process alive; the timer alone must not keep a script alive.
    this.#backstop.unref()
    this.ready = this.#connect()
  }

  /** The id of the last row read (of any origin). */
  get lastSeenId(): number | undefined {
    return this.#lastSeenId
  }

  /** True while a connection is listening; false between a lost connection and the next. */
  get isListening(): boolean {
    return this.#connection !== undefined && !this.#connection.isDead
  }

  /** How many times the listener has connected: 1, plus one per reconnection. */
  get connections(): number {
    return this.#connections
  }

  /**
   * Stops listening and closes the connection; resolves once it is closed and no timer is
   * left. A connection attempt in progress is waited for (a PrimaryPool looking for a primary
   * waits up to its `waitForPrimaryMillis`), then closed.
   */
  async close(): Promise<void> {
    this.#isClosed = true
    clearInterval(this.#backstop)
    this.#stopWaiting?.()
    await this.#connecting
    const connection = this.#connection
    this.#connection = undefined
    if (connection) {
      this.#drop(connection, undefined)
      await connection.ended
    }
  }

  #connect(): Promise<void> {
    this.#connecting ??= this.#connectUntilListening().finally(() => (this.#connecting = undefined))
    return this.#connecting
  }

  async #connectUntilListening(): Promise<void> {
    for (let attempt = 0; !this.#isClosed; attempt++) {
      if (attempt > 0) await this.#wait(Math.min(100 * 2 ** (attempt - 1), MAX_RECONNECT_DELAY_MS))
      if (this.#isClosed) return
      let client: pg.PoolClient
      try {
        client = await this.#pool.connect()
      } catch (err) {
        this.#onError(err)
        continue
      }
      const connection: Connection = { client, isDead: false, ended: new Promise((resolve) => client.once('end', () => resolve())) }
      // Without an 'error' listener a server that closes this connection would crash the process.
      client.on('error', (err) => this.#lost(connection, err))
      client.once('end', () => this.#lost(connection, new Error('catalog changes: the listening connection ended')))
      client.on('notification', (message) => {
        if (message.channel === CHANGES_CHANNEL && message.payload !== this.#origin) this.#wake()
      })
      try {
        if (this.#isClosed) throw new Error('catalog changes: the listener was closed')
        await client.query(`LISTEN ${CHANGES_CHANNEL}`)
        // Where the first connection starts; a reconnection goes on from the last row read.
        if (this.#lastSeenId === undefined) {
          const { rows } = await client.query<{ id: string }>('SELECT coalesce(max(id), 0) AS id FROM catalog_changes')
          this.#lastSeenId = Number(rows[0]!.id)
        }
      } catch (err) {
        if (!this.#isClosed) this.#onError(err)
        this.#drop(connection, err)
        continue
      }
      if (connection.isDead) continue
      this.#connection = connection
      this.#connections++
      // Whatever was announced while no connection listened is lost: read it from the rows.
      this.#wake()
      return
    }
  }

  #wait(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const timer = setTimeout(resolve, ms)
      this.#stopWaiting = () => {
        clearTimeout(timer)
        resolve()
      }
    })
  }

  /** A read is due; one runs at a time, and one more after it if something came meanwhile. */
  #wake(): void {
    this.#isReadDue = true
    if (!this.#isReading) void this.#readWhileDue()
  }

  async #readWhileDue(): Promise<void> {
    this.#isReading = true
    try {
      while (this.#isReadDue && !this.#isClosed) {
        const connection = this.#connection
        if (!connection) return // the reconnection reads when it is back
        this.#isReadDue = false
        try {
          await this.#readPast(connection)
        } catch (err) {
          this.#lost(connection, err)
          this.#isReadDue = true
        }
      }
    } finally {
      this.#isReading = false
    }
  }

  /** Reads the rows past the last one seen, in batches, handing each batch on as it comes. */
  async #readPast(connection: Connection): Promise<void> {
    for (;;) {
      const after = this.#lastSeenId ?? 0
      const timer = setTimeout(
        () => this.#lost(connection, new Error(`catalog changes: a read took over ${this.#readTimeoutMillis} ms; the connection is taken for dead`)),
        this.#readTimeoutMillis,
      )
      let rows: PgChangeRow[]
      try {
        rows = (await connection.client.query<PgChangeRow>(`SELECT ${RETURNED} FROM catalog_changes WHERE id > $1 ORDER BY id LIMIT $2`, [after, BATCH])).rows
      } finally {
        clearTimeout(timer)
      }
      // Closed while reading: nothing more is handed on.
      if (rows.length === 0 || this.#isClosed) return
      const changes = rows.map(toChangeRow)
      this.#lastSeenId = changes[changes.length - 1]!.id
      const others = changes.filter((row) => row.origin !== this.#origin)
      if (others.length > 0) {
        try {
          this.#onChanges(others)
        } catch (err) {
          this.#onError(err)
        }
      }
      if (rows.length < BATCH) return
    }
  }

  /** The connection failed: let it go and, unless closed, take another. */
  #lost(connection: Connection, err: unknown): void {
    if (connection.isDead) return
    if (!this.#isClosed) this.#onError(err)
    this.#drop(connection, err)
    if (this.#connection === connection) {
      this.#connection = undefined
      if (!this.#isClosed) void this.#connect()
    }
  }

  /** Gives the connection back to be closed, never reused: it is LISTENing. */
  #drop(connection: Connection, err: unknown): void {
    if (connection.isDead) return
    connection.isDead = true
    // The error tells a PrimaryPool whether its primary is gone; anything else just closes it.
    connection.client.release(err instanceof Error ? err : true)
  }
}
