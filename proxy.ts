import { NextResponse, type NextRequest } from 'next/server'
import { getEnv } from '@/lib/env'
import * as guard from '@/server/request-guard'

// Runs before Next routes a request: refuses plainly broken or cross-site requests with a
// 4xx (Next itself would answer several of them with a 500), and adds HSTS on HTTPS.

function refuse({ status, message }: guard.Refusal): Response {
  return new Response(`${message}\n`, { status, headers: { 'Content-Type': 'text/plain; charset=utf-8', 'Cache-Control': 'no-store' } })
}

export async function proxy(request: NextRequest) {
  const { method, headers } = request
  const env = getEnv()
  // In production the shop has one public origin; a dev server answers on any host name.
  const appOrigin = env.isProduction ? new URL(env.appUrl).origin : null
  const early =
    guard.checkMethod(method) ??
    guard.checkPath(request.nextUrl.pathname) ??
    guard.checkOrigin(method, headers, appOrigin) ??
    (method === 'GET' || method === 'HEAD' ? null : guard.checkDeclaredLength(headers))
  if (early) return refuse(early)

  if (method !== 'GET' && method !== 'HEAD' && request.body) {
    // Next hands the proxy a copy of the body (capped by proxyClientMaxBodySize, above this
    // limit), so counting it here also catches a chunked body with no Content-Length.
    let body: Uint8Array
    try {
      body = await guard.readLimited(request.body)
    } catch (err) {
      if (err instanceof guard.BodyTooLarge) return refuse(guard.tooLarge())
      return refuse({ status: 400, message: 'Bad request: the body could not be read.' })
    }
    if (guard.isPossibleAction(method, headers)) {
      const bad = await guard.checkActionBody(headers, body)
      if (bad) return refuse(bad)
    }
  }

  const response = NextResponse.next()
  const hsts = guard.hstsHeader(env.appUrl)
  if (hsts) response.headers.set('Strict-Transport-Security', hsts)
  return response
}

export const config = {
  // The webhook reads its own body with a cap before verifying it (a proxy would make Next
  // buffer a copy first); static files need none of this.
  // The admin's picture upload, a digital product's file and catalog import stream and cap
  // their own bodies (10 MB, 50 MB, 8 MB) and check their origin themselves: Next would hand
  // them only the first megabyte it buffered for the proxy.
  matcher: ['/((?!api/stripe/webhook|admin/products/\\d+/images$|admin/products/\\d+/download$|admin/import/upload$|_next/static|_next/image|favicon\\.ico).*)'],
}
