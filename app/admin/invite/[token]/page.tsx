import type { Metadata } from 'next'
import Link from 'next/link'
import { AcceptForm } from './form'
import * as adminAuth from '@/lib/admin-auth'
import * as staff from '@/lib/staff'

// The page an invitation email links to. Private like every admin page: never cached, never
// indexed, and the token in its address is not passed on as a referrer.
export const metadata: Metadata = { title: 'Join the admin', robots: { index: false, follow: false, nocache: true }, referrer: 'no-referrer' }
export const dynamic = 'force-dynamic'

export default async function InvitePage({ params }: { params: Promise<{ token: string }> }) {
  const { token } = await params
  const invite = await staff.findInvite(token)
  return (
    <main id="main" className="mx-auto w-full max-w-sm flex-1 px-4 py-12">
      <h1 className="mb-6 text-2xl font-semibold tracking-tight">Join the admin</h1>
      {invite ? (
        <>
          <p className="mb-4 break-all text-sm text-stone-700" data-testid="invite-email">
            Choose a password for <strong>{invite.email}</strong> ({invite.role}).
          </p>
          <AcceptForm token={token} minLength={adminAuth.MIN_PASSWORD} />
        </>
      ) : (
        <p role="alert" className="text-sm text-stone-800" data-testid="invite-invalid">
          {staff.INVITE_INVALID} <Link href="/admin/sign-in" className="underline underline-offset-4">Sign in</Link>
        </p>
      )}
    </main>
  )
}
