import type { Metadata } from 'next'
import Link from 'next/link'
import { signOutAction } from '../sign-in/actions'
import { container } from '@/app/_components/ui/styles'
import * as adminAuth from '@/lib/admin-auth'
import * as staff from '@/lib/staff'

// Every admin page is private, per request and never indexed. The layout checks the
// session for the navigation; each page, action and route handler checks it again itself.
export const metadata: Metadata = { title: { default: 'Admin', template: '%s · Admin' }, robots: { index: false, follow: false, nocache: true } }
export const dynamic = 'force-dynamic'

// Each link with the permission its page asks for (null: every signed-in admin). Hiding a
// link is a courtesy; the page checks again itself.
const NAV: [string, string, staff.Permission | null][] = [
  ['/admin', 'Dashboard', null],
  ['/admin/orders', 'Orders', 'orders'],
  ['/admin/products', 'Products', 'products'],
  ['/admin/collections', 'Collections', 'products'],
  ['/admin/discounts', 'Discounts', 'discounts'],
  ['/admin/inventory', 'Inventory', 'stock'],
  ['/admin/import', 'Import', 'products'],
  ['/admin/events', 'Webhooks', 'operations'],
  ['/admin/jobs', 'Jobs', 'operations'],
  ['/admin/reconciliation', 'Reconciliation', 'operations'],
  ['/admin/staff', 'Staff', 'staff'],
  ['/admin/audit', 'Audit log', 'staff'],
  ['/admin/account', 'Account', null],
]

export default async function AdminLayout({ children }: { children: React.ReactNode }) {
  // requireSession: one who must still set up a second factor sees the Account page (each
  // other page's own requireAdmin sends them there)
  const admin = await adminAuth.requireSession()
  return (
    <div className={`${container} flex flex-1 flex-col gap-6 py-6 lg:flex-row`}>
      <nav aria-label="Admin" className="lg:w-48 lg:shrink-0">
        <ul className="flex flex-wrap gap-1 lg:flex-col">
          {NAV.filter(([href, , permission]) => (admin.mustEnrol ? href === adminAuth.ENROL_PAGE : !permission || staff.can(admin, permission))).map(([href, text]) => (
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
