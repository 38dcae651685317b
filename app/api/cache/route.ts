import * as cache from '@/lib/cache'

export const dynamic = 'force-dynamic'

// This process asking itself to expire Next's cache entries by tag: revalidateTag needs a
// request, and a change announced by the job worker or read from another process's writes
// has none (lib/cache.ts revalidate). Anyone without the process's token gets a 404.
export async function POST(request: Request) {
  const body: unknown = await request.json().catch(() => null)
  if (!cache.revalidateFromLoopback(request.headers.get(cache.revalidateTokenHeader), body)) {
    return new Response('Not found.\n', { status: 404, headers: { 'Content-Type': 'text/plain; charset=utf-8', 'Cache-Control': 'no-store' } })
  }
  return new Response(null, { status: 204, headers: { 'Cache-Control': 'no-store' } })
}
