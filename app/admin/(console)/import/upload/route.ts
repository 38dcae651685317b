import * as adminAuth from '@/lib/admin-auth'
import * as flash from '@/lib/request/flash'
import * as catalogCsv from '@/lib/catalog-csv'
import { getEnv } from '@/lib/env'
import { InvalidInput } from '@/lib/errors'
import * as guard from '@/server/request-guard'
import * as staff from '@/lib/staff'

// The import's upload. A route handler rather than a server action so the size limit is ours
// (a catalog of 10,000 variants passes the 1 MB that actions and proxy.ts allow): an
// oversized file is drained and answered with a message, never held in memory whole.
export const dynamic = 'force-dynamic'

const MULTIPART_OVERHEAD = 64 * 1024

function back(location: string): Response {
  return new Response(null, { status: 303, headers: { Location: location, 'Cache-Control': 'no-store' } })
}

const refusedWith = (message: string) => back(flash.href('/admin/import', 'error', message))

async function drain(body: ReadableStream<Uint8Array> | null): Promise<void> {
  if (!body) return
  const reader = body.getReader()
  for (;;) if ((await reader.read()).done) return
}

export async function POST(request: Request) {
  // proxy.ts does not see this route (its body may pass 1 MB): refuse a cross-site post here.
  const env = getEnv()
  const crossSite = guard.checkOrigin('POST', request.headers, env.isProduction ? new URL(env.appUrl).origin : null)
  if (crossSite) return new Response(`${crossSite.message}\n`, { status: crossSite.status, headers: { 'Content-Type': 'text/plain; charset=utf-8' } })
  const admin = await adminAuth.requireAdmin()
  const refused = staff.refusal(admin, 'products')
  if (refused) return refused
  const length = Number(request.headers.get('content-length'))
  if (!Number.isFinite(length) || length <= 0 || length > catalogCsv.MAX_UPLOAD_BYTES + MULTIPART_OVERHEAD) {
    await drain(request.body)
    return refusedWith(`Choose a CSV file of ${catalogCsv.MAX_UPLOAD_BYTES / 1024 / 1024} MB at most.`)
  }
  let form: FormData
  try {
    form = await request.formData()
  } catch {
    return refusedWith('The upload could not be read; choose the file again.')
  }
  const file = form.get('file')
  if (!(file instanceof File) || file.size === 0) return refusedWith('Choose the CSV file to import.')
  const text = new TextDecoder('utf-8', { fatal: false }).decode(await file.arrayBuffer())
  let id: number
  try {
    id = await catalogCsv.upload(admin, file.name, text)
  } catch (err) {
    if (err instanceof InvalidInput) return refusedWith(err.message)
    throw err
  }
  return back(`/admin/import/${id}`)
}
