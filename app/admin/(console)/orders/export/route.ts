import { csvResponse } from '../../../_components/csv-response'
import * as adminAuth from '@/lib/admin-auth'
import * as orderList from '@/lib/orders/list'

// The filtered orders as CSV.
export const dynamic = 'force-dynamic'

export async function GET(request: Request) {
  await adminAuth.requireAdmin()
  const filters = orderList.parseFilters(Object.fromEntries(new URL(request.url).searchParams))
  return csvResponse(orderList.exportCsv(filters), 'orders')
}
