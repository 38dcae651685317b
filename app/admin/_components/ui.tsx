import { notFound } from 'next/navigation'
import { badge } from './styles'
import { FlashMessage } from '@/app/_components/flash-message'
import * as flash from '@/lib/request/flash'

// Pieces every admin page shares. Forms post to server actions; a write that succeeds answers
// with a redirect carrying ?notice= (or ?error= when there is nothing to correct), signed
// (lib/request/flash.ts); a refused form comes back filled in with its messages (action-form.tsx), so
// every write works without JavaScript.

export { input, label, card, table, th, td, buttonSmall, buttonDark, badge } from './styles'

export type SearchParams = Record<string, string | string[] | undefined>

export function Flash({ params }: { params: SearchParams }) {
  const message = flash.read(params)
  return message ? (
    <div className="mb-4" role={message.kind === 'error' ? 'alert' : 'status'}>
      <FlashMessage flash={message} />
    </div>
  ) : null
}

export function PageTitle({ children, actions }: { children: React.ReactNode; actions?: React.ReactNode }) {
  return (
    <div className="mb-6 flex flex-wrap items-center justify-between gap-3">
      <h1 className="min-w-0 break-words text-2xl font-semibold tracking-tight">{children}</h1>
      {actions}
    </div>
  )
}

/**
 * A table too wide for its place scrolls inside its own box instead of widening the page, with
 * a shadow at the edge where more columns are (`.scroll-cue`). The box is positioned so that
 * visually hidden text in a cell (absolutely placed) stays inside it too.
 */
export function TableScroll({ children, label: name }: { children: React.ReactNode; label: string }) {
  return (
    <div className="scroll-cue relative overflow-x-auto rounded-xl border border-stone-200" role="region" aria-label={name} tabIndex={0}>
      {children}
    </div>
  )
}

const STATUS_TONE: Record<string, string> = {
  paid: 'bg-emerald-100 text-emerald-900',
  fulfilled: 'bg-sky-100 text-sky-900',
  partially_refunded: 'bg-amber-100 text-amber-900',
  refunded: 'bg-stone-200 text-stone-800',
  awaiting_payment: 'bg-yellow-100 text-yellow-900',
  payment_failed: 'bg-red-100 text-red-900',
  canceled: 'bg-stone-200 text-stone-800',
}

export function StatusBadge({ status }: { status: string }) {
  return (
    <span className={`${badge} ${STATUS_TONE[status] ?? 'bg-stone-100 text-stone-800'}`} data-testid="order-status-badge" data-status={status}>
      {status.replace(/_/g, ' ')}
    </span>
  )
}

export function when(ms: number | null | undefined): string {
  if (!ms) return '—'
  return new Date(ms).toISOString().replace('T', ' ').slice(0, 16) + ' UTC'
}

export function pick(params: SearchParams, key: string): string | undefined {
  const v = params[key]
  return Array.isArray(v) ? v[0] : v
}

/** The ?page= of a paged list: a whole number from 1, and never absurdly large. */
export function pageParam(params: SearchParams): number {
  return Math.max(1, Math.min(100_000, Number(pick(params, 'page')) || 1))
}

/**
 * The record a detail page shows, by the numeric id in its URL; a malformed or unknown id is a
 * 404. `get` may answer at once or with a promise (a noun on db/tx.ts reads asynchronously).
 */
export async function found<T>(rawId: string, get: (id: number) => T | null | undefined | Promise<T | null | undefined>): Promise<T> {
  if (!/^\d{1,10}$/.test(rawId)) notFound()
  const row = await get(Number(rawId))
  if (!row) notFound()
  return row
}
