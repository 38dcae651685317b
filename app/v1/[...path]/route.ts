// The Stripe API, served by the built-in emulator when PAYMENTS=emulator.
export { serveBuiltIn as GET, serveBuiltIn as POST, serveBuiltIn as DELETE } from '@/emulator'

export const runtime = 'nodejs'
export const dynamic = 'force-dynamic'
