import { crossSiteRefusal, readForm } from '../../../../_components/upload-route'
import * as adminAuth from '@/lib/admin-auth'
import * as downloads from '@/lib/downloads'
import { InvalidInput, NotFound } from '@/lib/errors'
import * as flash from '@/lib/flash'
import * as staff from '@/lib/staff'

// A digital product's file (lib/downloads.ts): uploading one makes the product a download, or
// replaces its file. A route handler so the size limit is ours (scripts/start.mjs lets its
// body through): an oversized file is drained and answered with a message on the form.
export const dynamic = 'force-dynamic'

function back(productId: string, kind: 'error' | 'notice', message: string): Response {
  return new Response(null, { status: 303, headers: { Location: flash.href(`/admin/products/${productId}`, kind, message), 'Cache-Control': 'no-store' } })
}

export async function POST(request: Request, { params }: { params: Promise<{ id: string }> }) {
  const crossSite = crossSiteRefusal(request)
  if (crossSite) return crossSite
  const admin = await adminAuth.requireAdmin()
  const refused = staff.refusal(admin, 'products')
  if (refused) return refused
  const { id } = await params
  if (!/^\d{1,10}$/.test(id)) return new Response('Not found', { status: 404 })
  const read = await readForm(request, downloads.MAX_FILE_BYTES)
  if ('refused' in read) return back(id, 'error', read.refused === 'too_large' ? `The file is too large: ${downloads.MAX_FILE_BYTES / 1024 / 1024} MB at most.` : 'The upload could not be read; choose the file again.')
  const { form } = read
  const file = form.get('file')
  if (!(file instanceof File) || file.size === 0) return back(id, 'error', 'Choose the file to sell.')
  try {
    downloads.attach(admin, Number(id), { name: file.name, bytes: new Uint8Array(await file.arrayBuffer()) })
  } catch (err) {
    if (err instanceof InvalidInput || err instanceof NotFound) return back(id, 'error', err.message)
    throw err
  }
  return back(id, 'notice', `${file.name} is the product's download now: buyers get a link to it once they have paid.`)
}
