import * as health from '@/lib/health'

export const runtime = 'nodejs'
export const dynamic = 'force-dynamic'

export function GET() {
  const result = health.check()
  return Response.json(result, {
    status: result.status === 'ok' ? 200 : 503,
    headers: { 'Cache-Control': 'no-store' },
  })
}
