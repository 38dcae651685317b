import type { Metadata } from 'next'
import Link from 'next/link'
import { DataTable } from '../../../_components/data-table'
import { PageTitle, td, when, found } from '../../../_components/ui'
import * as adminAuth from '@/lib/admin-auth'
import * as inventory from '@/lib/inventory'
import * as products from '@/lib/products'

export const metadata: Metadata = { title: 'Stock ledger' }

export default async function LedgerPage({ params }: { params: Promise<{ variantId: string }> }) {
  await adminAuth.requireAdmin()
  const { variantId } = await params
  const variant = await found(variantId, products.variantLabel)
  const rows = await inventory.ledgerFor(variant.id, 200)
  return (
    <>
      <PageTitle>Stock ledger: {variant.sku}</PageTitle>
      <p className="mb-4 text-sm">
        <Link className="underline underline-offset-4" href={`/admin/products/${variant.productId}`}>{variant.productTitle}</Link> · {variant.title} · {variant.stock} on the shelf
      </p>
      <DataTable label="Stock ledger" columns={['When', 'Why', { label: 'Change', numeric: true }, { label: 'After', numeric: true }, 'Who']}>
        {rows.map((r) => (
          <tr key={r.id} data-testid="ledger-row" data-reason={r.reason}>
            <td className={td}>{when(r.createdAt)}</td>
            <td className={td} data-label="Why">{r.reason.replace('_', ' ')}{r.note ? <span className="block break-all text-xs text-stone-600">{r.note}</span> : null}{r.orderId ? <Link className="block text-xs underline" href={`/admin/orders/${r.orderId}`}>order #{String(r.orderId).padStart(5, '0')}</Link> : null}</td>
            <td className={`${td} text-right tabular-nums`} data-label="Change">{r.delta > 0 ? `+${r.delta}` : r.delta}</td>
            <td className={`${td} text-right tabular-nums`} data-label="After">{r.stockAfter}</td>
            <td className={`${td} [overflow-wrap:anywhere]`} data-label="Who">{r.adminEmail ?? (r.adminUserId ? 'admin' : 'the shop')}</td>
          </tr>
        ))}
      </DataTable>
    </>
  )
}
