import type { Metadata } from 'next'
import { Link } from '@/app/_components/shop-link'
import { redirect } from 'next/navigation'
import { buyAgain, deleteAccount, signOut, signOutEverywhere } from './actions'
import { FlashMessage } from '@/app/_components/flash-message'
import * as flashes from '@/lib/request/flash'
import { STATUS_TEXT } from '@/app/_components/order/order-summary'
import { buttonPrimary, buttonSecondary } from '@/app/_components/ui/styles'
import * as accounts from '@/lib/accounts'
import { formatAddress } from '@/lib/addresses'
import { formatMoney } from '@/lib/money'
import * as orders from '@/lib/orders'

export const metadata: Metadata = { title: 'Your account', robots: { index: false, follow: false } }

// Personal: reads the session cookie, so Next renders it per request (private, no-store),
// and the response cache in front of Next never keeps it (not a catalog path).

const orderDate = new Intl.DateTimeFormat('en-US', { dateStyle: 'long', timeZone: 'UTC' })

export default async function AccountPage({ searchParams }: { searchParams: Promise<Record<string, string | string[] | undefined>> }) {
  const account = await accounts.current()
  if (!account) redirect('/account/sign-in')
  const flash = flashes.read(await searchParams)
  const { orders: list, addresses } = await accounts.overview(account)
  return (
    <main id="main" className="wrap max-w-3xl flex-1 py-12">
      <h1 className="text-3xl font-semibold tracking-tight">Your account</h1>
      <p className="mt-2 text-stone-600">
        Signed in as <strong data-testid="account-email">{account.email}</strong>
      </p>
      {flash ? (
        <div className="mt-4" role={flash.kind === 'error' ? 'alert' : 'status'}>
          <FlashMessage flash={flash} />
        </div>
      ) : null}

      <section aria-labelledby="orders-heading" className="mt-10">
        <h2 id="orders-heading" className="text-xl font-semibold">
          Orders
        </h2>
        {list.length === 0 ? <p className="mt-2 text-stone-600">No orders placed with this address yet.</p> : null}
        <ol className="mt-4 space-y-6">
          {list.map((order) => {
            const money = (cents: number) => formatMoney(cents, order.currency)
            const number = `#${String(order.id).padStart(5, '0')}`
            const placed = new Date(order.createdAt)
            return (
              <li key={order.id} className="rounded-2xl border border-stone-200 bg-white p-6 shadow-sm" data-testid="account-order" data-order-id={order.id}>
                <article aria-label={`Order ${number}`}>
                  <div className="flex flex-wrap items-baseline justify-between gap-x-4">
                    <h3 className="text-lg font-semibold">Order {number}</h3>
                    <p className="text-sm text-stone-600">
                      Placed <time dateTime={placed.toISOString()}>{orderDate.format(placed)}</time>
                    </p>
                  </div>
                  <p className="mt-1 text-sm text-stone-600" data-testid="account-order-status" data-status={order.status}>
                    {STATUS_TEXT[order.status]}
                  </p>
                  <ul className="mt-3 divide-y divide-stone-100 text-sm" aria-label={`Items of order ${number}`}>
                    {order.lines.map((line) => (
                      <li key={line.id} className="flex justify-between gap-4 py-2">
                        <span>
                          {line.quantity} × {line.title}
                        </span>
                        <span className="tabular-nums">{money(orders.lineAmountOf(line))}</span>
                      </li>
                    ))}
                  </ul>
                  <dl className="mt-2 space-y-1 border-t border-stone-200 pt-2 text-sm">
                    {orders.totalsOf(order).map((row) => (
                      <div key={row.kind} className={`flex justify-between ${row.kind === 'total' ? 'font-semibold' : ''}`}>
                        <dt>{row.label}</dt>
                        <dd className="tabular-nums">{money(row.cents)}</dd>
                      </div>
                    ))}
                  </dl>
                  {order.trackingNumber ? (
                    <p className="mt-3 text-sm" data-testid="account-order-tracking">
                      Shipped with {order.carrier}: tracking number <strong>{order.trackingNumber}</strong>
                    </p>
                  ) : null}
                  <div className="mt-4 flex flex-wrap items-center gap-3">
                    <form action={buyAgain}>
                      <input type="hidden" name="orderId" value={order.id} />
                      <button type="submit" className={buttonPrimary} data-testid="buy-again">
                        Buy again<span className="sr-only"> the items of order {number}</span>
                      </button>
                    </form>
                    <Link href={`/orders/${order.publicToken}`} className="text-link text-sm" prefetch={false}>
                      Order status page<span className="sr-only"> for order {number}</span>
                    </Link>
                  </div>
                </article>
              </li>
            )
          })}
        </ol>
      </section>

      <section aria-labelledby="addresses-heading" className="mt-12">
        <h2 id="addresses-heading" className="text-xl font-semibold">
          Addresses
        </h2>
        {addresses.length === 0 ? <p className="mt-2 text-stone-600">Addresses you ship to will appear here.</p> : null}
        <ul className="mt-4 grid gap-4 sm:grid-cols-2">
          {addresses.map((address, i) => (
            <li key={i} className="rounded-2xl border border-stone-200 p-4 text-sm" data-testid="account-address">
              <address className="not-italic">
                {formatAddress(address).map((part, j) => (
                  <span key={j} className="block">
                    {part}
                  </span>
                ))}
              </address>
            </li>
          ))}
        </ul>
      </section>

      <section aria-labelledby="privacy-heading" className="mt-12">
        <h2 id="privacy-heading" className="text-xl font-semibold">
          Your data
        </h2>
        <p className="mt-2 text-sm text-stone-600">
          See <Link href="/privacy" className="text-link">what we keep and why</Link>.
        </p>
        <div className="mt-4 flex flex-wrap gap-3">
          <a href="/account/data" className={buttonSecondary} download data-testid="download-data">
            Download my data (JSON)
          </a>
        </div>
        <form action={deleteAccount} className="mt-6 space-y-3 rounded-2xl border border-red-200 p-4">
          <p className="text-sm">Deleting your account signs you out everywhere. Orders stay in the shop’s books, no longer tied to an account.</p>
          <div className="flex items-center gap-2">
            <input id="confirm-delete" type="checkbox" name="confirm" value="yes" className="size-5" />
            <label htmlFor="confirm-delete" className="text-sm">
              Yes, delete my account
            </label>
          </div>
          <button type="submit" className="rounded-full border border-red-700 px-5 py-2.5 text-sm font-medium text-red-800 hover:bg-red-50" data-testid="delete-account">
            Delete my account
          </button>
        </form>
      </section>

      <section aria-labelledby="sign-out-heading" className="mt-12">
        <h2 id="sign-out-heading" className="text-xl font-semibold">
          Sign out
        </h2>
        <div className="mt-4 flex flex-wrap gap-3">
          <form action={signOut}>
            <button type="submit" className={buttonSecondary} data-testid="sign-out">
              Sign out
            </button>
          </form>
          <form action={signOutEverywhere}>
            <button type="submit" className={buttonSecondary} data-testid="sign-out-everywhere">
              Sign out on every device
            </button>
          </form>
        </div>
      </section>
    </main>
  )
}
