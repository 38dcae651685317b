import { backToProduct, productUploadStart, readForm } from '../../../../_components/upload-route'
import { InvalidInput, NotFound } from '@/lib/errors'
import * as productImages from '@/lib/product-images'

// Picture upload. A route handler rather than a server action so the size limit is ours:
// an oversized upload is drained and answered with a message on the form instead of a
// framework error page, and nothing larger than the limit is ever held in memory.
export const dynamic = 'force-dynamic'

export async function POST(request: Request, { params }: { params: Promise<{ id: string }> }) {
  const start = await productUploadStart(request, params)
  if (start instanceof Response) return start
  const { admin, id } = start
  const read = await readForm(request, productImages.MAX_UPLOAD_BYTES)
  if ('refused' in read) return backToProduct(id, 'error', read.refused === 'too_large' ? `The picture is too large: ${productImages.MAX_UPLOAD_BYTES / 1024 / 1024} MB at most.` : 'The upload could not be read; choose the picture again.')
  const { form } = read
  const file = form.get('image')
  if (!(file instanceof File) || file.size === 0) return backToProduct(id, 'error', 'Choose a picture to upload.')
  const alt = form.get('alt')
  try {
    await productImages.upload(admin, Number(id), { name: file.name, bytes: new Uint8Array(await file.arrayBuffer()) }, typeof alt === 'string' ? alt : '')
  } catch (err) {
    if (err instanceof InvalidInput || err instanceof NotFound) return backToProduct(id, 'error', err.message)
    throw err
  }
  return backToProduct(id, 'notice', 'Picture added. It shows on the storefront now.')
}
