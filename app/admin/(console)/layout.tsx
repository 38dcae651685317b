import type { Metadata } from 'next'
import Link from 'next/link'
import { signOutAction } from '../sign-in/actions'
import { container } from '@/app/_components/ui/styles'
import * as adminAuth from '@/lib/admin-auth'

// Every admin page is private, per request and never indexed. The layout checks the
// session for the navigation; each page, action and route handler checks it again itself.
export const metadata: Metadata = { title: { default: 'Admin', template: '%s · Admin' }, robots: { index: false, follow: false, nocache: true } }
export const dynamic = 'force-dynamic'

const NAV: [string, string][] = [
  ['/admin', 'Dashboard'],
  ['/admin/orders', 'Orders'],
  ['/admin/products', 'Products'],
  ['/admin/collections', 'Collections'],
  ['/admin/discounts', 'Discounts'],
  ['/admin/inventory', 'Inventory'],
  ['/admin/events', 'Webhooks'],
  ['/admin/jobs', 'Jobs'],
  ['/admin/reconciliation', 'Reconciliation'],
  ['/admin/audit', 'Audit log'],
  ['/admin/account', 'Account'],
]

export default async function AdminLayout({ children }: { children: React.ReactNode }) {
  const admin = await adminAuth.requireAdmin()
  return (
    <div className={`${container} flex flex-1 flex-col gap-6 py-6 lg:flex-row`}>
      <nav aria-label="Admin" className="lg:w-48 lg:shrink-0">
        <ul className="flex flex-wrap gap-1 lg:flex-col">
          {NAV.map(([href, text]) => (
            <li key={href}>
              <Link href={href} className="block rounded-lg px-3 py-2 text-sm font-medium text-stone-800 hover:bg-stone-100">
                {text}
              </Link>
            </li>
          ))}
        </ul>
        <div className="mt-4 border-t border-stone-200 pt-4 text-xs text-stone-600">
          <p className="break-all" data-testid="admin-email">
            {admin.email}
          </p>
          <form action={signOutAction} className="mt-2">
            <button type="submit" className="text-sm font-medium underline underline-offset-4">
              Sign out
            </button>
          </form>
        </div>
      </nav>
      <main id="main" className="min-w-0 flex-1">
        {children}
      </main>
    </div>
  )
}
