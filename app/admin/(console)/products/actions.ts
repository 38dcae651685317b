'use server'

import { z } from 'zod'
import { done, fail } from '../../_components/redirect'
import * as adminAuth from '@/lib/admin-auth'
import { InvalidInput, NotFound } from '@/lib/errors'
import * as inventory from '@/lib/inventory'
import * as products from '@/lib/products'

// Catalog forms. Each parses its fields, checks the session, calls lib/products (which
// validates again, audits and expires the storefront cache) and answers with a redirect
// carrying the message.

const Id = z.coerce.number().int().positive().max(2 ** 31)
const text = (v: FormDataEntryValue | null) => (typeof v === 'string' ? v : '')

function productFields(formData: FormData) {
  return products.ProductFields.safeParse({
    title: text(formData.get('title')),
    description: text(formData.get('description')),
    status: text(formData.get('status')),
    isFeatured: formData.get('isFeatured') === 'on',
  })
}

function expected(err: unknown): err is InvalidInput | NotFound {
  return err instanceof InvalidInput || err instanceof NotFound
}

export async function createProductAction(formData: FormData): Promise<void> {
  const admin = await adminAuth.requireAdmin()
  const back = '/admin/products/new'
  const fields = productFields(formData)
  if (!fields.success) fail(back, fields.error.issues[0]!.message)
  const variants: products.VariantInput[] = []
  for (let i = 0; i < 10; i++) {
    const raw = { sku: text(formData.get(`v${i}-sku`)), title: text(formData.get(`v${i}-vtitle`)), price: text(formData.get(`v${i}-price`)), stock: text(formData.get(`v${i}-stock`)), options: text(formData.get(`v${i}-options`)) }
    if (!formData.has(`v${i}-sku`)) break
    if (!raw.sku.trim() && !raw.price.trim() && !raw.options.trim() && !raw.title.trim()) continue
    const parsed = products.parseVariant(raw, `Variant ${i + 1}`)
    if (!parsed.ok) fail(back, parsed.message)
    variants.push(parsed.data)
  }
  let created: { id: number }
  try {
    created = products.create(admin, fields.data, variants)
  } catch (err) {
    if (expected(err)) fail(back, err.message)
    throw err
  }
  done(`/admin/products/${created.id}`, 'Product created. It shows on the storefront now (if active).')
}

export async function updateProductAction(formData: FormData): Promise<void> {
  const admin = await adminAuth.requireAdmin()
  const id = Id.safeParse(formData.get('productId'))
  if (!id.success) fail('/admin/products', 'That product does not exist.')
  const back = `/admin/products/${id.data}`
  const fields = productFields(formData)
  if (!fields.success) fail(back, fields.error.issues[0]!.message)
  try {
    products.update(admin, id.data, fields.data)
  } catch (err) {
    if (expected(err)) fail(back, err.message)
    throw err
  }
  done(back, 'Saved.')
}

export async function archiveProductAction(formData: FormData): Promise<void> {
  const admin = await adminAuth.requireAdmin()
  const id = Id.safeParse(formData.get('productId'))
  if (!id.success) fail('/admin/products', 'That product does not exist.')
  try {
    products.setStatus(admin, id.data, 'archived')
  } catch (err) {
    if (expected(err)) fail('/admin/products', err.message)
    throw err
  }
  done(`/admin/products/${id.data}`, 'Archived: hidden from the storefront, kept for past orders.')
}

export async function addVariantAction(formData: FormData): Promise<void> {
  const admin = await adminAuth.requireAdmin()
  const id = Id.safeParse(formData.get('productId'))
  if (!id.success) fail('/admin/products', 'That product does not exist.')
  const back = `/admin/products/${id.data}`
  const parsed = products.parseVariant({ sku: text(formData.get('new-sku')), title: text(formData.get('new-vtitle')), price: text(formData.get('new-price')), stock: text(formData.get('new-stock')), options: text(formData.get('new-options')) }, 'New variant')
  if (!parsed.ok) fail(back, parsed.message)
  try {
    products.addVariant(admin, id.data, parsed.data)
  } catch (err) {
    if (expected(err)) fail(back, err.message)
    throw err
  }
  done(back, `Variant ${parsed.data.sku} added.`)
}

export async function updateVariantAction(formData: FormData): Promise<void> {
  const admin = await adminAuth.requireAdmin()
  const productId = Id.safeParse(formData.get('productId'))
  const variantId = Id.safeParse(formData.get('variantId'))
  if (!productId.success || !variantId.success) fail('/admin/products', 'That variant does not exist.')
  const back = `/admin/products/${productId.data}`
  const p = `var${variantId.data}-`
  const parsed = products.parseVariant({ sku: text(formData.get(`${p}sku`)), title: text(formData.get(`${p}vtitle`)), price: text(formData.get(`${p}price`)), options: text(formData.get(`${p}options`)) }, 'Variant')
  if (!parsed.ok) fail(back, parsed.message)
  try {
    products.updateVariant(admin, variantId.data, parsed.data)
  } catch (err) {
    if (expected(err)) fail(back, err.message)
    throw err
  }
  done(back, `Variant ${parsed.data.sku} saved.`)
}

export async function moveImageAction(formData: FormData): Promise<void> {
  const admin = await adminAuth.requireAdmin()
  const productId = Id.safeParse(formData.get('productId'))
  const imageId = Id.safeParse(formData.get('imageId'))
  const direction = z.enum(['up', 'down']).safeParse(formData.get('direction'))
  if (!productId.success || !imageId.success || !direction.success) fail('/admin/products', 'That picture does not exist.')
  const back = `/admin/products/${productId.data}`
  try {
    if (formData.get('remove') === '1') products.removeImage(admin, imageId.data)
    else products.moveImage(admin, imageId.data, direction.data)
  } catch (err) {
    if (expected(err)) fail(back, err.message)
    throw err
  }
  done(back, formData.get('remove') === '1' ? 'Picture removed.' : 'Pictures reordered.')
}

export async function adjustStockAction(formData: FormData): Promise<void> {
  const admin = await adminAuth.requireAdmin()
  const variantId = Id.safeParse(formData.get('variantId'))
  const rawBack = text(formData.get('back'))
  const back = /^\/admin\/(inventory|products\/\d+)(\?[\w=&%.-]*)?$/.test(rawBack) ? rawBack : '/admin/inventory'
  if (!variantId.success) fail(back, 'That variant does not exist.')
  const delta = z.coerce.number().int().min(-1_000_000).max(1_000_000).safeParse(text(formData.get('delta')).trim() || 'x')
  if (!delta.success || delta.data === 0) fail(back, 'Enter the change in stock as a whole number, like 5 or -2.')
  const note = text(formData.get('note')).trim().slice(0, 200)
  let result: { stockAfter: number }
  try {
    result = inventory.adjustByAdmin(admin, { variantId: variantId.data, delta: delta.data, note })
  } catch (err) {
    if (expected(err)) fail(back, err.message)
    throw err
  }
  done(back, `Stock is now ${result.stockAfter}.`)
}
