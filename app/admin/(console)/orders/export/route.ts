import * as adminAuth from '@/lib/admin-auth'
import * as orderList from '@/lib/order-list'

// The filtered orders as CSV, streamed: each chunk is pulled from SQLite only when the
// client is ready for it, so the export never holds every order in memory.
export const dynamic = 'force-dynamic'

export async function GET(request: Request) {
  await adminAuth.requireAdmin()
  const filters = orderList.parseFilters(Object.fromEntries(new URL(request.url).searchParams))
  const lines = orderList.exportCsv(filters)
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
      'Content-Disposition': `attachment; filename="orders-${stamp}.csv"`,
      'Cache-Control': 'private, no-store',
    },
  })
}
