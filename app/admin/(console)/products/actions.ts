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
    taxCode: text(formData.get('taxCode')),
  })
}

// A variant's fields as a form posts them under one prefix (`v0-` on a new product, `new-`,
// `var12-`); stock only where the form offers it, since saving a variant never sets stock.
function variantFields(formData: FormData, prefix: string, withStock: boolean) {
  const field = (name: string) => text(formData.get(`${prefix}${name}`))
  return { sku: field('sku'), title: field('vtitle'), price: field('price'), options: field('options'), ...(withStock ? { stock: field('stock') } : {}) }
}

// Runs one catalog write. A refusal the owner can act on (bad input, a row gone meanwhile)
// goes back to `back` as the message; anything else is a real fault and is thrown on.
function attempt<T>(back: string, write: () => T): T {
  try {
    return write()
  } catch (err) {
    if (err instanceof InvalidInput || err instanceof NotFound) fail(back, err.message)
    throw err
  }
}

export async function createProductAction(formData: FormData): Promise<void> {
  const admin = await adminAuth.requireAdmin()
  const back = '/admin/products/new'
  const fields = productFields(formData)
  if (!fields.success) fail(back, fields.error.issues[0]!.message)
  const variants: products.VariantInput[] = []
  for (let i = 0; i < 10; i++) {
    const raw = variantFields(formData, `v${i}-`, true)
    if (!formData.has(`v${i}-sku`)) break
    if (!raw.sku.trim() && !raw.price.trim() && !raw.options.trim() && !raw.title.trim()) continue
    const parsed = products.parseVariant(raw, `Variant ${i + 1}`)
    if (!parsed.ok) fail(back, parsed.message)
    variants.push(parsed.data)
  }
  const created = attempt(back, () => products.create(admin, fields.data, variants))
  const notice = created.sameTitleAs
    ? `Product created, but another product already has this title (/products/${created.sameTitleAs.slug}): this one's address is /products/${created.slug}. If it is a duplicate, archive one of them.`
    : 'Product created. It shows on the storefront now (if active).'
  done(`/admin/products/${created.id}`, notice)
}

export async function updateProductAction(formData: FormData): Promise<void> {
  const admin = await adminAuth.requireAdmin()
  const id = Id.safeParse(formData.get('productId'))
  if (!id.success) fail('/admin/products', 'That product does not exist.')
  const back = `/admin/products/${id.data}`
  const fields = productFields(formData)
  if (!fields.success) fail(back, fields.error.issues[0]!.message)
  attempt(back, () => products.update(admin, id.data, fields.data))
  done(back, 'Saved.')
}

export async function archiveProductAction(formData: FormData): Promise<void> {
  const admin = await adminAuth.requireAdmin()
  const id = Id.safeParse(formData.get('productId'))
  if (!id.success) fail('/admin/products', 'That product does not exist.')
  attempt('/admin/products', () => products.setStatus(admin, id.data, 'archived'))
  done(`/admin/products/${id.data}`, 'Archived: hidden from the storefront, kept for past orders.')
}

// Adding and editing a variant differ only in the write: both parse the posted fields and
// answer on the product's page, naming the variant by its SKU.
function saveVariant(back: string, raw: ReturnType<typeof variantFields>, label: string, write: (variant: products.VariantInput) => unknown, verb: string): never {
  const parsed = products.parseVariant(raw, label)
  if (!parsed.ok) fail(back, parsed.message)
  attempt(back, () => write(parsed.data))
  done(back, `Variant ${parsed.data.sku} ${verb}.`)
}

export async function addVariantAction(formData: FormData): Promise<void> {
  const admin = await adminAuth.requireAdmin()
  const id = Id.safeParse(formData.get('productId'))
  if (!id.success) fail('/admin/products', 'That product does not exist.')
  const back = `/admin/products/${id.data}`
  saveVariant(back, variantFields(formData, 'new-', true), 'New variant', (variant) => products.addVariant(admin, id.data, variant), 'added')
}

export async function updateVariantAction(formData: FormData): Promise<void> {
  const admin = await adminAuth.requireAdmin()
  const productId = Id.safeParse(formData.get('productId'))
  const variantId = Id.safeParse(formData.get('variantId'))
  if (!productId.success || !variantId.success) fail('/admin/products', 'That variant does not exist.')
  const back = `/admin/products/${productId.data}`
  saveVariant(back, variantFields(formData, `var${variantId.data}-`, false), 'Variant', (variant) => products.updateVariant(admin, variantId.data, variant), 'saved')
}

export async function moveImageAction(formData: FormData): Promise<void> {
  const admin = await adminAuth.requireAdmin()
  const productId = Id.safeParse(formData.get('productId'))
  const imageId = Id.safeParse(formData.get('imageId'))
  const direction = z.enum(['up', 'down']).safeParse(formData.get('direction'))
  if (!productId.success || !imageId.success || !direction.success) fail('/admin/products', 'That picture does not exist.')
  const back = `/admin/products/${productId.data}`
  attempt(back, () => {
    if (formData.get('remove') === '1') products.removeImage(admin, imageId.data)
    else products.moveImage(admin, imageId.data, direction.data)
  })
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
  const result = attempt(back, () => inventory.adjustByAdmin(admin, { variantId: variantId.data, delta: delta.data, note }))
  done(back, `Stock is now ${result.stockAfter}.`)
}
