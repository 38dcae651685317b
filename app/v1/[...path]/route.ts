// The Stripe API, served by the built-in emulator when PAYMENTS=emulator.
export { serveRoute as GET, serveRoute as POST, serveRoute as DELETE } from '@/lib/payments/emulator'

export const runtime = 'nodejs'
export const dynamic = 'force-dynamic'
