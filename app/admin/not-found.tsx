import Link from 'next/link'
import { container } from '@/app/_components/ui/styles'

// An order, product or variant that does not exist, inside the admin's frame rather than the shop's.
export default function AdminNotFound() {
  return (
    <main id="main" className={`${container} flex-1 py-12`}>
      <h1 className="text-2xl font-semibold tracking-tight">Not found</h1>
      <p className="mt-2 text-sm text-stone-700">That record does not exist (or no longer does).</p>
      <p className="mt-4 text-sm"><Link href="/admin" className="font-medium underline underline-offset-4">Back to the dashboard</Link></p>
    </main>
  )
}
