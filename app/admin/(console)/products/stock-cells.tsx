import { buttonSmall, input, td } from '../../_components/ui'
import { adjustStockAction } from './actions'

// The stock cells of a variant's row, on the inventory list and on a product's page: on the
// shelf, held by open checkouts, and the inline "change by N, because" form. `back` is where
// the action sends the owner afterwards; `stockTestId` marks the shelf cell where a test reads it.
export function StockCells({ variant, back, stockTestId }: { variant: { id: number; stock: number; held: number }; back: string; stockTestId?: string }) {
  const { id } = variant
  return (
    <>
      <td className={`${td} text-right tabular-nums`} data-testid={stockTestId}>{variant.stock}</td>
      <td className={`${td} text-right tabular-nums`}>{variant.held}</td>
      <td className={td}>
        <form action={adjustStockAction} className="flex flex-wrap items-end gap-2">
          <input type="hidden" name="variantId" value={id} />
          <input type="hidden" name="back" value={back} />
          <div>
            <label htmlFor={`delta-${id}`} className="text-xs font-medium">Change</label>
            <input id={`delta-${id}`} name="delta" inputMode="numeric" placeholder="+5" className={`${input} w-20`} />
          </div>
          <div>
            <label htmlFor={`note-${id}`} className="text-xs font-medium">Why</label>
            <input id={`note-${id}`} name="note" maxLength={200} placeholder="received" className={`${input} w-32`} />
          </div>
          <button type="submit" className={buttonSmall}>Apply</button>
        </form>
      </td>
    </>
  )
}
