import { getEnv } from '@/lib/env'
import * as guard from '@/lib/request-guard'

// What an admin upload route (a route handler, so the size limit is its own) needs before it
// reads a body: proxy.ts does not see these routes, so they refuse a cross-site post
// themselves, and a body over the limit is drained and answered with a message.

/** What multipart framing adds to a file's bytes, at most. */
export const MULTIPART_OVERHEAD = 64 * 1024

export function crossSiteRefusal(request: Request): Response | null {
  const env = getEnv()
  const crossSite = guard.checkOrigin('POST', request.headers, env.isProduction ? new URL(env.appUrl).origin : null)
  return crossSite ? new Response(`${crossSite.message}\n`, { status: crossSite.status, headers: { 'Content-Type': 'text/plain; charset=utf-8' } }) : null
}

/** Whether the announced body is missing or larger than a file of `maxBytes` would make. */
export function isOversized(request: Request, maxBytes: number): boolean {
  const length = Number(request.headers.get('content-length'))
  return !Number.isFinite(length) || length <= 0 || length > maxBytes + MULTIPART_OVERHEAD
}

export async function drain(body: ReadableStream<Uint8Array> | null): Promise<void> {
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
