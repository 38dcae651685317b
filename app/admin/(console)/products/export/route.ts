import { csvResponse } from '../../../_components/csv-response'
import * as adminAuth from '@/lib/admin-auth'
import * as catalogCsv from '@/lib/catalog-csv'
import * as staff from '@/lib/staff'

// The catalog as CSV, one row per variant: what /admin/import reads back.
export const dynamic = 'force-dynamic'

export async function GET() {
  const admin = await adminAuth.requireAdmin()
  const refused = staff.refusal(admin, 'products')
  if (refused) return refused
  return csvResponse(catalogCsv.exportCsv(), 'products')
}
