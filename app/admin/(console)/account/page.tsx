import type { Metadata } from 'next'
import { ActionForm, Field } from '../../_components/action-form'
import { Flash, PageTitle, buttonDark, card, type SearchParams } from '../../_components/ui'
import { changePasswordAction, startTwoFactorAction } from './actions'
import { ConfirmTwoFactorForm } from './two-factor-form'
import * as adminAuth from '@/lib/admin-auth'
import * as twoFactor from '@/lib/two-factor'

export const metadata: Metadata = { title: 'Account' }

export default async function AccountPage({ searchParams }: { searchParams: Promise<SearchParams> }) {
  // requireSession: this is where one who must set up a second factor is sent to do it
  const admin = await adminAuth.requireSession()
  const params = await searchParams
  const factor = await twoFactor.status(admin)
  const qr = factor.pending ? await twoFactor.qrSvg(factor.pending.uri) : null
  return (
    <>
      <PageTitle>Account</PageTitle>
      <Flash params={params} />
      <section className={`${card} mb-6 max-w-md`} aria-labelledby="two-factor-heading" data-testid="two-factor">
        <h2 id="two-factor-heading" className="mb-1 text-lg font-semibold">Two-factor sign-in</h2>
        {factor.isEnabled ? (
          <p className="text-sm text-stone-700" data-testid="two-factor-status" data-enabled="true">
            On: sign-in asks for a code from your authenticator app. {factor.recoveryCodesLeft} of {twoFactor.RECOVERY_CODE_COUNT} recovery codes left. Lost both? The server&apos;s operator runs <code>npm run admin:reset-2fa -- {admin.email}</code>.
          </p>
        ) : factor.pending && qr ? (
          <div className="space-y-3">
            <p className="text-sm text-stone-700">Scan this with an authenticator app (1Password, Google Authenticator, Aegis…), then enter the code it shows.</p>
            {/* the SVG is drawn on this server by the QR library from the otpauth: address */}
            <div className="w-48 max-w-full" role="img" aria-label="QR code to add this account to an authenticator app" dangerouslySetInnerHTML={{ __html: qr }} />
            <p className="break-all text-xs text-stone-700">
              Or type the key: <code data-testid="totp-secret">{factor.pending.secret}</code>
            </p>
            <ConfirmTwoFactorForm />
          </div>
        ) : (
          <div className="space-y-3">
            <p className="text-sm text-stone-700" data-testid="two-factor-status" data-enabled="false">
              Off. With it on, a stolen password alone does not open the admin.
            </p>
            <form action={startTwoFactorAction}>
              <button type="submit" className={buttonDark}>Set up two-factor sign-in</button>
            </form>
          </div>
        )}
      </section>
      <section className={`${card} max-w-md`} aria-labelledby="password-heading">
        <h2 id="password-heading" className="mb-1 text-lg font-semibold">Change password</h2>
        <p className="mb-4 break-all text-sm text-stone-700">Signed in as {admin.email}. Changing the password signs out every other session.</p>
        <ActionForm action={changePasswordAction} className="space-y-3" testId="password-form">
          <Field name="current" label="Current password" type="password" autoComplete="current-password" required />
          <Field name="next" label={`New password (at least ${adminAuth.MIN_PASSWORD} characters)`} type="password" autoComplete="new-password" required minLength={adminAuth.MIN_PASSWORD} />
          <Field name="confirm" label="New password again" type="password" autoComplete="new-password" required />
          <button type="submit" className={buttonDark}>Change password</button>
        </ActionForm>
      </section>
    </>
  )
}
