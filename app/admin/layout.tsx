import Link from 'next/link'
import { container } from '@/app/_components/ui/styles'
import { site } from '@/lib/seo'

// The admin's own frame, sign-in included: the store's name and a way to the shop, and none
// of the shop's header, search, cart or footer.
export const dynamic = 'force-dynamic'

export default function AdminFrame({ children }: { children: React.ReactNode }) {
  return (
    <div className="flex flex-1 flex-col bg-stone-50">
      <header className="border-b border-stone-200 bg-white">
        <div className={`${container} flex items-center justify-between gap-3 py-3`}>
          <Link href="/admin" className="min-w-0 truncate font-semibold tracking-tight">
            {site().name} <span className="font-normal text-stone-600">admin</span>
          </Link>
          <Link href="/" prefetch={false} className="shrink-0 text-sm font-medium underline underline-offset-4">View the shop</Link>
        </div>
      </header>
      <div className="flex flex-1 flex-col">{children}</div>
    </div>
  )
}
