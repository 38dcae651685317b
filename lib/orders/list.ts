import 'server-only'
import { and, count, desc, eq, gte, lt, or, type SQL } from 'drizzle-orm'
import { z } from 'zod'
import { ORDER_STATUSES } from '@/db/schema'
import { contains } from '@/db/text-match'
import { all, get, read, type Reader, type Tables } from '@/db/tx'
import { paged } from '@/lib/paging'

// Finding orders for the owner: filters, paging and a CSV export that streams batch by batch
// from the database, so a year of orders never sits in memory at once. Reads on either engine
// (db/tx.ts).

const dateOnly = z
  .string()
  .regex(/^\d{4}-\d{2}-\d{2}$/)
  .optional()
  .catch(undefined)

export const OrderFilters = z.object({
  status: z.enum(ORDER_STATUSES).optional().catch(undefined),
  flag: z.enum(['oversold', 'disputed']).optional().catch(undefined),
  from: dateOnly,
  to: dateOnly,
  q: z.string().trim().max(200).optional().catch(undefined),
  page: z.coerce.number().int().min(1).max(100_000).catch(1),
})
export type OrderFilters = z.infer<typeof OrderFilters>

const PER_PAGE = 25

export function parseFilters(params: Record<string, string | string[] | undefined>): OrderFilters {
  const pick = (k: string) => {
    const v = params[k]
    const s = Array.isArray(v) ? v[0] : v
    return s === '' ? undefined : s
  }
  return OrderFilters.parse({ status: pick('status'), flag: pick('flag'), from: pick('from'), to: pick('to'), q: pick('q'), page: pick('page') ?? 1 })
}

function where({ orders }: Tables, f: OrderFilters): SQL | undefined {
  const parts: (SQL | undefined)[] = []
  if (f.status) parts.push(eq(orders.status, f.status))
  if (f.flag === 'oversold') parts.push(eq(orders.isOversold, true))
  if (f.flag === 'disputed') parts.push(eq(orders.isDisputed, true))
  if (f.from) parts.push(gte(orders.createdAt, Date.parse(`${f.from}T00:00:00Z`)))
  if (f.to) parts.push(lt(orders.createdAt, Date.parse(`${f.to}T00:00:00Z`) + 24 * 3600 * 1000))
  if (f.q) {
    const number = /^#?0*(\d{1,9})$/.exec(f.q)
    const emailContains = contains(orders.email, f.q)
    parts.push(number ? or(eq(orders.id, Number(number[1])), emailContains) : emailContains)
  }
  const defined = parts.filter((p): p is SQL => !!p)
  return defined.length ? and(...defined) : undefined
}

// The columns of an order the list shows; the CSV export adds the shipment to them.
const summary = ({ orders }: Tables) => ({
  id: orders.id,
  status: orders.status,
  email: orders.email,
  customerName: orders.customerName,
  totalCents: orders.totalCents,
  discountCents: orders.discountCents,
  discountCodes: orders.discountCodes,
  taxCents: orders.taxCents,
  refundedCents: orders.refundedCents,
  currency: orders.currency,
  isOversold: orders.isOversold,
  isDisputed: orders.isDisputed,
  createdAt: orders.createdAt,
})

export function list(f: OrderFilters) {
  return read(function* (db, t) {
    const w = where(t, f)
    const { n: total } = (yield* get(db.select({ n: count() }).from(t.orders).where(w)))!
    return yield* paged(total, f.page, PER_PAGE, (limit, offset) => all(db.select(summary(t)).from(t.orders).where(w).orderBy(desc(t.orders.createdAt), desc(t.orders.id)).limit(limit).offset(offset)))
  })
}

const CSV_COLUMNS = ['id', 'created_at', 'status', 'email', 'customer_name', 'total_cents', 'discount_cents', 'discount_codes', 'tax_cents', 'refunded_cents', 'currency', 'is_oversold', 'is_disputed', 'carrier', 'tracking_number'] as const

// A separator a spreadsheet might split a cell on when it guesses the format (locales that
// use `;`, tab- or pipe-separated imports), and the line breaks inside a quoted cell.
const FORMULA_AFTER_SEPARATOR = /(^|[;,\t|\r\n])([=+\-@\t\r])/g

/**
 * Every cell is quoted, and a formula prefix (`= + - @`, or a tab or carriage return that
 * hides one) gets an apostrophe wherever a cell could begin: at the start and after any
 * separator a spreadsheet might split on. `Bob;=1+2` reaches a `;`-separated import as the
 * text `'=1+2`, never as a live formula.
 */
export function csvCell(value: unknown): string {
  if (value === null || value === undefined) return '""'
  const s = String(value).replace(FORMULA_AFTER_SEPARATOR, "$1'$2")
  return `"${s.replace(/"/g, '""')}"`
}

type Cursor = { createdAt: number; id: number }
type ExportRow = ReturnType<ReturnType<typeof exportBatch>['all']>[number]

function exportBatch(db: Reader, t: Tables, f: OrderFilters, cursor: Cursor | null, batchSize: number) {
  const { orders } = t
  const after: SQL | undefined = cursor ? or(lt(orders.createdAt, cursor.createdAt), and(eq(orders.createdAt, cursor.createdAt), lt(orders.id, cursor.id))) : undefined
  return db
    .select({ ...summary(t), carrier: orders.carrier, trackingNumber: orders.trackingNumber })
    .from(orders)
    .where(and(where(t, f), after))
    .orderBy(desc(orders.createdAt), desc(orders.id))
    .limit(batchSize)
}

/**
 * The filtered orders as CSV, one batch of rows per pull. Batches are read by keyset
 * (created_at, id), each a read of its own, not through one open statement: on SQLite the
 * process has one connection, and a statement left open while the client downloads would
 * block every other query; on PostgreSQL it would hold a pooled connection as long.
 */
export async function* exportCsv(f: OrderFilters, batchSize = 500): AsyncGenerator<string> {
  yield CSV_COLUMNS.map(csvCell).join(',') + '\n'
  let cursor: Cursor | null = null
  for (;;) {
    const at = cursor
    const rows: ExportRow[] = await read((db, t) => all(exportBatch(db, t, f, at, batchSize)))
    if (rows.length === 0) return
    yield rows
      .map((row) => [row.id, new Date(row.createdAt).toISOString(), row.status, row.email, row.customerName, row.totalCents, row.discountCents, row.discountCodes.join(' '), row.taxCents, row.refundedCents, row.currency, row.isOversold ? 1 : 0, row.isDisputed ? 1 : 0, row.carrier, row.trackingNumber].map(csvCell).join(',') + '\n')
      .join('')
    const last = rows.at(-1)!
    cursor = { createdAt: last.createdAt, id: last.id }
    if (rows.length < batchSize) return
  }
}
