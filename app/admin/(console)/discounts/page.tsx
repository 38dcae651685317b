import type { Metadata } from 'next'
import { DataTable } from '../../_components/data-table'
import { ActionForm, CheckboxField, ChoiceField, Field, HiddenField } from '../../_components/action-form'
import { RowAction } from '../../_components/row-action'
import { Flash, PageTitle, badge, buttonDark, card, td, when, type SearchParams } from '../../_components/ui'
import { createPromotionCodeAction, deactivatePromotionCodeAction } from './actions'
import * as discounts from '@/lib/discounts'
import { getEnv } from '@/lib/env'
import { PaymentProviderError } from '@/lib/errors'
import { formatMoney, moneyHint } from '@/lib/money'
import * as staff from '@/lib/staff'

export const metadata: Metadata = { title: 'Discounts' }

function restrictions(code: discounts.CodeRow): string {
  const parts: string[] = []
  if (code.expiresAt) parts.push(`expires ${when(code.expiresAt)}`)
  if (code.maxRedemptions !== null) parts.push(`at most ${code.maxRedemptions} ${code.maxRedemptions === 1 ? 'use' : 'uses'}`)
  if (code.minimumAmountCents !== null) parts.push(`orders from ${formatMoney(code.minimumAmountCents, code.minimumAmountCurrency ?? getEnv().currency)}`)
  if (code.isFirstOrderOnly) parts.push('first order only')
  return parts.join(' · ') || 'none'
}

export default async function DiscountsPage({ searchParams }: { searchParams: Promise<SearchParams> }) {
  await staff.requirePermission('discounts')
  const params = await searchParams
  const currency = getEnv().currency.toUpperCase()
  let overview: discounts.Overview | null = null
  let unavailable: string | null = null
  try {
    overview = await discounts.overview()
  } catch (err) {
    if (!(err instanceof PaymentProviderError)) throw err
    unavailable = err.message
  }
  return (
    <>
      <PageTitle>Discounts</PageTitle>
      <Flash params={params} />
      <p className="mb-6 max-w-prose text-sm text-stone-700">
        Shoppers enter promotion codes on the payment page, where Stripe checks them (expiry, limits, minimum order, first order) as they pay. Codes and coupons live in your Stripe account.
      </p>
      {unavailable ? (
        <p className="mb-6 rounded-xl border border-amber-300 bg-amber-50 px-4 py-3 text-sm text-amber-950" role="alert">{unavailable}</p>
      ) : null}
      {overview ? (
        <>
          <section className="mb-8" aria-labelledby="codes-heading">
            <h2 id="codes-heading" className="mb-3 text-lg font-semibold">Promotion codes</h2>
            {overview.isCapped ? <p className="mb-2 text-sm text-stone-700">Showing the newest 500; older ones are in your Stripe dashboard.</p> : null}
            <DataTable
              label="Promotion codes"
              columns={['Code', 'Discount', 'Restrictions', { label: 'Used (Stripe)', numeric: true }, { label: 'Paid orders', numeric: true }, 'Status', { label: 'Actions', visuallyHidden: true }]}
            >
              {overview.codes.map((code) => (
                <tr key={code.id} data-testid="promotion-code-row" data-code={code.code}>
                  <td className={`${td} font-mono font-semibold`}>{code.code}</td>
                  <td className={td} data-label="Discount">{discounts.describeCoupon(code.coupon)}</td>
                  <td className={td} data-label="Limits">{restrictions(code)}</td>
                  <td className={`${td} text-right tabular-nums`} data-label="Used" data-testid="times-redeemed">{code.timesRedeemed}</td>
                  <td className={`${td} text-right tabular-nums`} data-label="Paid orders" data-testid="paid-orders">{code.paidOrders}</td>
                  <td className={td} data-label="Status">
                    <span className={`${badge} ${code.isActive ? 'bg-emerald-100 text-emerald-900' : 'bg-stone-200 text-stone-800'}`} data-testid="code-status">
                      {code.isActive ? 'active' : 'inactive'}
                    </span>
                  </td>
                  <td className={td}>
                    {code.isActive ? (
                      <RowAction action={deactivatePromotionCodeAction} name="promotionCodeId" value={code.id}>
                        Deactivate<span className="sr-only"> {code.code}</span>
                      </RowAction>
                    ) : null}
                  </td>
                </tr>
              ))}
            </DataTable>
            {overview.codes.length === 0 ? <p className="mt-2 text-sm text-stone-700">No promotion codes yet.</p> : null}
          </section>
          <section className="mb-8" aria-labelledby="coupons-heading">
            <h2 id="coupons-heading" className="mb-3 text-lg font-semibold">Coupons</h2>
            <DataTable label="Coupons" columns={['Coupon', 'Discount', { label: 'Used (Stripe)', numeric: true }, 'Created', 'Status']}>
              {overview.coupons.map((coupon) => (
                <tr key={coupon.id} data-testid="coupon-row">
                  <td className={td}>{coupon.name ?? coupon.id}</td>
                  <td className={td} data-label="Discount">{discounts.describeCoupon(coupon)}</td>
                  <td className={`${td} text-right tabular-nums`} data-label="Used">{coupon.timesRedeemed}</td>
                  <td className={td} data-label="Created">{when(coupon.createdAt)}</td>
                  <td className={td} data-label="Status">{coupon.isValid ? 'valid' : 'no longer valid'}</td>
                </tr>
              ))}
            </DataTable>
            {overview.coupons.length === 0 ? <p className="mt-2 text-sm text-stone-700">No coupons yet.</p> : null}
          </section>
        </>
      ) : null}
      <section className={card} aria-labelledby="new-code-heading">
        <h2 id="new-code-heading" className="mb-3 text-lg font-semibold">New promotion code</h2>
        <ActionForm action={createPromotionCodeAction} className="grid gap-3 sm:grid-cols-2" testId="promotion-form">
          <HiddenField name="nonce" defaultValue={discounts.newNonce()} />
          <Field name="code" label="Code shoppers type" hint="3 to 40 letters, digits or dashes, like SPRING-20." required minLength={3} maxLength={40} />
          <ChoiceField name="kind" label="Discount type" defaultValue="percent" options={[['percent', 'Percentage off'], ['amount', `Amount off (${currency})`]]} />
          <Field name="amount" label="Percentage or amount off" required inputMode="decimal" hint={`A percentage like 20, or an amount: ${moneyHint(currency)}`} />
          <Field name="expiresOn" label="Last day it works (UTC, optional)" type="date" />
          <Field name="maxRedemptions" label="Redemption limit (optional)" type="number" min={1} inputMode="numeric" />
          <Field name="minimumAmount" label={`Minimum order in ${currency} (optional)`} inputMode="decimal" hint={moneyHint(currency)} />
          <CheckboxField name="isFirstOrderOnly" label="First order only (shoppers who never paid before)" className="sm:col-span-2" />
          <div className="sm:col-span-2">
            <button type="submit" className={buttonDark}>Create promotion code</button>
          </div>
        </ActionForm>
      </section>
    </>
  )
}
