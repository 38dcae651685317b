import { CheckboxField, ChoiceField, Field, TextAreaField } from '../../_components/action-form'
import { getEnv } from '@/lib/env'
import { moneyHint } from '@/lib/money'
import * as products from '@/lib/products'

// The product and variant fields, the same on the new and edit forms. They sit inside an
// ActionForm: after a refusal each shows what was typed and its own message.

const STATUS_OPTIONS = products.PRODUCT_STATUSES.map((s) => [s, s] as const)

/** Title, description, status, featured and tax code. */
export function ProductFieldset({ values }: { values?: { title: string; description: string; status: string; isFeatured: boolean; taxCode: string | null } }) {
  return (
    <>
      <Field name="title" label="Title" required maxLength={products.TITLE_MAX} defaultValue={values?.title} />
      <TextAreaField name="description" label="Description" rows={5} maxLength={products.DESCRIPTION_MAX} defaultValue={values?.description} />
      <div className="grid gap-3 sm:grid-cols-2">
        <ChoiceField name="status" label="Status" defaultValue={values?.status ?? 'active'} options={STATUS_OPTIONS} />
        <CheckboxField name="isFeatured" label="Featured on the home page" defaultChecked={values?.isFeatured} className="sm:self-end sm:pb-2" />
      </div>
      <Field name="taxCode" label="Tax code (Stripe Tax)" hint="Like txcd_99999999; leave it empty for the shop default." maxLength={13} defaultValue={values?.taxCode ?? ''} />
    </>
  )
}

/** One variant's fields; `prefix` keeps several rows apart in one form. */
export function VariantFieldset({ prefix, legend, withStock, values }: { prefix: string; legend: string; withStock: boolean; values?: { sku: string; title: string; price: string; options: string } }) {
  const name = (field: string) => `${prefix}${field}`
  return (
    <fieldset className="grid min-w-0 grid-cols-2 gap-3 rounded-xl border border-stone-200 p-3 sm:grid-cols-4">
      <legend className="px-1 text-sm font-semibold">{legend}</legend>
      <Field name={name('sku')} label="SKU" maxLength={64} defaultValue={values?.sku} />
      <Field name={name('price')} label="Price" inputMode="decimal" defaultValue={values?.price} hint={moneyHint(getEnv().currency)} />
      {withStock ? <Field name={name('stock')} label="Stock" type="number" min={0} defaultValue={0} /> : null}
      <Field name={name('vtitle')} label="Variant title" maxLength={products.TITLE_MAX} defaultValue={values?.title} className={withStock ? undefined : 'col-span-2 sm:col-span-2'} />
      <Field name={name('options')} label="Options" hint={<>Name: Value pairs, separated by commas, like <span className="whitespace-nowrap font-mono">Colour: Cream, Size: M</span>. Name=Value works too.</>} defaultValue={values?.options} className="col-span-2 sm:col-span-4" />
    </fieldset>
  )
}
