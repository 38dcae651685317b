import { input, label } from '../../_components/ui'
import { getEnv } from '@/lib/env'
import { moneyHint } from '@/lib/money'
import * as products from '@/lib/products'

/** Title, description, status, featured and tax code: the same fields on the new and edit forms. */
export function ProductFieldset({ values }: { values?: { title: string; description: string; status: string; isFeatured: boolean; taxCode: string | null } }) {
  return (
    <>
      <div>
        <label htmlFor="title" className={label}>Title</label>
        <input id="title" name="title" required maxLength={products.TITLE_MAX} defaultValue={values?.title} className={input} />
      </div>
      <div>
        <label htmlFor="description" className={label}>Description</label>
        <textarea id="description" name="description" rows={5} maxLength={products.DESCRIPTION_MAX} defaultValue={values?.description} className={input} />
      </div>
      <div className="grid grid-cols-2 gap-3">
        <div>
          <label htmlFor="status" className={label}>Status</label>
          <select id="status" name="status" defaultValue={values?.status ?? 'active'} className={input}>
            {products.PRODUCT_STATUSES.map((s) => <option key={s} value={s}>{s}</option>)}
          </select>
        </div>
        <div className="flex items-end gap-2 pb-2">
          <input id="isFeatured" name="isFeatured" type="checkbox" defaultChecked={values?.isFeatured} className="size-4" />
          <label htmlFor="isFeatured" className="text-sm">Featured on the home page</label>
        </div>
      </div>
      <div>
        <label htmlFor="taxCode" className={label}>Tax code (Stripe Tax, e.g. txcd_99999999; empty for the shop default)</label>
        <input id="taxCode" name="taxCode" maxLength={13} pattern="txcd_[0-9]{8}" defaultValue={values?.taxCode ?? ''} className={input} />
      </div>
    </>
  )
}

/** One variant's fields; `prefix` keeps several rows apart in one form. */
export function VariantFieldset({ prefix, legend, withStock, values }: { prefix: string; legend: string; withStock: boolean; values?: { sku: string; title: string; price: string; options: string } }) {
  const id = (name: string) => `${prefix}${name}`
  return (
    <fieldset className="grid grid-cols-2 gap-3 rounded-xl border border-stone-200 p-3 sm:grid-cols-5">
      <legend className="px-1 text-sm font-semibold">{legend}</legend>
      <div>
        <label htmlFor={id('sku')} className={label}>SKU</label>
        <input id={id('sku')} name={id('sku')} maxLength={64} defaultValue={values?.sku} className={input} />
      </div>
      <div>
        <label htmlFor={id('price')} className={label}>Price</label>
        <input id={id('price')} name={id('price')} inputMode="decimal" defaultValue={values?.price} aria-describedby={id('price-hint')} className={input} />
      </div>
      {withStock ? (
        <div>
          <label htmlFor={id('stock')} className={label}>Stock</label>
          <input id={id('stock')} name={id('stock')} type="number" min={0} defaultValue={0} className={input} />
        </div>
      ) : null}
      <div>
        <label htmlFor={id('vtitle')} className={label}>Variant title</label>
        <input id={id('vtitle')} name={id('vtitle')} maxLength={products.TITLE_MAX} defaultValue={values?.title} className={input} />
      </div>
      <div>
        <label htmlFor={id('options')} className={label}>Options</label>
        <input id={id('options')} name={id('options')} placeholder="Size=M, Colour=Navy" defaultValue={values?.options} className={input} />
      </div>
      <p id={id('price-hint')} className="col-span-full text-xs text-stone-600">Price: {moneyHint(getEnv().currency)}</p>
    </fieldset>
  )
}
