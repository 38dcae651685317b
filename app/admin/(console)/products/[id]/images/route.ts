import * as adminAuth from '@/lib/admin-auth'
import { getEnv } from '@/lib/env'
import { InvalidInput, NotFound } from '@/lib/errors'
import * as flash from '@/lib/flash'
import * as productImages from '@/lib/product-images'
import * as guard from '@/server/request-guard'

// Picture upload. A route handler rather than a server action so the size limit is ours:
// an oversized upload is drained and answered with a message on the form instead of a
// framework error page, and nothing larger than the limit is ever held in memory.
export const dynamic = 'force-dynamic'

const MULTIPART_OVERHEAD = 64 * 1024

function back(productId: string, kind: 'error' | 'notice', message: string): Response {
  return new Response(null, { status: 303, headers: { Location: flash.href(`/admin/products/${productId}`, kind, message), 'Cache-Control': 'no-store' } })
}

async function drain(body: ReadableStream<Uint8Array> | null): Promise<void> {
  if (!body) return
  const reader = body.getReader()
  for (;;) if ((await reader.read()).done) return
}

export async function POST(request: Request, { params }: { params: Promise<{ id: string }> }) {
  // proxy.ts does not see this route (its body is larger than the proxy's copy): refuse a
  // cross-site post here, as the proxy does everywhere else.
  const env = getEnv()
  const crossSite = guard.checkOrigin('POST', request.headers, env.isProduction ? new URL(env.appUrl).origin : null)
  if (crossSite) return new Response(`${crossSite.message}\n`, { status: crossSite.status, headers: { 'Content-Type': 'text/plain; charset=utf-8' } })
  const admin = await adminAuth.requireAdmin()
  const { id } = await params
  if (!/^\d{1,10}$/.test(id)) return new Response('Not found', { status: 404 })
  const length = Number(request.headers.get('content-length'))
  if (!Number.isFinite(length) || length <= 0 || length > productImages.MAX_UPLOAD_BYTES + MULTIPART_OVERHEAD) {
    await drain(request.body)
    return back(id, 'error', `The picture is too large: ${productImages.MAX_UPLOAD_BYTES / 1024 / 1024} MB at most.`)
  }
  let form: FormData
  try {
    form = await request.formData()
  } catch {
    return back(id, 'error', 'The upload could not be read; choose the picture again.')
  }
  const file = form.get('image')
  if (!(file instanceof File) || file.size === 0) return back(id, 'error', 'Choose a picture to upload.')
  const alt = form.get('alt')
  try {
    await productImages.upload(admin, Number(id), { name: file.name, bytes: new Uint8Array(await file.arrayBuffer()) }, typeof alt === 'string' ? alt : '')
  } catch (err) {
    if (err instanceof InvalidInput || err instanceof NotFound) return back(id, 'error', err.message)
    throw err
  }
  return back(id, 'notice', 'Picture added. It shows on the storefront now.')
}
