import type { Metadata } from 'next'
import { DataTable } from '../../_components/data-table'
import { SelectField, TextField } from '../../_components/fields'
import { RowAction } from '../../_components/row-action'
import { Flash, PageTitle, badge, buttonDark, card, pick, td, when, type SearchParams } from '../../_components/ui'
import { createPromotionCodeAction, deactivatePromotionCodeAction } from './actions'
import * as discounts from '@/lib/discounts'
import { getEnv } from '@/lib/env'
import { PaymentProviderError } from '@/lib/errors'
import { formatMoney } from '@/lib/money'
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
  const kept = (key: string) => pick(params, key) ?? ''
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
                  <td className={td}>{discounts.describeCoupon(code.coupon)}</td>
                  <td className={td}>{restrictions(code)}</td>
                  <td className={`${td} text-right tabular-nums`} data-testid="times-redeemed">{code.timesRedeemed}</td>
                  <td className={`${td} text-right tabular-nums`} data-testid="paid-orders">{code.paidOrders}</td>
                  <td className={td}>
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
                  <td className={td}>{discounts.describeCoupon(coupon)}</td>
                  <td className={`${td} text-right tabular-nums`}>{coupon.timesRedeemed}</td>
                  <td className={td}>{when(coupon.createdAt)}</td>
                  <td className={td}>{coupon.isValid ? 'valid' : 'no longer valid'}</td>
                </tr>
              ))}
            </DataTable>
            {overview.coupons.length === 0 ? <p className="mt-2 text-sm text-stone-700">No coupons yet.</p> : null}
          </section>
        </>
      ) : null}
      <section className={card} aria-labelledby="new-code-heading">
        <h2 id="new-code-heading" className="mb-3 text-lg font-semibold">New promotion code</h2>
        <form action={createPromotionCodeAction} className="grid gap-3 sm:grid-cols-2" data-testid="promotion-form">
          <input type="hidden" name="nonce" value={discounts.newNonce()} />
          <TextField id="code" label="Code shoppers type (letters, digits, dashes)" required minLength={3} maxLength={40} pattern="[A-Za-z0-9\-]+" defaultValue={kept('code')} />
          <SelectField id="kind" label="Discount type" defaultValue={kept('kind') || 'percent'}>
            <option value="percent">Percentage off</option>
            <option value="amount">Amount off ({currency})</option>
          </SelectField>
          <TextField id="amount" label="Percentage or amount off" required inputMode="decimal" defaultValue={kept('amount')} />
          <TextField id="expiresOn" label="Last day it works (UTC, optional)" type="date" defaultValue={kept('expiresOn')} />
          <TextField id="maxRedemptions" label="Redemption limit (optional)" type="number" min={1} inputMode="numeric" defaultValue={kept('maxRedemptions')} />
          <TextField id="minimumAmount" label={`Minimum order in ${currency} (optional)`} inputMode="decimal" defaultValue={kept('minimumAmount')} />
          <div className="flex items-center gap-2 sm:col-span-2">
            <input id="isFirstOrderOnly" name="isFirstOrderOnly" type="checkbox" defaultChecked={kept('isFirstOrderOnly') === 'on'} className="size-4" />
            <label htmlFor="isFirstOrderOnly" className="text-sm">First order only (shoppers who never paid before)</label>
          </div>
          <div className="sm:col-span-2">
            <button type="submit" className={buttonDark}>Create promotion code</button>
          </div>
        </form>
      </section>
    </>
  )
}
