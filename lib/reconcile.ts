import 'server-only'
import { count, desc, eq, max } from 'drizzle-orm'
import { all, get, read, run as runStep, transaction, type Reader, type Steps, type Tables } from '@/db/tx'
import { LEASE_TTL_MS } from './jobs'
import { withLease } from './jobs/lease'
import { log } from './log'
import * as orderRules from './orders'
import * as payments from './payments'

// The safety net under webhooks: whatever Stripe says happened ends up applied, even when
// a webhook never arrived. It replays Stripe's events since the last cursor (minus a
// margin, since events can become visible out of order) and walks the completed Checkout
// Sessions of the last 72 hours, through the same idempotent paths the webhook uses.
//
// It must stay cheap however often it runs (every boot, every 5 minutes): an event already
// recorded costs nothing (handle() finds its row), and a session whose order already shows
// what the list says is not fetched again. Every completed session also appears as an event,
// so the session walk is the net under the net: it runs hourly (and whenever the event replay
// could not finish), not on every run. A run where nothing is missing costs one page of
// events, plus one page of sessions in the hourly walk. Lists are walked to the end; should
// one reach the page cap, the run says so and keeps the cursor rather than skip what it did
// not read.

const MARGIN_SECONDS = 15 * 60
const SESSION_WINDOW_SECONDS = 72 * 3600
/** 100 items a page: 20,000 events or sessions in one run before it stops and reports. */
export const MAX_PAGES = 200
export const SESSION_WALK_EVERY_MS = 3600_000

export type ReconcileReport = {
  eventsSeen: number
  sessionsSeen: number
  /** sessions whose order was missing or behind the list, so they were read from Stripe */
  sessionsFetched: number
  /** sessions that are not this store's (no cart_id, not a Payment Link) */
  foreignSessions: number
  ordersCreated: number
  mismatches: { sessionId: string; orderCents: number; stripeCents: number }[]
  failures: { id: string; error: string }[]
  /** lists that hit the page cap (the events cursor then stays where it was) */
  capped: ('events' | 'sessions')[]
  /** whether this run walked the sessions (hourly, or when the event replay was incomplete) */
  isSessionsWalked: boolean
  /** Stripe API requests this run made */
  stripeCalls: number
  /** seconds; the next run lists events from here minus the margin */
  eventsCursor: number | null
}

export type RunOptions = {
  /** page cap per list (default MAX_PAGES) */
  maxPages?: number
  /** 'always' walks the sessions whatever the last walk (npm run reconcile); default: hourly */
  walkSessions?: 'always' | 'hourly'
}

/**
 * The lease every reconcile runs under: the scheduled job's (lib/jobs names it after the job
 * kind), `npm run reconcile`'s and the owner's button's. Two runs at once would read the same
 * pages and race on the cursor.
 */
export const LEASE = 'reconcile'

/** Another reconcile holds the lease (on this app server or another); the caller may try again shortly. */
export class AlreadyRunning extends Error {
  constructor(
    readonly holder: string | undefined,
    readonly expiresAt: number | undefined,
  ) {
    super('Another reconciliation is running right now; try again in a minute.')
    this.name = 'AlreadyRunning'
  }
}

/** run, under the reconcile lease: for a caller that does not hold it already (the owner's button). */
export async function runAlone(opts: RunOptions = {}): Promise<ReconcileReport> {
  const result = await withLease(LEASE, LEASE_TTL_MS, () => run(Date.now(), opts))
  if (!result.acquired) throw new AlreadyRunning(result.holder, result.expiresAt)
  return result.value
}

/** What a run starts from: the last run's cursor, when the sessions were last walked, how many orders there are. */
function* startingPoint(db: Reader, { reconcileRuns, orders }: Tables) {
  const last = yield* get(db.select({ eventsCursor: reconcileRuns.eventsCursor }).from(reconcileRuns).orderBy(desc(reconcileRuns.id)).limit(1))
  const walked = yield* get(db.select({ at: max(reconcileRuns.startedAt) }).from(reconcileRuns).where(eq(reconcileRuns.isSessionsWalked, true)))
  return { previousCursor: last?.eventsCursor ?? null, lastWalk: walked?.at == null ? null : Number(walked.at), orders: yield* countingOrders(db, orders) }
}

function* countingOrders(db: Reader, orders: Tables['orders']): Steps<number> {
  return Number((yield* get(db.select({ n: count() }).from(orders)))?.n ?? 0)
}

/** Runs reconciliation once. The caller holds the reconcile lease (runAlone, or the scheduled job's). */
export async function run(now = Date.now(), opts: RunOptions = {}): Promise<ReconcileReport> {
  const startedAt = now
  const maxPages = opts.maxPages ?? MAX_PAGES
  const { previousCursor, lastWalk, orders: ordersBefore } = await read(startingPoint)
  const nowSeconds = Math.floor(now / 1000)
  const since = previousCursor !== null ? previousCursor - MARGIN_SECONDS : nowSeconds - SESSION_WINDOW_SECONDS
  const report: ReconcileReport = {
    eventsSeen: 0,
    sessionsSeen: 0,
    sessionsFetched: 0,
    foreignSessions: 0,
    ordersCreated: 0,
    mismatches: [],
    failures: [],
    capped: [],
    isSessionsWalked: false,
    stripeCalls: 0,
    eventsCursor: previousCursor,
  }
  const { calls } = await payments.countCalls(async () => {
    await replayEvents(since, nowSeconds, maxPages, report)
    const isReplayIncomplete = report.capped.length > 0 || report.failures.length > 0
    if (opts.walkSessions === 'always' || isReplayIncomplete || lastWalk === null || now - lastWalk >= SESSION_WALK_EVERY_MS) {
      report.isSessionsWalked = true
      await walkSessions(nowSeconds - SESSION_WINDOW_SECONDS, maxPages, report)
    }
  })
  report.stripeCalls = calls

  // Orders made by replayed events and by the session walk alike.
  report.ordersCreated = (await read((db, { orders }) => countingOrders(db, orders))) - ordersBefore
  await transaction((tx, { reconcileRuns }) =>
    runStep(
      tx.insert(reconcileRuns)
      .values({
        startedAt,
        finishedAt: Date.now(),
        eventsCursor: report.eventsCursor,
        eventsSeen: report.eventsSeen,
        sessionsSeen: report.sessionsSeen,
        ordersCreated: report.ordersCreated,
        mismatches: report.mismatches,
        stripeCalls: report.stripeCalls,
        isCapped: report.capped.length > 0,
        isSessionsWalked: report.isSessionsWalked,
        error: report.failures.length || report.capped.length ? JSON.stringify({ capped: report.capped, failures: report.failures }).slice(0, 4000) : null,
      }),
    ),
  )
  if (report.ordersCreated || report.mismatches.length || report.failures.length || report.capped.length) log.warn('reconcile: found work webhooks had not done', report)
  else log.info('reconcile: in step with Stripe', { eventsSeen: report.eventsSeen, sessionsSeen: report.sessionsSeen, stripeCalls: report.stripeCalls })
  return report
}

async function replayEvents(since: number, nowSeconds: number, maxPages: number, report: ReconcileReport): Promise<void> {
  const listed = await payments.listEvents(orderRules.HANDLED_TYPES, since, maxPages)
  if (listed.isCapped) {
    // Only the newest events were read; applying them and moving on would skip the oldest
    // for good. Stop here: the cursor stays, and the report says the run was capped.
    report.capped.push('events')
    return
  }
  // Oldest first, so an order is created before its refund is applied (Stripe lists newest
  // first; reversing keeps the order of events created in the same second).
  const events = [...listed.items].reverse().sort((a, b) => a.created - b.created)
  let oldestFailure: number | null = null
  let newest = report.eventsCursor ?? 0
  for (const event of events) {
    report.eventsSeen++
    newest = Math.max(newest, event.created)
    try {
      await orderRules.applyEvent(event)
    } catch (err) {
      report.failures.push({ id: event.id, error: err instanceof Error ? err.message : String(err) })
      oldestFailure = Math.min(oldestFailure ?? Infinity, event.created)
    }
  }
  // The cursor moves only over what was applied: never past an event that failed (the next
  // run retries it). With nothing failed, everything listed up to now was applied; a window
  // that never moves would grow with every run, so the cursor comes at least to a margin ago.
  report.eventsCursor = oldestFailure ?? Math.max(newest, nowSeconds - MARGIN_SECONDS)
}

/** The order of a Checkout Session, as far as the walk needs it. */
function orderOf(sessionId: string) {
  return read((db, { orders }) => get(db.select({ status: orders.status, totalCents: orders.totalCents }).from(orders).where(eq(orders.stripeCheckoutSessionId, sessionId))))
}

async function walkSessions(sinceSeconds: number, maxPages: number, report: ReconcileReport): Promise<void> {
  const listed = await payments.completedCheckoutSessions(sinceSeconds, maxPages)
  // A capped walk still checks the sessions it read (it keeps no cursor); the report says so.
  if (listed.isCapped) report.capped.push('sessions')
  for (const session of listed.items) {
    report.sessionsSeen++
    if (!orderRules.isStoreSale(session)) {
      report.foreignSessions++
      continue
    }
    const existing = await orderOf(session.id)
    // In step: the order exists and, if the list says it is paid, it is past awaiting payment.
    // Refunds and disputes are the events' business; the list object answers the rest.
    const isInStep = !!existing && (session.paymentStatus === 'unpaid' || existing.status !== 'awaiting_payment')
    if (!isInStep) {
      try {
        await orderRules.syncSession(session.id)
        report.sessionsFetched++
      } catch (err) {
        report.failures.push({ id: session.id, error: err instanceof Error ? err.message : String(err) })
        continue
      }
    }
    const order = existing ?? (await orderOf(session.id))
    if (order && session.amountTotalCents !== null && order.totalCents !== session.amountTotalCents) {
      report.mismatches.push({ sessionId: session.id, orderCents: order.totalCents, stripeCents: session.amountTotalCents })
    }
  }
}

export function lastRuns(limit = 20) {
  return read((db, { reconcileRuns }) => all(db.select().from(reconcileRuns).orderBy(desc(reconcileRuns.id)).limit(limit)))
}
