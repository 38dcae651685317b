import 'server-only'
import type { Steps } from '@/db/tx'

// The admin lists (orders, products, stock, audit log, webhook events) page the same way:
// a count of every match, then one page of rows. One helper keeps the page arithmetic, so a
// page number past the end or below 1 is handled alike everywhere.

export type Page<T> = { rows: T[]; total: number; page: number; pageCount: number }

/** One page of rows, as a step of a read on either engine (db/tx.ts): `rows` yields its query. */
export function* paged<T>(total: number, page: number, perPage: number, rows: (limit: number, offset: number) => Steps<T[]>): Steps<Page<T>> {
  const current = Math.max(1, page)
  return { rows: yield* rows(perPage, (current - 1) * perPage), total, page: current, pageCount: Math.max(1, Math.ceil(total / perPage)) }
}
