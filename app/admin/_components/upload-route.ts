import * as adminAuth from '@/lib/admin-auth'
import { getEnv } from '@/lib/env'
import * as flash from '@/lib/request/flash'
import * as guard from '@/server/request-guard'
import * as staff from '@/lib/staff'

// What an admin upload route (a route handler, so the size limit is its own) needs before it
// reads a body: proxy.ts does not see these routes, so they refuse a cross-site post
// themselves, and a body over the limit is drained and answered with a message.

/** What multipart framing adds to a file's bytes, at most. */
const MULTIPART_OVERHEAD = 64 * 1024

function crossSiteRefusal(request: Request): Response | null {
  const env = getEnv()
  const crossSite = guard.checkOrigin('POST', request.headers, env.isProduction ? new URL(env.appUrl).origin : null)
  return crossSite ? new Response(`${crossSite.message}\n`, { status: crossSite.status, headers: { 'Content-Type': 'text/plain; charset=utf-8' } }) : null
}

/** Whether the announced body is missing or larger than a file of `maxBytes` would make. */
function isOversized(request: Request, maxBytes: number): boolean {
  const length = Number(request.headers.get('content-length'))
  return !Number.isFinite(length) || length <= 0 || length > maxBytes + MULTIPART_OVERHEAD
}

async function drain(body: ReadableStream<Uint8Array> | null): Promise<void> {
  if (!body) return
  const reader = body.getReader()
  for (;;) if ((await reader.read()).done) return
}

/** The posted form, or why not: larger than a file of `maxBytes` (drained unread), or unreadable. */
export async function readForm(request: Request, maxBytes: number): Promise<{ form: FormData } | { refused: 'too_large' | 'unreadable' }> {
  if (isOversized(request, maxBytes)) {
    await drain(request.body)
    return { refused: 'too_large' }
  }
  try {
    return { form: await request.formData() }
  } catch {
    return { refused: 'unreadable' }
  }
}

/**
 * The checks before a product's upload (a picture, a digital product's file): from this site,
 * signed in, allowed to change products, and a product id that can be one. The admin and the
 * id, or the answer to send.
 */
export async function productUploadStart(request: Request, params: Promise<{ id: string }>): Promise<{ admin: adminAuth.Admin; id: string } | Response> {
  const crossSite = crossSiteRefusal(request)
  if (crossSite) return crossSite
  const admin = await adminAuth.requireAdmin()
  const refused = staff.refusal(admin, 'products')
  if (refused) return refused
  const { id } = await params
  if (!/^\d{1,10}$/.test(id)) return new Response('Not found', { status: 404 })
  return { admin, id }
}

/** Back to the product's page with a signed message. */
export function backToProduct(productId: string, kind: 'error' | 'notice', message: string): Response {
  return new Response(null, { status: 303, headers: { Location: flash.href(`/admin/products/${productId}`, kind, message), 'Cache-Control': 'no-store' } })
}
