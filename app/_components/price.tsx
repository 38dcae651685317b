import { formatMoney } from '@/lib/money'

/** A price, or "From $x" when variants cost different amounts. */
export function Price({ minCents, maxCents = minCents, currency, className }: { minCents: number; maxCents?: number; currency: string; className?: string }) {
  return <span className={className ? `tabular-nums ${className}` : 'tabular-nums'}>{maxCents > minCents ? `From ${formatMoney(minCents, currency)}` : formatMoney(minCents, currency)}</span>
}
