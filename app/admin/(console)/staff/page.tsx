import type { Metadata } from 'next'
import { RowAction } from '../../_components/row-action'
import { Flash, PageTitle, TableScroll, buttonDark, buttonSmall, card, table, td, th, when, type SearchParams } from '../../_components/ui'
import { removeMemberAction, requireTwoFactorAction, revokeInviteAction, setRoleAction } from './actions'
import { InviteForm, RefundLimitForm } from './forms'
import { getEnv } from '@/lib/env'
import { decimalAmount, formatMoney } from '@/lib/money'
import * as staff from '@/lib/staff'
import * as twoFactor from '@/lib/two-factor'

export const metadata: Metadata = { title: 'Staff' }

export default async function StaffPage({ searchParams }: { searchParams: Promise<SearchParams> }) {
  const admin = await staff.requirePermission('staff')
  const params = await searchParams
  const [members, invites, { staffRefundLimitCents, requireTwoFactor }, coverage] = await Promise.all([staff.members(), staff.pendingInvites(), staff.policy(), twoFactor.coverage()])
  const currency = getEnv().currency
  return (
    <>
      <PageTitle>Staff</PageTitle>
      <Flash params={params} />
      <div className="space-y-6">
        <section aria-labelledby="people-heading">
          <h2 id="people-heading" className="mb-2 text-lg font-semibold">People</h2>
          <TableScroll label="People">
            <table className={table}>
              <thead>
                <tr><th className={th}>Email</th><th className={th}>Role</th><th className={th}>Since</th><th className={th}><span className="sr-only">Actions</span></th></tr>
              </thead>
              <tbody>
                {members.map((m) => (
                  <tr key={m.id} data-testid="member-row" data-email={m.email} data-role={m.role}>
                    <td className={`${td} break-all`}>{m.email}</td>
                    <td className={td}>{m.role}</td>
                    <td className={td}>{when(m.createdAt)}</td>
                    <td className={td}>
                      {m.id === admin.id ? (
                        'you'
                      ) : (
                        <div className="flex flex-wrap gap-2">
                          {/* the role asked for, not a toggle: two clicks at once land on it once */}
                          <form action={setRoleAction}>
                            <input type="hidden" name="userId" value={m.id} />
                            <input type="hidden" name="role" value={m.role === 'owner' ? 'staff' : 'owner'} />
                            <button type="submit" className={buttonSmall}>Make {m.email} {m.role === 'owner' ? 'staff' : 'an owner'}</button>
                          </form>
                          <RowAction action={removeMemberAction} name="userId" value={m.id}>Remove {m.email}</RowAction>
                        </div>
                      )}
                    </td>
                  </tr>
                ))}
              </tbody>
            </table>
          </TableScroll>
        </section>
        {invites.length > 0 ? (
          <section aria-labelledby="invites-heading">
            <h2 id="invites-heading" className="mb-2 text-lg font-semibold">Pending invitations</h2>
            <TableScroll label="Pending invitations">
              <table className={table}>
                <thead>
                  <tr><th className={th}>Email</th><th className={th}>Role</th><th className={th}>Link expires</th><th className={th}><span className="sr-only">Actions</span></th></tr>
                </thead>
                <tbody>
                  {invites.map((i) => (
                    <tr key={i.id} data-testid="invite-row" data-email={i.email}>
                      <td className={`${td} break-all`}>{i.email}</td>
                      <td className={td}>{i.role}</td>
                      <td className={td}>{when(i.expiresAt)}</td>
                      <td className={td}><RowAction action={revokeInviteAction} name="inviteId" value={i.id}>Withdraw</RowAction></td>
                    </tr>
                  ))}
                </tbody>
              </table>
            </TableScroll>
          </section>
        ) : null}
        <div className="grid gap-6 lg:grid-cols-2">
          <section className={card} aria-labelledby="invite-heading">
            <h2 id="invite-heading" className="mb-1 text-lg font-semibold">Invite someone</h2>
            <p className="mb-4 text-sm text-stone-700">They get an email with a link to choose a password. The link works once, for 72 hours.</p>
            <InviteForm />
          </section>
          <section className={card} aria-labelledby="limit-heading">
            <h2 id="limit-heading" className="mb-1 text-lg font-semibold">Staff refunds</h2>
            <p className="mb-4 text-sm text-stone-700" data-testid="refund-limit">
              Staff may refund up to {formatMoney(staffRefundLimitCents, currency)} at a time; larger refunds need an owner.
            </p>
            <RefundLimitForm current={decimalAmount(staffRefundLimitCents, currency)} />
          </section>
          <section className={card} aria-labelledby="require-heading">
            <h2 id="require-heading" className="mb-1 text-lg font-semibold">Two-factor sign-in</h2>
            <p className="mb-4 text-sm text-stone-700" data-testid="two-factor-coverage">
              {coverage.enrolled} of {coverage.people} people sign in with a code from an app.
            </p>
            <form action={requireTwoFactorAction} className="space-y-3">
              <label className="flex items-center gap-2 text-sm font-medium">
                <input type="checkbox" name="required" defaultChecked={requireTwoFactor} className="size-4" />
                Require it of everyone
              </label>
              <button type="submit" className={buttonDark}>Save</button>
            </form>
          </section>
        </div>
      </div>
    </>
  )
}
