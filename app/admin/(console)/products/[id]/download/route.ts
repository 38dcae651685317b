import { backToProduct, productUploadStart, readForm } from '../../../../_components/upload-route'
import * as downloads from '@/lib/downloads'
import { InvalidInput, NotFound } from '@/lib/errors'

// A digital product's file (lib/downloads.ts): uploading one makes the product a download, or
// replaces its file. A route handler so the size limit is ours (server/start.ts lets its
// body through): an oversized file is drained and answered with a message on the form.
export const dynamic = 'force-dynamic'

export async function POST(request: Request, { params }: { params: Promise<{ id: string }> }) {
  const start = await productUploadStart(request, params)
  if (start instanceof Response) return start
  const { admin, id } = start
  const read = await readForm(request, downloads.MAX_FILE_BYTES)
  if ('refused' in read) return backToProduct(id, 'error', read.refused === 'too_large' ? `The file is too large: ${downloads.MAX_FILE_BYTES / 1024 / 1024} MB at most.` : 'The upload could not be read; choose the file again.')
  const { form } = read
  const file = form.get('file')
  if (!(file instanceof File) || file.size === 0) return backToProduct(id, 'error', 'Choose the file to sell.')
  try {
    await downloads.attach(admin, Number(id), { name: file.name, bytes: new Uint8Array(await file.arrayBuffer()) })
  } catch (err) {
    if (err instanceof InvalidInput || err instanceof NotFound) return backToProduct(id, 'error', err.message)
    throw err
  }
  return backToProduct(id, 'notice', `${file.name} is the product's download now: buyers get a link to it once they have paid.`)
}
