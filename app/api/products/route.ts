import * as catalog from '@/lib/catalog'

export const runtime = 'nodejs'
export const dynamic = 'force-dynamic'

export async function GET() {
  return Response.json({ products: await catalog.listForApi() }, { headers: { 'Cache-Control': 'no-store' } })
}
