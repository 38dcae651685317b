'use server'

import { z } from 'zod'
import { done, fail } from '../../_components/redirect'
import * as catalogCsv from '@/lib/catalog-csv'
import { InvalidInput, NotFound } from '@/lib/errors'
import * as staff from '@/lib/staff'

export async function applyImportAction(formData: FormData): Promise<void> {
  const admin = await staff.requirePermission('products')
  const id = z.coerce.number().int().positive().max(2 ** 31).safeParse(formData.get('importId'))
  if (!id.success) fail('/admin/import', 'That import does not exist.')
  const back = `/admin/import/${id.data}`
  let applied: catalogCsv.Applied
  try {
    applied = await catalogCsv.apply(admin, id.data)
  } catch (err) {
    if (err instanceof NotFound) fail('/admin/import', 'That import does not exist (uploads are kept for a day).')
    if (err instanceof InvalidInput) fail(back, err.message)
    throw err
  }
  const { products: p, variants: v } = applied
  done(back, `Applied: ${p.created} products created, ${p.changed} changed; ${v.created} variants created, ${v.changed} changed; ${applied.stockMoves} stock changes in the ledger.`)
}
