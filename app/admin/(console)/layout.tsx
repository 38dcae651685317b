import type { Metadata } from 'next'
import { signOutAction } from '../sign-in/actions'
import { NavLinks } from '@/app/_components/nav-links'
import { container } from '@/app/_components/ui/styles'
import * as adminAuth from '@/lib/admin-auth'
import * as staff from '@/lib/staff'

// Every admin page is private, per request and never indexed. The layout checks the
// session for the navigation; each page, action and route handler checks it again itself.
export const metadata: Metadata = { title: { default: 'Admin', template: '%s · Admin' }, robots: { index: false, follow: false, nocache: true } }
export const dynamic = 'force-dynamic'

// Each link with the permission its page asks for (null: every signed-in admin). Hiding a
// link is a courtesy; the page checks again itself.
const NAV: { href: string; label: string; permission: staff.Permission | null }[] = [
  { href: '/admin', label: 'Dashboard', permission: null },
  { href: '/admin/orders', label: 'Orders', permission: 'orders' },
  { href: '/admin/products', label: 'Products', permission: 'products' },
  { href: '/admin/collections', label: 'Collections', permission: 'products' },
  { href: '/admin/discounts', label: 'Discounts', permission: 'discounts' },
  { href: '/admin/inventory', label: 'Inventory', permission: 'stock' },
  { href: '/admin/import', label: 'Import', permission: 'products' },
  { href: '/admin/events', label: 'Webhooks', permission: 'operations' },
  { href: '/admin/jobs', label: 'Jobs', permission: 'operations' },
  { href: '/admin/reconciliation', label: 'Reconciliation', permission: 'operations' },
  { href: '/admin/staff', label: 'Staff', permission: 'staff' },
  { href: '/admin/audit', label: 'Audit log', permission: 'staff' },
  { href: '/admin/account', label: 'Account', permission: null },
]

const navLink = 'block rounded-lg px-3 py-2 text-sm font-medium text-stone-800 hover:bg-stone-100 aria-[current=page]:bg-stone-200 aria-[current=page]:text-stone-950'

function AdminNav({ admin }: { admin: adminAuth.Admin }) {
  const links = NAV.filter(({ href, permission }) => (admin.mustEnrol ? href === adminAuth.ENROL_PAGE : !permission || staff.can(admin, permission)))
  return (
    <nav aria-label="Admin">
      <NavLinks links={links} className="grid grid-cols-2 gap-1 sm:grid-cols-3 lg:grid-cols-1" linkClassName={navLink} />
      <div className="mt-4 border-t border-stone-200 pt-4 text-xs text-stone-600">
        <p className="[overflow-wrap:anywhere]" data-testid="admin-email">{admin.email}</p>
        <form action={signOutAction} className="mt-2">
          <button type="submit" className="text-sm font-medium underline underline-offset-4">Sign out</button>
        </form>
      </div>
    </nav>
  )
}

export default async function AdminLayout({ children }: { children: React.ReactNode }) {
  // requireSession: one who must still set up a second factor sees the Account page (each
  // other page's own requireAdmin sends them there)
  const admin = await adminAuth.requireSession()
  return (
    <div className={`${container} flex flex-1 flex-col gap-4 py-4 lg:flex-row lg:gap-6 lg:py-6`}>
      {/* On a phone the menu is one line, opened on demand (a <details>: no JavaScript needed);
          from lg it is a sidebar, always open. Only one of the two is ever displayed. */}
      <details className="rounded-xl border border-stone-200 bg-white lg:hidden" data-testid="admin-menu">
        <summary className="cursor-pointer px-4 py-3 text-sm font-semibold">Admin menu</summary>
        <div className="border-t border-stone-200 p-3">
          <AdminNav admin={admin} />
        </div>
      </details>
      <div className="hidden lg:block lg:w-48 lg:shrink-0">
        <AdminNav admin={admin} />
      </div>
      <main id="main" className="min-w-0 flex-1">
        {children}
      </main>
    </div>
  )
}
