import type { Metadata } from 'next'
import { cookies } from 'next/headers'
import { redirect } from 'next/navigation'
import { VerifyForm } from './form'
import * as adminAuth from '@/lib/admin-auth'
import * as flash from '@/lib/request/flash'

export const metadata: Metadata = { title: 'Two-factor sign-in', robots: { index: false, follow: false, nocache: true } }
export const dynamic = 'force-dynamic'

export default async function VerifyPage() {
  const jar = await cookies()
  const challenge = await adminAuth.challengeFor(jar.get(adminAuth.CHALLENGE_COOKIE)?.value)
  if (!challenge) redirect(flash.href('/admin/sign-in', 'error', 'Enter your email and password first.'))
  return (
    <main id="main" className="mx-auto w-full max-w-sm flex-1 px-4 py-12">
      <h1 className="mb-2 text-2xl font-semibold tracking-tight">Two-factor sign-in</h1>
      <p className="mb-6 text-sm text-stone-700">Enter the six-digit code your authenticator app shows, or one of your recovery codes.</p>
      <VerifyForm />
    </main>
  )
}
