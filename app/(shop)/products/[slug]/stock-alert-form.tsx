import { requestStockAlert } from './stock-alert-actions'
import { FlashMessage, type Flash } from '@/app/_components/flash-message'
import { buttonSecondary } from '@/app/_components/ui/styles'

// Shown instead of a working "Add to cart" when the chosen option is sold out. The same
// form for every visitor (nothing personal in it), so the page stays cacheable.
export function StockAlertForm({ variantId, productSlug, flash, typedEmail }: { variantId: number; productSlug: string; flash: Flash | null; typedEmail: string }) {
  return (
    <form action={requestStockAlert} className="mt-4 space-y-3 rounded-2xl border border-stone-200 p-4" data-testid="stock-alert-form">
      <input type="hidden" name="variantId" value={variantId} />
      <input type="hidden" name="productSlug" value={productSlug} />
      <label htmlFor={`stock-alert-email-${variantId}`} className="block text-sm font-medium">
        Email me when it’s back
      </label>
      <div className="flex flex-wrap gap-2">
        <input id={`stock-alert-email-${variantId}`} name="email" type="email" autoComplete="email" required maxLength={254} defaultValue={typedEmail} placeholder="you@example.com" className="field-input min-w-0 flex-1" />
        <button type="submit" className={`${buttonSecondary} h-12`}>
          Notify me
        </button>
      </div>
      <p className="text-xs text-stone-600">One email when it is back in stock, nothing else. Every alert has an unsubscribe link.</p>
      <div aria-live="polite" aria-atomic="true">
        {flash ? <FlashMessage flash={flash} /> : null}
      </div>
    </form>
  )
}
