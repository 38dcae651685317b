import { notFound } from 'next/navigation'
import { FlashMessage } from '@/app/_components/flash-message'
import * as flash from '@/lib/flash'

// Pieces every admin page shares. Forms post to server actions and answer with a redirect
// carrying ?error= or ?notice= (signed, lib/flash.ts), so every write works without JavaScript.

export const input = 'mt-1 block w-full rounded-lg border border-stone-400 bg-white px-3 py-2 text-sm text-stone-900 focus:border-stone-900 focus:outline-none focus:ring-2 focus:ring-stone-900/20'
export const label = 'block text-sm font-medium text-stone-800'
export const card = 'min-w-0 rounded-2xl border border-stone-200 bg-white p-4 shadow-sm sm:p-6'
export const table = 'w-full min-w-[36rem] text-left text-sm'
export const th = 'border-b border-stone-200 px-3 py-2 font-semibold text-stone-700'
export const td = 'border-b border-stone-100 px-3 py-2 align-top'
export const buttonSmall = 'inline-flex items-center justify-center rounded-full border border-stone-400 bg-white px-3 py-1.5 text-xs font-semibold text-stone-900 hover:border-stone-900'
export const buttonDark = 'inline-flex items-center justify-center rounded-full bg-stone-900 px-5 py-2.5 text-sm font-semibold text-white hover:bg-stone-700'
export const badge = 'inline-block rounded-full px-2 py-0.5 text-xs font-semibold'

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
 * A wide table scrolls inside its own box on a phone instead of widening the page. The box is
 * positioned so that visually hidden text in a cell (absolutely placed) stays inside it too.
 */
export function TableScroll({ children, label: name }: { children: React.ReactNode; label: string }) {
  return (
    <div className="relative overflow-x-auto rounded-xl border border-stone-200" role="region" aria-label={name} tabIndex={0}>
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

/** The record a detail page shows, by the numeric id in its URL; a malformed or unknown id is a 404. */
export function found<T>(rawId: string, get: (id: number) => T | null | undefined): T {
  if (!/^\d{1,10}$/.test(rawId)) notFound()
  const row = get(Number(rawId))
  if (!row) notFound()
  return row
}
