'use server'

import { refused, type FormState } from '../../../_components/form-state'
import { done } from '../../../_components/redirect'
import * as bulkEdit from '@/lib/bulk-edit'
import * as staff from '@/lib/staff'

// The bulk price and stock form: every row posts its variant id, the typed price and stock,
// and the price and stock the page showed (`seenPrice-`, `seenStock-`). lib/bulk-edit checks
// and applies them in one transaction; a refusal comes back with everything as typed.

const text = (v: FormDataEntryValue | null) => (typeof v === 'string' ? v : '')

export async function bulkEditAction(previous: FormState, formData: FormData): Promise<FormState> {
  await staff.requirePermission('stock')
  const admin = await staff.requirePermission('products')
  const ids = formData.getAll('variant').slice(0, bulkEdit.MAX_ROWS + 1).map((v) => Number(text(v)))
  const rows = ids.map((variantId) => ({
    variantId,
    price: text(formData.get(bulkEdit.fieldOf('price', variantId))),
    stock: text(formData.get(bulkEdit.fieldOf('stock', variantId))),
    seenPriceCents: text(formData.get(`seenPrice-${variantId}`)),
    seenStock: text(formData.get(`seenStock-${variantId}`)),
  }))
  const result = await bulkEdit.apply(admin, rows)
  if (!result.ok) return refused(previous, formData, result.errors)
  if (!result.changes.length) done('/admin/products/bulk', 'Nothing to save: no price or stock was changed.')
  done('/admin/products/bulk', `Saved ${result.prices} ${result.prices === 1 ? 'price' : 'prices'} and ${result.stockChanges} stock ${result.stockChanges === 1 ? 'change' : 'changes'}.`)
}
