// The emulator's hosted checkout page and test controls, only when PAYMENTS=emulator.
export { serveRoute as GET, serveRoute as POST, serveRoute as DELETE } from '@/lib/payments/emulator'

export const runtime = 'nodejs'
export const dynamic = 'force-dynamic'
