import 'server-only'
import { and, count, desc, eq } from 'drizzle-orm'
import { all, get, read, run, serialize, transaction, type Steps, type Tables, type Writer } from '@/db/tx'
import { paged } from './paging'

// The audit log: every admin action, who did it, and the state before and after. Written in
// the same transaction as the change it describes, so the log and the data never disagree.

export type Actor = { id: number; email: string }

/** The audit row, as a step of a transaction body on either engine (db/tx.ts). */
export function* recording(tx: Writer, t: Tables, actor: Actor, action: string, subject: string, before: unknown = null, after: unknown = null): Steps<void> {
  yield* run(
    tx.insert(t.auditLog).values({ adminUserId: actor.id, adminEmail: actor.email, action, subject, before: before ?? null, after: after ?? null, createdAt: Date.now() }),
  )
}

/**
 * change, on either engine (db/tx.ts): the body makes the change with its queries and returns
 * what the subject was before and after; the audit row is written in the same transaction.
 */
export function changing<T>(actor: Actor, action: string, subject: string, body: (tx: Writer, t: Tables) => Steps<{ before?: unknown; after?: unknown; result: T }>): Promise<T> {
  return transaction(function* (tx, t) {
    const { before, after, result } = yield* body(tx, t)
    yield* recording(tx, t, actor, action, subject, before, after)
    return result
  })
}

/** Records an action whose effect happened elsewhere (a call to Stripe, a replay). */
export function note(actor: Actor, action: string, subject: string, after: unknown = null): Promise<void> {
  return transaction((tx, t) => recording(tx, t, actor, action, subject, null, after))
}

/**
 * Records an action on a subject unless it is recorded already: a repeated request that
 * Stripe answered from its idempotency cache (a double submit) did nothing a second time.
 */
export function noteOnce(actor: Actor, action: string, subject: string, after: unknown = null): Promise<void> {
  return transaction(function* (tx, t) {
    // the two requests of a double submit may reach two app servers at once: each must see the other's row
    yield* serialize(`audit:${action}:${subject}`)
    const seen = yield* get(tx.select({ id: t.auditLog.id }).from(t.auditLog).where(and(eq(t.auditLog.action, action), eq(t.auditLog.subject, subject))).limit(1))
    if (!seen) yield* recording(tx, t, actor, action, subject, null, after)
  })
}

const PER_PAGE = 50

export function list(page = 1) {
  return read(function* (db, { auditLog }) {
    const { n: total } = (yield* get(db.select({ n: count() }).from(auditLog)))!
    return yield* paged(total, page, PER_PAGE, (limit, offset) => all(db.select().from(auditLog).orderBy(desc(auditLog.id)).limit(limit).offset(offset)))
  })
}
