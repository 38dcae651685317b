import 'server-only'
import { randomBytes, timingSafeEqual } from 'node:crypto'
import { sql } from 'drizzle-orm'
import { revalidateTag } from 'next/cache'
import { getDb } from '@/db'
import * as changes from '@/db/catalog-changes'
import type { ChangeRow } from '@/db/catalog-changes'
import { ChangeListener } from '@/db/pg/changes'
import { PrimaryPool } from '@/db/pg/primary'
import type { DatabaseUrl } from '@/db/pg/url'
import { afterCommit, read, readNow, sqlRun, type Steps, type Tables, type Writer } from '@/db/tx'
import { frontCache, type FrontCache, type Scope } from '@/server/contract'
import { getEnv } from './env'
import { log } from './log'

// Names of what cached entries depend on, and the announcements that expire them. The
// catalog tags its reads with these; inventory marks every stock or hold change inside its
// transaction, so no caller has to remember to.
//
// Two caches hear the announcements: Next's (data cache and static pages, by tag) and the
// response cache in front of Next (server/response-cache.ts), which keeps whole anonymous
// responses and drops or refreshes only the pages that show what changed
// (docs/decisions/005-response-cache-and-lean-pages.md).

export const tags = {
  /** everything read from the catalog: products, collections, navigation, sitemap */
  catalog: 'catalog',
  /** every entry that shows availability (sold-out badges, in-stock filters) */
  stock: 'catalog:stock',
  product: (slug: string) => `catalog:product:${slug}`,
  collection: (slug: string) => `catalog:collection:${slug}`,
} as const

// ---------------------------------------------------------------------------------------
// The response cache's side of the contract (server/contract.ts): the front server puts
// `invalidate` in the FrontCache before Next loads; boot puts `poll` there. Next loads this
// module more than once (instrumentation, each route bundle), so the state lives on globalThis.

type State = {
  front: FrontCache
  /** names this process in catalog_changes, so it skips the rows it wrote */
  origin: string
  /** lets this process's own loopback request revalidate Next's cache (see revalidate) */
  token: string
  /** each product's sold-out badge and sold-out variants as last known, to tell a flip or a
   * variant selling out from a sale that changes only a count */
  known: Map<number, { isSoldOut: boolean; soldOutVariants: number }>
  lastSeenId: number
  /** stops hearing other processes' changes (SQLite's poll timer, PostgreSQL's listener) */
  stopHearing?: () => Promise<void>
}
const shared = globalThis as unknown as { tillCacheState?: State }
const state: State = (shared.tillCacheState ??= {
  front: frontCache(),
  origin: `${process.pid}-${randomBytes(6).toString('hex')}`,
  token: randomBytes(24).toString('hex'),
  known: new Map(),
  lastSeenId: 0,
})

// ---------------------------------------------------------------------------------------
// Marking changes (inside the write transaction)

/**
 * What can be sold changed for these variants (a sale, a hold, a release, a restock), as a
 * step of the write transaction that changed it (db/tx.ts): the products touched are written
 * to catalog_changes with it, and announced here once it commits. Never after a rollback. On
 * PostgreSQL the other app servers hear the rows through db/pg/changes.ts's listener; there
 * the mark takes the change lock until COMMIT (decision 044), so it is best made last.
 */
export function* markingStockChanged(_tx: Writer, _t: Tables, variantIds: readonly number[]): Steps<void> {
  if (variantIds.length === 0) return
  yield* remembering(yield* changes.recordingStockChanged(variantIds, state.origin, Date.now()))
}

/** A product, variant, picture or collection changed: every page may show it. A step of the write transaction. */
export function* markingCatalogChanged(_tx: Writer, _t: Tables): Steps<void> {
  yield* remembering(yield* changes.recordingCatalogChanged(state.origin, Date.now()))
}

function* remembering(rows: ChangeRow[]): Steps<void> {
  // One callback per mark (afterCommit keeps one per key and transaction): a sale that also
  // releases holds announces both, in order, once the transaction commits.
  if (rows.length > 0) yield* afterCommit(`cache.changes:${rows[0]!.id}`, () => announce(rows))
}

// ---------------------------------------------------------------------------------------
// Announcing changes (after commit, or when another process's rows are read)

/** Turns change rows into what the response cache drops, then refreshes Next's cache too. */
function announce(rows: readonly ChangeRow[]): void {
  if (rows.length === 0) return
  const scope: Scope = { products: [] }
  const nextTags = new Set<string>()
  for (const row of rows) {
    if (row.productId === null || row.slug === null) {
      scope.all = true
      nextTags.add(tags.catalog)
      nextTags.add(tags.stock)
      continue
    }
    const now = { isSoldOut: row.isSoldOut === 1, soldOutVariants: row.soldOutVariants }
    const before = state.known.get(row.productId)
    state.known.set(row.productId, now)
    scope.products!.push({
      slug: row.slug,
      isSoldOutChanged: before?.isSoldOut !== now.isSoldOut,
      hasSoldOutVariant: now.soldOutVariants > (before?.soldOutVariants ?? 0),
    })
    nextTags.add(tags.stock)
  }
  const at = Date.now()
  invalidateFront(scope)
  revalidate([...nextTags], () => invalidateFront({ ...scope, storedAfter: at }))
  log.debug('cache: changed', { all: scope.all === true, products: scope.products!.slice(0, 20).map((p) => p.slug) })
}

function invalidateFront(scope: Scope) {
  try {
    state.front.invalidate?.(scope)
  } catch (err) {
    log.error('cache: the response cache refused an invalidation', { err: String(err) })
  }
}

// How long after a direct revalidateTag Next has applied it: it runs when the request that
// made the change ends, so the response cache is told again after this, and a page rendered
// in between from Next's old copy is dropped.
const SETTLE_MS = 250

/**
 * Expires Next's entries by tag, then calls `settled`. Inside a request (a server action, the
 * webhook) revalidateTag works directly; elsewhere (the job worker, another process's change
 * read by the poll) it needs a request context, so this process asks itself through
 * `POST /api/cache` with a token only it knows.
 */
function revalidate(names: string[], settled: () => void): void {
  if (names.length === 0) return
  try {
    for (const name of names) revalidateTag(name, { expire: 0 })
    setTimeout(settled, SETTLE_MS).unref()
    return
  } catch {
    // outside a request: below
  }
  if (!state.front.poll) return // not a serving process (a script, a test): nothing to refresh
  const url = `http://127.0.0.1:${getEnv().port}${REVALIDATE_PATH}`
  fetch(url, { method: 'POST', headers: { 'content-type': 'application/json', [TOKEN_HEADER]: state.token }, body: JSON.stringify({ tags: names }) })
    .then((res) => {
      if (!res.ok) log.warn('cache: loopback revalidation refused', { status: res.status })
    })
    .catch((err) => log.warn('cache: loopback revalidation failed', { err: String(err) }))
    .finally(settled)
}

const REVALIDATE_PATH = '/api/cache'
const TOKEN_HEADER = 'x-till-cache-token'

/**
 * The loopback request of revalidate(): with this process's token, expires the catalog tags
 * named in the body. Returns false (answer 404) for anyone else.
 */
export function revalidateFromLoopback(token: string | null, body: unknown): boolean {
  const expected = Buffer.from(state.token)
  const given = Buffer.from(token ?? '')
  if (given.length !== expected.length || !timingSafeEqual(given, expected)) return false
  const names = (body as { tags?: unknown } | null)?.tags
  if (!Array.isArray(names)) return true
  for (const name of names.slice(0, 20)) if (typeof name === 'string' && /^catalog(?::[\w-]+){0,2}$/.test(name)) revalidateTag(name, { expire: 0 })
  return true
}

/** The header revalidateFromLoopback reads its token from. */
export const revalidateTokenHeader = TOKEN_HEADER

// ---------------------------------------------------------------------------------------
// Other processes' changes

// Read at most this many rows a poll; more means a burst or a long pause: drop everything.
const POLL_BATCH = 500
// Rows are read by the poll within a second; kept a while longer for a process that paused.
const KEEP_CHANGES_MS = 10 * 60_000
const POLL_INTERVAL_MS = 500

/**
 * Called once at boot: from now on the response cache serves, and hears the changes other
 * processes commit. On SQLite it asks poll() before each lookup (and a timer every half
 * second); on PostgreSQL a listening connection hears them (below). Either way the rows
 * another process wrote are announced here as if this process had made them. Carts, jobs,
 * sessions and rate limits write no such rows and so leave every page alone.
 */
export async function installFrontCache(): Promise<void> {
  const url = getEnv().databaseUrl
  if (url) await hearPostgres(url)
  else hearSqlite()
}

/**
 * Stops hearing other processes' changes (shutdown, before the database goes): the response
 * cache answers nothing from then on.
 */
export async function stopFrontCache(): Promise<void> {
  state.front.poll = () => false
  await state.stopHearing?.()
  state.stopHearing = undefined
}

/**
 * SQLite: a poll costs one `PRAGMA data_version` (it moves only when another connection
 * commits); when it moved, the catalog_changes rows written since the last poll, if any, are
 * announced. poll() answers false (never cache) once the database is closed.
 */
function hearSqlite(): void {
  let dataVersion: { get(): unknown } | null = null
  let seenVersion: unknown = undefined
  let newer: { all(since: number, limit: number): unknown[] } | null = null
  const db = () => getDb().$client
  state.lastSeenId = Number((db().prepare('SELECT coalesce(max(id), 0) FROM catalog_changes').pluck().get() as number) ?? 0)
  learnSoldOut(readNow((_db) => changes.readingSoldOut(Date.now())))
  state.front.poll = () => {
    try {
      dataVersion ??= db().prepare('PRAGMA data_version').pluck()
      const version = dataVersion.get()
      if (version === seenVersion) return true
      seenVersion = version
      newer ??= db().prepare(
        `SELECT ${changes.SQLITE_ROW_COLUMNS} FROM catalog_changes WHERE id > ? ORDER BY id LIMIT ?`,
      )
      const rows = newer.all(state.lastSeenId, POLL_BATCH) as ChangeRow[]
      if (rows.length === 0) return true
      const isGap = rows[0]!.id !== state.lastSeenId + 1 || rows.length === POLL_BATCH
      state.lastSeenId = rows[rows.length - 1]!.id
      if (isGap) {
        // Rows were pruned or too many came at once: whatever they said, everything may differ.
        learnSoldOut(readNow((_db) => changes.readingSoldOut(Date.now())))
        announceEverything()
        if (rows.length === POLL_BATCH) seenVersion = undefined // read the rest next time
      } else {
        announce(rows.filter((row) => row.origin !== state.origin))
      }
      return true
    } catch {
      dataVersion = null
      newer = null
      seenVersion = undefined
      return false
    }
  }
  const timer = setInterval(() => state.front.poll?.(), POLL_INTERVAL_MS)
  timer.unref()
  state.stopHearing = async () => clearInterval(timer)
}

/**
 * PostgreSQL: db/pg/changes.ts's listener (decision 044) on a connection of its own (a pool
 * of one, which finds the primary as the request pool does) hears every commit that records
 * a change and hands on the rows of other app servers, in commit order. poll() answers true
 * while it listens: between a lost connection and the next the cache is off, since a change
 * committed meanwhile is heard only once the listener is back (it reads the rows it missed
 * then). After such a gap everything cached is dropped, as SQLite's poll does after one: the
 * rows it missed may have been pruned.
 */
async function hearPostgres(url: DatabaseUrl): Promise<void> {
  const pool = new PrimaryPool(url, { max: 1 })
  const listener = new ChangeListener(pool, {
    origin: state.origin,
    onChanges: (rows) => announce(rows),
    onError: (err) => log.warn('cache: the change listener lost or could not open its connection', { err: String(err) }),
  })
  await listener.ready
  learnSoldOut(await read((_db) => changes.readingSoldOut(Date.now())))
  let connections = listener.connections
  state.front.poll = () => {
    if (!listener.isListening) return false
    if (listener.connections !== connections) {
      connections = listener.connections
      announceEverything()
    }
    return true
  }
  state.stopHearing = async () => {
    const closing = listener.close()
    // Ended at once, not after close(): a listener reconnecting while the database is down
    // waits for a primary (up to 30 s) before close() returns, and ending its pool ends that.
    await pool.end()
    await closing
  }
}

/** What every product shows now, so the first sale of each is not taken for a flip. */
function learnSoldOut(rows: { productId: number; isSoldOut: number; gone: number }[]): void {
  state.known.clear()
  for (const row of rows) state.known.set(row.productId, { isSoldOut: row.isSoldOut === 1, soldOutVariants: row.gone })
}

/** Whatever changed, everything may differ. */
function announceEverything(): void {
  announce([{ id: state.lastSeenId, productId: null, slug: null, isSoldOut: 0, soldOutVariants: 0, origin: '' }])
}

/** Deletes change rows no process still needs, as a step of the hold sweep's transaction (the same text on both engines). */
export function* pruningChanges(now = Date.now()): Steps<number> {
  return (yield* sqlRun(sql`DELETE FROM catalog_changes WHERE created_at < ${now - KEEP_CHANGES_MS}`)).changes
}
