import type { Metadata } from 'next'
import { signOutAction } from '../sign-in/actions'
import { NavLinks } from '@/app/_components/nav-links'
import { container } from '@/app/_components/ui/styles'
import * as adminAuth from '@/lib/admin-auth'

// Every admin page is private, per request and never indexed. The layout checks the
// session for the navigation; each page, action and route handler checks it again itself.
export const metadata: Metadata = { title: { default: 'Admin', template: '%s · Admin' }, robots: { index: false, follow: false, nocache: true } }
export const dynamic = 'force-dynamic'

const NAV = [
  { href: '/admin', label: 'Dashboard' },
  { href: '/admin/orders', label: 'Orders' },
  { href: '/admin/products', label: 'Products' },
  { href: '/admin/collections', label: 'Collections' },
  { href: '/admin/discounts', label: 'Discounts' },
  { href: '/admin/inventory', label: 'Inventory' },
  { href: '/admin/events', label: 'Webhooks' },
  { href: '/admin/jobs', label: 'Jobs' },
  { href: '/admin/reconciliation', label: 'Reconciliation' },
  { href: '/admin/audit', label: 'Audit log' },
  { href: '/admin/account', label: 'Account' },
]

const navLink = 'block rounded-lg px-3 py-2 text-sm font-medium text-stone-800 hover:bg-stone-100 aria-[current=page]:bg-stone-200 aria-[current=page]:text-stone-950'

function AdminNav({ email }: { email: string }) {
  return (
    <nav aria-label="Admin">
      <NavLinks links={NAV} className="grid grid-cols-2 gap-1 sm:grid-cols-3 lg:grid-cols-1" linkClassName={navLink} />
      <div className="mt-4 border-t border-stone-200 pt-4 text-xs text-stone-600">
        <p className="[overflow-wrap:anywhere]" data-testid="admin-email">{email}</p>
        <form action={signOutAction} className="mt-2">
          <button type="submit" className="text-sm font-medium underline underline-offset-4">Sign out</button>
        </form>
      </div>
    </nav>
  )
}

export default async function AdminLayout({ children }: { children: React.ReactNode }) {
  const admin = await adminAuth.requireAdmin()
  return (
    <div className={`${container} flex flex-1 flex-col gap-4 py-4 lg:flex-row lg:gap-6 lg:py-6`}>
      {/* On a phone the menu is one line, opened on demand (a <details>: no JavaScript needed);
          from lg it is a sidebar, always open. Only one of the two is ever displayed. */}
      <details className="rounded-xl border border-stone-200 bg-white lg:hidden" data-testid="admin-menu">
        <summary className="cursor-pointer px-4 py-3 text-sm font-semibold">Admin menu</summary>
        <div className="border-t border-stone-200 p-3">
          <AdminNav email={admin.email} />
        </div>
      </details>
      <div className="hidden lg:block lg:w-48 lg:shrink-0">
        <AdminNav email={admin.email} />
      </div>
      <main id="main" className="min-w-0 flex-1">
        {children}
      </main>
    </div>
  )
}
