'use server'

import { z } from 'zod'
import { issuesByField, refused, type FormState } from '../../_components/form-state'
import { done, fail } from '../../_components/redirect'
import * as adminAuth from '@/lib/admin-auth'
import * as collections from '@/lib/collections'
import { InvalidInput, NotFound } from '@/lib/errors'

const Id = z.coerce.number().int().positive().max(2 ** 31)
const text = (v: FormDataEntryValue | null) => (typeof v === 'string' ? v : '')

function fields(formData: FormData, prefix = '') {
  return collections.CollectionFields.safeParse({
    title: text(formData.get(`${prefix}title`)),
    slug: text(formData.get(`${prefix}slug`)),
    description: text(formData.get(`${prefix}description`)),
    isFeatured: formData.get(`${prefix}isFeatured`) === 'on',
  })
}

export async function saveCollectionAction(previous: FormState, formData: FormData): Promise<FormState> {
  const admin = await adminAuth.requireAdmin()
  const rawId = formData.get('collectionId')
  const id = rawId ? Id.safeParse(rawId) : null
  if (id && !id.success) fail('/admin/collections', 'That collection does not exist.')
  const prefix = id ? `c${id.data}-` : 'new-'
  const parsed = fields(formData, prefix)
  if (!parsed.success) return refused(previous, formData, issuesByField(parsed.error.issues, prefix))
  try {
    if (id) await collections.update(admin, id.data, parsed.data)
    else await collections.create(admin, parsed.data)
  } catch (err) {
    if (err instanceof InvalidInput || err instanceof NotFound) return refused(previous, formData, { [err instanceof InvalidInput && err.field ? `${prefix}${err.field}` : '']: err.message })
    throw err
  }
  done('/admin/collections', `Collection ${parsed.data.title} saved.`)
}

export async function setProductCollectionsAction(formData: FormData): Promise<void> {
  const admin = await adminAuth.requireAdmin()
  const productId = Id.safeParse(formData.get('productId'))
  if (!productId.success) fail('/admin/products', 'That product does not exist.')
  const ids = formData.getAll('collectionIds').map((v) => Number(v)).filter((n) => Number.isSafeInteger(n) && n > 0)
  try {
    await collections.setForProduct(admin, productId.data, ids)
  } catch (err) {
    if (err instanceof NotFound) fail('/admin/products', err.message)
    throw err
  }
  done(`/admin/products/${productId.data}`, 'Collections saved.')
}
