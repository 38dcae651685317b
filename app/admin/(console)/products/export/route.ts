import * as adminAuth from '@/lib/admin-auth'
import * as catalogCsv from '@/lib/catalog-csv'
import * as staff from '@/lib/staff'

// The catalog as CSV, one row per variant, streamed: what /admin/import reads back.
export const dynamic = 'force-dynamic'

export async function GET() {
  const admin = await adminAuth.requireAdmin()
  const refused = staff.refusal(admin, 'products')
  if (refused) return refused
  const lines = catalogCsv.exportCsv()
  const encoder = new TextEncoder()
  const body = new ReadableStream<Uint8Array>({
    pull(controller) {
      const next = lines.next()
      if (next.done) controller.close()
      else controller.enqueue(encoder.encode(next.value))
    },
    cancel() {
      lines.return(undefined)
    },
  })
  const stamp = new Date().toISOString().slice(0, 10)
  return new Response(body, {
    headers: {
      'Content-Type': 'text/csv; charset=utf-8',
      'Content-Disposition': `attachment; filename="products-${stamp}.csv"`,
      'Cache-Control': 'private, no-store',
    },
  })
}
