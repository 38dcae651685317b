import * as health from '@/lib/platform/health'

export const runtime = 'nodejs'
export const dynamic = 'force-dynamic'

// The latest self-check, from memory (lib/platform/health.ts): 200 when healthy, 503 when not.
export async function GET(request: Request) {
  const { status, body } = await health.forRequest(request.headers)
  return Response.json(body, { status, headers: { 'Cache-Control': 'no-store' } })
}
