import type { Metadata } from 'next'
import Link from 'next/link'
import { ActionForm } from '../../../_components/action-form'
import { DataTable } from '../../../_components/data-table'
import { TextField } from '../../../_components/fields'
import { Flash, PageTitle, buttonDark, buttonSmall, card, td, found, type SearchParams } from '../../../_components/ui'
import { StockCells } from '../stock-cells'
import { addVariantAction, archiveProductAction, moveImageAction, removeDownloadAction, updateProductAction, updateVariantAction } from '../actions'
import { ProductFieldset, VariantFieldset } from '../product-fields'
import { setProductCollectionsAction } from '../../collections/actions'
import * as collections from '@/lib/collections'
import * as adminAuth from '@/lib/admin-auth'
import * as downloads from '@/lib/downloads'
import { decimalAmount } from '@/lib/money'
import * as products from '@/lib/products'
import { MAX_UPLOAD_BYTES } from '@/lib/product-images'

export const metadata: Metadata = { title: 'Edit product' }

export default async function EditProductPage({ params, searchParams }: { params: Promise<{ id: string }>; searchParams: Promise<SearchParams> }) {
  await adminAuth.requireAdmin()
  const [{ id }, query] = await Promise.all([params, searchParams])
  const product = await found(id, products.get)
  const back = `/admin/products/${product.id}`
  const [allCollections, inCollections] = await Promise.all([collections.list(), collections.ofProduct(product.id).then((ids) => new Set(ids))])
  const file = await downloads.fileOf(product.id)
  return (
    <>
      {/* A plain link: a prefetch would render the shop page while the owner is still editing,
          and could store it in the cache just after an edit expired it. */}
      <PageTitle actions={product.status === 'active' ? <a href={`/products/${product.slug}`} className={buttonSmall}>View in shop</a> : null}>{product.title}</PageTitle>
      <Flash params={query} />
      <div className="grid gap-6">
        <ActionForm action={updateProductAction} className={`${card} space-y-4`} testId="product-form" isGuardingEdits>
          <input type="hidden" name="productId" value={product.id} />
          <input type="hidden" name="version" value={product.updatedAt} />
          <ProductFieldset values={product} />
          <button type="submit" className={buttonDark}>Save product</button>
        </ActionForm>

        <form action={setProductCollectionsAction} className={card}>
          <input type="hidden" name="productId" value={product.id} />
          <fieldset>
            <legend className="mb-2 text-lg font-semibold">Collections</legend>
            <div className="flex flex-wrap gap-x-4 gap-y-2">
              {allCollections.map((c) => (
                <div key={c.id} className="flex items-center gap-2">
                  <input id={`col-${c.id}`} type="checkbox" name="collectionIds" value={c.id} defaultChecked={inCollections.has(c.id)} className="size-4" />
                  <label htmlFor={`col-${c.id}`} className="text-sm">{c.title}</label>
                </div>
              ))}
            </div>
          </fieldset>
          <button type="submit" className={`${buttonSmall} mt-3`}>Save collections</button>
        </form>

        <section className={card} aria-labelledby="variants-heading">
          <h2 id="variants-heading" className="mb-3 text-lg font-semibold">Variants and stock</h2>
          <DataTable label="Stock" columns={['SKU', { label: 'On shelf', numeric: true }, { label: 'Held', numeric: true }, 'Adjust']}>
            {product.variants.map((v) => (
              <tr key={v.id} data-testid="variant-stock-row" data-sku={v.sku}>
                <td className={td}><Link className="underline underline-offset-4" href={`/admin/inventory/${v.id}`}>{v.sku}</Link><span className="block text-xs text-stone-600">{v.title}</span></td>
                <StockCells variant={v} back={back} stockTestId="stock" />
              </tr>
            ))}
          </DataTable>
          <div className="mt-4 space-y-3">
            {product.variants.map((v) => (
              <ActionForm key={v.id} action={updateVariantAction} className="space-y-2" testId="variant-form">
                <input type="hidden" name="productId" value={product.id} />
                <input type="hidden" name="variantId" value={v.id} />
                <VariantFieldset prefix={`var${v.id}-`} legend={`Variant ${v.sku}`} withStock={false} values={{ sku: v.sku, title: v.title, price: decimalAmount(v.priceCents, v.currency), options: products.optionsText(v.options) }} />
                <button type="submit" className={buttonSmall}>Save variant {v.sku}</button>
              </ActionForm>
            ))}
            <ActionForm action={addVariantAction} className="space-y-2" testId="new-variant-form">
              <input type="hidden" name="productId" value={product.id} />
              <VariantFieldset prefix="new-" legend="Add a variant" withStock />
              <button type="submit" className={buttonSmall}>Add variant</button>
            </ActionForm>
          </div>
        </section>

        <section className={card} aria-labelledby="images-heading">
          <h2 id="images-heading" className="mb-3 text-lg font-semibold">Pictures</h2>
          <ul className="grid grid-cols-2 gap-3 sm:grid-cols-4" data-testid="product-images">
            {product.images.map((img, i) => (
              <li key={img.id} className="rounded-xl border border-stone-200 p-2">
                {/* eslint-disable-next-line @next/next/no-img-element -- uploads are served as they are, already re-encoded */}
                <img src={`/uploads/${img.path}`} alt={img.alt || product.title} width={img.width} height={img.height} className="aspect-square w-full rounded-lg object-cover" />
                <form action={moveImageAction} className="mt-2 flex flex-wrap gap-1">
                  <input type="hidden" name="productId" value={product.id} />
                  <input type="hidden" name="imageId" value={img.id} />
                  <button type="submit" name="direction" value="up" className={buttonSmall} disabled={i === 0} aria-label={`Move picture ${i + 1} earlier`}>↑</button>
                  <button type="submit" name="direction" value="down" className={buttonSmall} disabled={i === product.images.length - 1} aria-label={`Move picture ${i + 1} later`}>↓</button>
                </form>
                <form action={moveImageAction} className="mt-1">
                  <input type="hidden" name="productId" value={product.id} />
                  <input type="hidden" name="imageId" value={img.id} />
                  <input type="hidden" name="direction" value="up" />
                  <input type="hidden" name="remove" value="1" />
                  <button type="submit" className="text-xs underline">Remove picture {i + 1}</button>
                </form>
              </li>
            ))}
          </ul>
          <form action={`/admin/products/${product.id}/images`} method="post" encType="multipart/form-data" className="mt-4 space-y-3" data-testid="image-upload-form">
            <TextField id="image" label={<>Add a picture (JPEG, PNG, WebP or GIF, up to {Math.round(MAX_UPLOAD_BYTES / 1024 / 1024)} MB)</>} type="file" accept="image/jpeg,image/png,image/webp,image/gif" required />
            <TextField id="alt" label="Description of the picture (for screen readers)" maxLength={200} />
            <button type="submit" className={buttonDark}>Upload picture</button>
          </form>
        </section>

        <section className={card} aria-labelledby="download-heading" data-testid="product-download">
          <h2 id="download-heading" className="mb-3 text-lg font-semibold">Digital download</h2>
          {file ? (
            <>
              <p className="text-sm" data-testid="product-download-file">
                Sold as a download: <strong>{file.fileName}</strong> ({Math.max(1, Math.round(file.sizeBytes / 1024))} KB). Buyers get a link once they have paid, and no shipping address is asked when
                everything in the cart is a download.
              </p>
              <form action={removeDownloadAction} className="mt-2">
                <input type="hidden" name="productId" value={product.id} />
                <button type="submit" className="text-xs underline">Remove the file (ship the product again)</button>
              </form>
            </>
          ) : (
            <p className="text-sm text-stone-700">Upload a file to sell this product as a download instead of shipping it.</p>
          )}
          <form action={`/admin/products/${product.id}/download`} method="post" encType="multipart/form-data" className="mt-4 space-y-3" data-testid="download-upload-form">
            <TextField id="file" label={<>{file ? 'Replace the file' : 'File to sell'} (any type, up to {downloads.MAX_FILE_BYTES / 1024 / 1024} MB)</>} type="file" required />
            <button type="submit" className={buttonDark}>{file ? 'Replace file' : 'Upload file'}</button>
          </form>
        </section>

        {product.status !== 'archived' ? (
          <form action={archiveProductAction} className={card}>
            <input type="hidden" name="productId" value={product.id} />
            <p className="mb-2 text-sm text-stone-700">Archiving hides the product from the shop and keeps it for past orders.</p>
            <button type="submit" className={buttonSmall}>Archive product</button>
          </form>
        ) : null}
      </div>
    </>
  )
}
