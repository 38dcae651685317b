import * as catalog from '@/lib/catalog'

export const runtime = 'nodejs'
export const dynamic = 'force-dynamic'

export function GET() {
  return Response.json({ products: catalog.listForApi() }, { headers: { 'Cache-Control': 'no-store' } })
}
