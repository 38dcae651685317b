import { ActionForm, Field } from '../../_components/action-form'
import { buttonSmall, td } from '../../_components/ui'
import { adjustStockAction } from './actions'

// The stock cells of a variant's row, on the inventory list and on a product's page: on the
// shelf, held by open checkouts, and the inline "change by N, because" form. `back` is where
// the action sends the owner afterwards; `stockTestId` marks the shelf cell where a test reads it.
// The form wraps, so on a phone its Apply button moves under the fields instead of off screen.
export function StockCells({ variant, back, stockTestId }: { variant: { id: number; stock: number; held: number }; back: string; stockTestId?: string }) {
  const { id } = variant
  return (
    <>
      <td className={`${td} text-right tabular-nums`} data-label="On shelf" data-testid={stockTestId}>{variant.stock}</td>
      <td className={`${td} text-right tabular-nums`} data-label="Held">{variant.held}</td>
      <td className={td}>
        <ActionForm action={adjustStockAction} className="flex flex-wrap items-start gap-2" hasSummary={false} testId="stock-form">
          <input type="hidden" name="variantId" value={id} />
          <input type="hidden" name="back" value={back} />
          <Field name="delta" id={`delta-${id}`} label="Change" labelClassName="text-xs font-medium" inputMode="numeric" placeholder="+5" className="w-24" />
          <Field name="note" id={`note-${id}`} label="Why" labelClassName="text-xs font-medium" maxLength={200} placeholder="received" className="min-w-36 flex-1" />
          <button type="submit" className={`${buttonSmall} mt-5`}>Apply</button>
        </ActionForm>
      </td>
    </>
  )
}
