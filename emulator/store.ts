import fs from 'node:fs'
import path from 'node:path'
import Database from 'better-sqlite3'
import { invalid } from './errors'

// The emulator's own SQLite file (never the store's database). Stripe objects are stored as
// JSON; the few fields that lists filter on are copied into columns. `seq` is the insertion
// order, which is how "newest first" and cursors (starting_after/ending_before) work even
// when many objects share one `created` second.

const SCHEMA = `
CREATE TABLE IF NOT EXISTS objects (
  seq INTEGER PRIMARY KEY AUTOINCREMENT,
  id TEXT NOT NULL UNIQUE,
  type TEXT NOT NULL,
  created INTEGER NOT NULL,
  status TEXT,
  payment_intent TEXT,
  expires_at INTEGER,
  parent TEXT,
  data TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS objects_type_seq ON objects(type, seq);
CREATE INDEX IF NOT EXISTS objects_open_sessions ON objects(expires_at) WHERE type = 'checkout.session' AND status = 'open';
CREATE INDEX IF NOT EXISTS objects_payment_intent ON objects(payment_intent, seq) WHERE payment_intent IS NOT NULL;
CREATE INDEX IF NOT EXISTS objects_parent ON objects(parent, seq) WHERE parent IS NOT NULL;

CREATE TABLE IF NOT EXISTS events (
  seq INTEGER PRIMARY KEY AUTOINCREMENT,
  id TEXT NOT NULL UNIQUE,
  type TEXT NOT NULL,
  created INTEGER NOT NULL,
  data TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS events_type_seq ON events(type, seq);

CREATE TABLE IF NOT EXISTS deliveries (
  id INTEGER PRIMARY KEY AUTOINCREMENT,
  event_id TEXT NOT NULL,
  url TEXT NOT NULL,
  status TEXT NOT NULL DEFAULT 'pending',
  attempts INTEGER NOT NULL DEFAULT 0,
  next_attempt_at INTEGER NOT NULL,
  locked_until INTEGER,
  last_status INTEGER,
  last_error TEXT,
  created_at INTEGER NOT NULL,
  delivered_at INTEGER
);
CREATE INDEX IF NOT EXISTS deliveries_due ON deliveries(next_attempt_at) WHERE status = 'pending';
CREATE INDEX IF NOT EXISTS deliveries_event ON deliveries(event_id);

CREATE TABLE IF NOT EXISTS idempotency (
  key TEXT PRIMARY KEY,
  method TEXT NOT NULL,
  path TEXT NOT NULL,
  params TEXT NOT NULL,
  status INTEGER NOT NULL,
  body TEXT NOT NULL,
  created_at INTEGER NOT NULL
);

CREATE TABLE IF NOT EXISTS tasks (
  id INTEGER PRIMARY KEY AUTOINCREMENT,
  run_at INTEGER NOT NULL,
  kind TEXT NOT NULL,
  subject TEXT NOT NULL,
  payload TEXT NOT NULL DEFAULT '{}'
);
CREATE INDEX IF NOT EXISTS tasks_due ON tasks(run_at);

CREATE TABLE IF NOT EXISTS settings (
  key TEXT PRIMARY KEY,
  value TEXT NOT NULL
);
`

export type ObjectType =
  | 'checkout.session'
  | 'item'
  | 'product'
  | 'price'
  | 'shipping_rate'
  | 'payment_intent'
  | 'charge'
  | 'refund'
  | 'dispute'
  | 'coupon'
  | 'promotion_code'
  | 'tax_rate'
  | 'customer'

export type DeliveryRow = {
  id: number
  event_id: string
  url: string
  status: 'pending' | 'delivered' | 'failed'
  attempts: number
  next_attempt_at: number
  locked_until: number | null
  last_status: number | null
  last_error: string | null
  created_at: number
  delivered_at: number | null
}

export type ListPage = { rows: string[]; hasMore: boolean }
export type Cursor = { startingAfter?: string; endingBefore?: string }

type Where = { sql: string[]; args: unknown[] }

export class Store {
  readonly db: Database.Database

  constructor(file: string) {
    fs.mkdirSync(path.dirname(path.resolve(/*turbopackIgnore: true*/ file)), { recursive: true })
    this.db = new Database(file)
    this.db.pragma('busy_timeout = 5000')
    this.db.pragma('journal_mode = WAL')
    this.db.pragma('synchronous = NORMAL')
    this.db.exec(SCHEMA)
  }

  private readonly statements = new Map<string, Database.Statement>()

  private stmt(sql: string): Database.Statement {
    let statement = this.statements.get(sql)
    if (!statement) {
      statement = this.db.prepare(sql)
      this.statements.set(sql, statement)
    }
    return statement
  }

  close(): void {
    if (this.db.open) this.db.close()
  }

  get isOpen(): boolean {
    return this.db.open
  }

  /** One immediate transaction; the body must be synchronous (better-sqlite3 commits at the end of the call). */
  write<T>(fn: () => T): T {
    return this.db.transaction(fn).immediate()
  }

  // ---- objects

  getObject<T>(id: string, type?: ObjectType): T | undefined {
    const row = this.stmt('SELECT type, data FROM objects WHERE id = ?').get(id) as { type: string; data: string } | undefined
    if (!row || (type && row.type !== type)) return undefined
    return JSON.parse(row.data) as T
  }

  /** Inserts or replaces the object; an update keeps its place (seq) in lists. */
  putObject(type: ObjectType, object: { id: string; created?: number }, index: { status?: string | null; paymentIntent?: string | null; expiresAt?: number | null; parent?: string | null } = {}): void {
    this
      .stmt(
        `INSERT INTO objects (id, type, created, status, payment_intent, expires_at, parent, data)
         VALUES (@id, @type, @created, @status, @paymentIntent, @expiresAt, @parent, @data)
         ON CONFLICT(id) DO UPDATE SET status = excluded.status, payment_intent = excluded.payment_intent,
           expires_at = excluded.expires_at, parent = COALESCE(excluded.parent, objects.parent), data = excluded.data`,
      )
      .run({
        id: object.id,
        type,
        // Line items have no `created`; lists order by seq anyway.
        created: object.created ?? 0,
        status: index.status ?? null,
        paymentIntent: index.paymentIntent ?? null,
        expiresAt: index.expiresAt ?? null,
        parent: index.parent ?? null,
        data: JSON.stringify(object),
      })
  }

  openSessionsDue(nowSeconds: number, limit = 100): string[] {
    return (
      this
        .stmt(`SELECT id FROM objects WHERE type = 'checkout.session' AND status = 'open' AND expires_at <= ? ORDER BY expires_at LIMIT ?`)
        .all(nowSeconds, limit) as { id: string }[]
    ).map((r) => r.id)
  }

  /** Objects of one type matching every clause (each clause with its own `?`s), newest first. */
  findObjects<T>(type: ObjectType, where: { sql: string[]; args: unknown[] }, limit = 100): T[] {
    const sql = ['type = ?', ...where.sql]
    return (this.db.prepare(`SELECT data FROM objects WHERE ${sql.join(' AND ')} ORDER BY seq DESC LIMIT ?`).all(type, ...where.args, limit) as { data: string }[]).map(
      (r) => JSON.parse(r.data) as T,
    )
  }

  deleteObject(id: string, type: ObjectType): boolean {
    return this.stmt('DELETE FROM objects WHERE id = ? AND type = ?').run(id, type).changes === 1
  }

  childIds(parent: string, type: ObjectType): string[] {
    return (this.stmt('SELECT id FROM objects WHERE parent = ? AND type = ? ORDER BY seq').all(parent, type) as { id: string }[]).map((r) => r.id)
  }

  children<T>(parent: string, type: ObjectType): T[] {
    return (this.stmt('SELECT data FROM objects WHERE parent = ? AND type = ? ORDER BY seq').all(parent, type) as { data: string }[]).map(
      (r) => JSON.parse(r.data) as T,
    )
  }

  /**
   * One page of a list. `order: 'desc'` is Stripe's newest-first; 'asc' is for line items.
   * Cursors name an object of the same list; an unknown cursor is a 400 like Stripe's.
   */
  listPage(
    table: 'objects' | 'events',
    where: Where,
    opts: { limit: number; cursor: Cursor; order: 'asc' | 'desc'; cursorType?: string; cursorNoun: string },
  ): ListPage {
    const sql = [...where.sql]
    const args = [...where.args]
    let forward = true
    const cursorId = opts.cursor.startingAfter ?? opts.cursor.endingBefore
    if (cursorId) {
      const cursorRow = this.stmt(`SELECT seq FROM ${table} WHERE id = ?${table === 'objects' ? ' AND type = ?' : ''}`).get(
        ...(table === 'objects' ? [cursorId, opts.cursorType] : [cursorId]),
      ) as { seq: number } | undefined
      const param = opts.cursor.startingAfter ? 'starting_after' : 'ending_before'
      if (!cursorRow) throw invalid(`No such ${opts.cursorNoun}: '${cursorId}'`, param, 'resource_missing')
      forward = !!opts.cursor.startingAfter
      const after = opts.order === 'desc' ? '<' : '>'
      const before = opts.order === 'desc' ? '>' : '<'
      sql.push(`seq ${forward ? after : before} ?`)
      args.push(cursorRow.seq)
    }
    const direction = forward === (opts.order === 'desc') ? 'DESC' : 'ASC'
    const rows = this
      .stmt(`SELECT data FROM ${table} ${sql.length ? `WHERE ${sql.join(' AND ')}` : ''} ORDER BY seq ${direction} LIMIT ?`)
      .all(...args, opts.limit + 1) as { data: string }[]
    const hasMore = rows.length > opts.limit
    const page = rows.slice(0, opts.limit).map((r) => r.data)
    // ending_before pages are fetched backwards but returned in the list's usual order.
    if (!forward) page.reverse()
    return { rows: page, hasMore }
  }

  // ---- events and deliveries

  insertEvent(event: { id: string; type: string; created: number }): void {
    this.stmt('INSERT INTO events (id, type, created, data) VALUES (?, ?, ?, ?)').run(event.id, event.type, event.created, JSON.stringify(event))
  }

  getEvent<T>(id: string): T | undefined {
    const row = this.stmt('SELECT data FROM events WHERE id = ?').get(id) as { data: string } | undefined
    return row ? (JSON.parse(row.data) as T) : undefined
  }

  pendingDeliveries(eventId: string): number {
    return (this.stmt(`SELECT count(*) AS n FROM deliveries WHERE event_id = ? AND status = 'pending'`).get(eventId) as { n: number }).n
  }

  insertDelivery(eventId: string, url: string, nowMs: number): void {
    this.stmt('INSERT INTO deliveries (event_id, url, next_attempt_at, created_at) VALUES (?, ?, ?, ?)').run(eventId, url, nowMs, nowMs)
  }

  /** Claims up to `limit` due deliveries for `leaseMs`, so two processes never send the same attempt. */
  claimDeliveries(nowMs: number, limit: number, leaseMs: number, force = false): DeliveryRow[] {
    if (limit <= 0) return []
    return this.write(() => {
      const rows = this
        .stmt(
          `SELECT * FROM deliveries WHERE status = 'pending' AND (? OR next_attempt_at <= ?)
             AND (locked_until IS NULL OR locked_until <= ?) ORDER BY next_attempt_at, id LIMIT ?`,
        )
        .all(force ? 1 : 0, nowMs, nowMs, limit) as DeliveryRow[]
      const lock = this.stmt('UPDATE deliveries SET locked_until = ? WHERE id = ?')
      for (const row of rows) lock.run(nowMs + leaseMs, row.id)
      return rows
    })
  }

  recordAttempt(id: number, outcome: { ok: boolean; status: number | null; error: string | null; nowMs: number; nextAttemptAt: number | null }): void {
    this
      .stmt(
        `UPDATE deliveries SET attempts = attempts + 1, last_status = ?, last_error = ?, locked_until = NULL,
           status = CASE WHEN ? THEN 'delivered' WHEN ? IS NULL THEN 'failed' ELSE 'pending' END,
           next_attempt_at = COALESCE(?, next_attempt_at),
           delivered_at = CASE WHEN ? THEN ? ELSE delivered_at END
         WHERE id = ?`,
      )
      .run(outcome.status, outcome.error, outcome.ok ? 1 : 0, outcome.nextAttemptAt, outcome.nextAttemptAt, outcome.ok ? 1 : 0, outcome.nowMs, id)
  }

  deliveries(filter: { eventId?: string; status?: string; limit?: number } = {}): (DeliveryRow & { event_type: string })[] {
    const where: string[] = []
    const args: unknown[] = []
    if (filter.eventId) {
      where.push('d.event_id = ?')
      args.push(filter.eventId)
    }
    if (filter.status) {
      where.push('d.status = ?')
      args.push(filter.status)
    }
    return this
      .stmt(
        `SELECT d.*, e.type AS event_type FROM deliveries d JOIN events e ON e.id = d.event_id
         ${where.length ? `WHERE ${where.join(' AND ')}` : ''} ORDER BY d.id DESC LIMIT ?`,
      )
      .all(...args, filter.limit ?? 1000) as (DeliveryRow & { event_type: string })[]
  }

  // ---- idempotency

  getIdempotent(key: string): { method: string; path: string; params: string; status: number; body: string } | undefined {
    return this.stmt('SELECT method, path, params, status, body FROM idempotency WHERE key = ?').get(key) as
      | { method: string; path: string; params: string; status: number; body: string }
      | undefined
  }

  putIdempotent(key: string, row: { method: string; path: string; params: string; status: number; body: string }, nowMs: number): void {
    // Stripe keeps keys for at least 24 hours.
    this.stmt('DELETE FROM idempotency WHERE created_at < ?').run(nowMs - 24 * 3600_000)
    this
      .stmt('INSERT INTO idempotency (key, method, path, params, status, body, created_at) VALUES (?, ?, ?, ?, ?, ?, ?)')
      .run(key, row.method, row.path, row.params, row.status, row.body, nowMs)
  }

  // ---- scheduled work (async payment settlement)

  schedule(kind: string, subject: string, runAt: number, payload: unknown): void {
    this.stmt('INSERT INTO tasks (run_at, kind, subject, payload) VALUES (?, ?, ?, ?)').run(runAt, kind, subject, JSON.stringify(payload))
  }

  dueTasks(nowMs: number, limit = 50): { id: number; kind: string; subject: string; payload: string }[] {
    return this.stmt('SELECT id, kind, subject, payload FROM tasks WHERE run_at <= ? ORDER BY run_at, id LIMIT ?').all(nowMs, limit) as {
      id: number
      kind: string
      subject: string
      payload: string
    }[]
  }

  /** True for exactly one caller: whoever deletes the task runs it (in the same transaction). */
  takeTask(id: number): boolean {
    return this.stmt('DELETE FROM tasks WHERE id = ?').run(id).changes === 1
  }

  // ---- settings

  setting(key: string): string | undefined {
    return (this.stmt('SELECT value FROM settings WHERE key = ?').get(key) as { value: string } | undefined)?.value
  }

  setSetting(key: string, value: string | null): void {
    if (value === null) this.stmt('DELETE FROM settings WHERE key = ?').run(key)
    else this.stmt('INSERT INTO settings (key, value) VALUES (?, ?) ON CONFLICT(key) DO UPDATE SET value = excluded.value').run(key, value)
  }
}
