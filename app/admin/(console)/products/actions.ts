'use server'

import { z } from 'zod'
import { refused, issuesByField, type FormState } from '../../_components/form-state'
import { done, fail } from '../../_components/redirect'
import * as adminAuth from '@/lib/admin-auth'
import * as downloads from '@/lib/downloads'
import { InvalidInput, NotFound } from '@/lib/errors'
import * as inventory from '@/lib/inventory'
import * as products from '@/lib/products'

// Catalog forms. Each checks the session, parses its fields, calls lib/products (which
// validates again, audits and expires the storefront cache) and answers with a redirect
// carrying the message, or, when the input is refused, with what was typed and a message per
// field (form-state.ts) so the form comes back as the owner left it.

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

// The form field a variant's message belongs to (its title is posted as `vtitle`).
const variantField = (prefix: string, field: string) => `${prefix}${field === 'title' ? 'vtitle' : field === 'priceCents' ? 'price' : field}`

// Runs one catalog write. A refusal the owner can act on (bad input, a row gone meanwhile)
// comes back as the message for its field (`fieldOf` places it); anything else is a real
// fault and is thrown on.
async function attempt<T>(write: () => Promise<T>, fieldOf: (err: InvalidInput | NotFound) => string): Promise<{ ok: true; value: T } | { ok: false; errors: Record<string, string> }> {
  try {
    return { ok: true, value: await write() }
  } catch (err) {
    if (err instanceof InvalidInput || err instanceof NotFound) return { ok: false, errors: { [fieldOf(err)]: err.message } }
    throw err
  }
}

export async function createProductAction(previous: FormState, formData: FormData): Promise<FormState> {
  const admin = await adminAuth.requireAdmin()
  const fields = productFields(formData)
  const errors: Record<string, string> = fields.success ? {} : issuesByField(fields.error.issues)
  const variants: products.VariantInput[] = []
  const prefixes: string[] = []
  for (let i = 0; i < 10; i++) {
    const prefix = `v${i}-`
    const raw = variantFields(formData, prefix, true)
    if (!formData.has(`${prefix}sku`)) break
    if (!raw.sku.trim() && !raw.price.trim() && !raw.options.trim() && !raw.title.trim()) continue
    const parsed = products.parseVariant(raw, `Variant ${i + 1}`)
    if (!parsed.ok) errors[variantField(prefix, parsed.field)] = parsed.message
    else {
      variants.push(parsed.data)
      prefixes.push(prefix)
    }
  }
  if (!fields.success || Object.keys(errors).length) return refused(previous, formData, errors)
  const created = await attempt(
    () => products.create(admin, fields.data, variants),
    (err) => {
      if (!(err instanceof InvalidInput) || err.field !== 'sku') return err instanceof InvalidInput && err.field ? err.field : ''
      // a SKU refused (taken, or twice in the form) belongs to the row that holds it
      const row = variants.findIndex((v) => err.message.toLowerCase().includes(`sku ${v.sku.toLowerCase()} `))
      return `${prefixes[Math.max(0, row)] ?? 'v0-'}sku`
    },
  )
  if (!created.ok) return refused(previous, formData, created.errors)
  const notice = created.value.sameTitleAs
    ? `Product created, but another product already has this title (/products/${created.value.sameTitleAs.slug}): this one's address is /products/${created.value.slug}. If it is a duplicate, archive one of them.`
    : 'Product created. It shows on the storefront now (if active).'
  done(`/admin/products/${created.value.id}`, notice)
}

export async function updateProductAction(previous: FormState, formData: FormData): Promise<FormState> {
  const admin = await adminAuth.requireAdmin()
  const id = Id.safeParse(formData.get('productId'))
  if (!id.success) fail('/admin/products', 'That product does not exist.')
  const back = `/admin/products/${id.data}`
  const fields = productFields(formData)
  if (!fields.success) return refused(previous, formData, issuesByField(fields.error.issues))
  // the version the form was drawn from: a product changed since is refused, not overwritten
  const version = /^\d{1,16}$/.test(text(formData.get('version'))) ? Number(text(formData.get('version'))) : undefined
  const saved = await attempt(() => products.update(admin, id.data, fields.data, version), (err) => (err instanceof InvalidInput && err.field ? err.field : ''))
  if (!saved.ok) return refused(previous, formData, saved.errors)
  done(back, 'Saved.')
}

export async function archiveProductAction(formData: FormData): Promise<void> {
  const admin = await adminAuth.requireAdmin()
  const id = Id.safeParse(formData.get('productId'))
  if (!id.success) fail('/admin/products', 'That product does not exist.')
  const archived = await attempt(() => products.setStatus(admin, id.data, 'archived'), () => '')
  if (!archived.ok) fail('/admin/products', archived.errors['']!)
  done(`/admin/products/${id.data}`, 'Archived: hidden from the storefront, kept for past orders.')
}

// Adding and editing a variant differ only in the write: both parse the posted fields and
// answer on the product's page, naming the variant by its SKU.
async function saveVariant(previous: FormState, formData: FormData, back: string, prefix: string, withStock: boolean, label: string, write: (variant: products.VariantInput) => Promise<unknown>, verb: string): Promise<FormState> {
  const parsed = products.parseVariant(variantFields(formData, prefix, withStock), label)
  if (!parsed.ok) return refused(previous, formData, { [variantField(prefix, parsed.field)]: parsed.message })
  const saved = await attempt(() => write(parsed.data), (err) => (err instanceof InvalidInput && err.field ? variantField(prefix, err.field) : ''))
  if (!saved.ok) return refused(previous, formData, saved.errors)
  done(back, `Variant ${parsed.data.sku} ${verb}.`)
}

export async function addVariantAction(previous: FormState, formData: FormData): Promise<FormState> {
  const admin = await adminAuth.requireAdmin()
  const id = Id.safeParse(formData.get('productId'))
  if (!id.success) fail('/admin/products', 'That product does not exist.')
  return saveVariant(previous, formData, `/admin/products/${id.data}`, 'new-', true, 'New variant', (variant) => products.addVariant(admin, id.data, variant), 'added')
}

export async function updateVariantAction(previous: FormState, formData: FormData): Promise<FormState> {
  const admin = await adminAuth.requireAdmin()
  const productId = Id.safeParse(formData.get('productId'))
  const variantId = Id.safeParse(formData.get('variantId'))
  if (!productId.success || !variantId.success) fail('/admin/products', 'That variant does not exist.')
  return saveVariant(previous, formData, `/admin/products/${productId.data}`, `var${variantId.data}-`, false, 'Variant', (variant) => products.updateVariant(admin, variantId.data, variant), 'saved')
}

export async function moveImageAction(formData: FormData): Promise<void> {
  const admin = await adminAuth.requireAdmin()
  const productId = Id.safeParse(formData.get('productId'))
  const imageId = Id.safeParse(formData.get('imageId'))
  const direction = z.enum(['up', 'down']).safeParse(formData.get('direction'))
  if (!productId.success || !imageId.success || !direction.success) fail('/admin/products', 'That picture does not exist.')
  const back = `/admin/products/${productId.data}`
  const moved = await attempt(() => (formData.get('remove') === '1' ? products.removeImage(admin, imageId.data) : products.moveImage(admin, imageId.data, direction.data)), () => '')
  if (!moved.ok) fail(back, moved.errors['']!)
  done(back, formData.get('remove') === '1' ? 'Picture removed.' : 'Pictures reordered.')
}

// Uploading a file is a route handler (products/[id]/download); taking it away is this form.
export async function removeDownloadAction(formData: FormData): Promise<void> {
  const admin = await adminAuth.requireAdmin()
  const id = Id.safeParse(formData.get('productId'))
  if (!id.success) fail('/admin/products', 'That product does not exist.')
  const removed = await downloads.detach(admin, id.data)
  done(`/admin/products/${id.data}`, removed ? 'The file was removed: the product is shipped again, and links already sold stop working.' : 'This product had no file.')
}

export async function adjustStockAction(previous: FormState, formData: FormData): Promise<FormState> {
  const admin = await adminAuth.requireAdmin()
  const variantId = Id.safeParse(formData.get('variantId'))
  const rawBack = text(formData.get('back'))
  const back = /^\/admin\/(inventory|products\/\d+)(\?[\w=&%.-]*)?$/.test(rawBack) ? rawBack : '/admin/inventory'
  if (!variantId.success) fail(back, 'That variant does not exist.')
  const delta = z.coerce.number().int().min(-1_000_000).max(1_000_000).safeParse(text(formData.get('delta')).trim() || 'x')
  if (!delta.success || delta.data === 0) return refused(previous, formData, { delta: 'Enter the change in stock as a whole number, like 5 or -2.' })
  const note = text(formData.get('note')).trim().slice(0, 200)
  const result = await attempt(() => inventory.adjustByAdmin(admin, { variantId: variantId.data, delta: delta.data, note }), (e) => (e instanceof InvalidInput && e.field ? e.field : ''))
  if (!result.ok) return refused(previous, formData, result.errors)
  done(back, `Stock is now ${result.value.stockAfter}.`)
}
