import type { Metadata } from 'next'
import Link from 'next/link'
import { Flash, PageTitle, card, when, type SearchParams } from '../_components/ui'
import * as adminAuth from '@/lib/admin-auth'
import * as dashboard from '@/lib/dashboard'
import { formatMoney } from '@/lib/money'

export const metadata: Metadata = { title: 'Dashboard' }

function SalesChart({ series, currency }: { series: { day: number; revenueCents: number; orders: number }[]; currency: string }) {
  const width = 600
  const height = 160
  const max = Math.max(1, ...series.map((s) => s.revenueCents))
  const barWidth = width / series.length
  const total = series.reduce((sum, s) => sum + s.revenueCents, 0)
  return (
    <figure>
      <svg viewBox={`0 0 ${width} ${height + 20}`} className="h-auto w-full" role="img" aria-labelledby="chart-title">
        <title id="chart-title">{`Revenue per day over the last 30 days, ${formatMoney(total, currency)} in all`}</title>
        <line x1={0} y1={height} x2={width} y2={height} stroke="#a8a29e" strokeWidth={1} />
        {series.map((s, i) => {
          const h = Math.round((s.revenueCents / max) * (height - 10))
          return (
            <rect key={s.day} x={i * barWidth + 2} y={height - h} width={barWidth - 4} height={h} fill="#1c1917" rx={2}>
              <title>{`${new Date(s.day).toISOString().slice(0, 10)}: ${formatMoney(s.revenueCents, currency)}, ${s.orders} orders`}</title>
            </rect>
          )
        })}
        <text x={0} y={height + 16} fontSize={11} fill="#57534e">{new Date(series[0]!.day).toISOString().slice(5, 10)}</text>
        <text x={width} y={height + 16} fontSize={11} fill="#57534e" textAnchor="end">{new Date(series.at(-1)!.day).toISOString().slice(5, 10)}</text>
      </svg>
      <figcaption className="mt-1 text-xs text-stone-600">Revenue per day (UTC), last 30 days; highest day {formatMoney(Math.max(0, ...series.map((s) => s.revenueCents)), currency)}.</figcaption>
    </figure>
  )
}

export default async function DashboardPage({ searchParams }: { searchParams: Promise<SearchParams> }) {
  await adminAuth.requireAdmin()
  const params = await searchParams
  const data = await dashboard.overview()
  const health = await dashboard.status()
  const money = (c: number) => formatMoney(c, data.currency)
  const run = health.lastRun
  return (
    <>
      <PageTitle>Dashboard</PageTitle>
      {health.oversold > 0 ? (
        <p className="mb-4 rounded-xl border border-red-300 bg-red-50 px-4 py-3 text-sm font-semibold text-red-900" role="alert" data-testid="oversold-alert">
          <Link href="/admin/orders?flag=oversold" className="underline">
            {health.oversold} {health.oversold === 1 ? 'order is' : 'orders are'} oversold
          </Link>
          : their units ran out before they could be kept for them. Restock, ship later or refund.
        </p>
      ) : null}
      <Flash params={params} />
      <section aria-label="Operations status" className="mb-6 grid gap-2 rounded-2xl border border-stone-300 bg-stone-50 p-4 text-sm sm:grid-cols-2 lg:grid-cols-4" data-testid="status-strip">
        <p><span className="font-semibold">Payments:</span> <span data-testid="payments-mode">{health.mode}</span></p>
        <p>
          <span className="font-semibold">Webhooks:</span> last {health.webhooks.last ? `${when(health.webhooks.last.receivedAt)} (${health.webhooks.last.type})` : 'none yet'};{' '}
          <Link href="/admin/events?filter=failed" className={health.webhooks.failures ? 'font-semibold text-red-800 underline' : 'underline'}>{health.webhooks.failures} failed in 24 h</Link>
        </p>
        <p>
          <span className="font-semibold">Reconciliation:</span>{' '}
          <Link href="/admin/reconciliation" className="underline">{run ? `${when(run.finishedAt ?? run.startedAt)}, repaired ${run.ordersCreated} orders, ${run.mismatches.length} mismatches${run.error ? ', with errors' : ''}` : 'never run'}</Link>
        </p>
        <p>
          <span className="font-semibold">Jobs:</span> {health.jobs.queued} waiting,{' '}
          <Link href="/admin/jobs" className={health.jobs.failed ? 'font-semibold text-red-800 underline' : 'underline'}>{health.jobs.failed} failed</Link>
        </p>
      </section>
      <div className="mb-6 grid gap-4 sm:grid-cols-3">
        {data.periods.map((p) => (
          <section key={p.label} className={card} aria-label={p.label} data-testid="period">
            <h2 className="text-sm font-semibold text-stone-700">{p.label}</h2>
            <p className="mt-1 text-2xl font-semibold tabular-nums">{money(p.revenueCents)}</p>
            <p className="text-sm text-stone-700">{p.orders} {p.orders === 1 ? 'order' : 'orders'} · average {money(p.averageCents)}</p>
          </section>
        ))}
      </div>
      <section className={`${card} mb-6`} aria-labelledby="sales-heading">
        <h2 id="sales-heading" className="mb-3 text-lg font-semibold">Sales over time</h2>
        <SalesChart series={data.series} currency={data.currency} />
      </section>
      <div className="grid gap-6 lg:grid-cols-2">
        <section className={card} aria-labelledby="top-heading">
          <h2 id="top-heading" className="mb-3 text-lg font-semibold">Top products, 30 days</h2>
          {data.topProducts.length === 0 ? <p className="text-sm text-stone-700">No sales yet.</p> : (
            <ol className="space-y-1 text-sm">
              {data.topProducts.map((p) => (
                <li key={p.title} className="flex justify-between gap-3"><span>{p.title}</span><span className="tabular-nums">{p.units} sold · {money(Number(p.revenue))}</span></li>
              ))}
            </ol>
          )}
        </section>
        <section className={card} aria-labelledby="low-heading">
          <h2 id="low-heading" className="mb-3 text-lg font-semibold">Low stock</h2>
          {data.lowStock.length === 0 ? <p className="text-sm text-stone-700">Nothing is running low.</p> : (
            <ul className="space-y-1 text-sm">
              {data.lowStock.map((v) => (
                <li key={v.id} className="flex justify-between gap-3">
                  <Link className="underline underline-offset-4" href={`/admin/inventory/${v.id}`}>{v.productTitle} · {v.title}</Link>
                  <span className="tabular-nums">{v.stock} left{v.held ? `, ${v.held} held` : ''}</span>
                </li>
              ))}
            </ul>
          )}
        </section>
        <section className={card} aria-labelledby="reminders-heading" data-testid="checkout-reminders">
          <h2 id="reminders-heading" className="mb-3 text-lg font-semibold">Abandoned checkouts</h2>
          <dl className="grid grid-cols-2 gap-3 text-sm">
            <div>
              <dt className="text-stone-700">Reminders sent</dt>
              <dd className="text-2xl font-semibold tabular-nums" data-testid="reminders-sent">{data.reminders.sent}</dd>
            </div>
            <div>
              <dt className="text-stone-700">Revenue recovered</dt>
              <dd className="text-2xl font-semibold tabular-nums" data-testid="revenue-recovered">{money(data.reminders.recoveredCents)}</dd>
              <dd className="text-stone-700">{data.reminders.recoveredOrders} {data.reminders.recoveredOrders === 1 ? 'order' : 'orders'} after a reminder</dd>
            </div>
          </dl>
        </section>
      </div>
    </>
  )
}
