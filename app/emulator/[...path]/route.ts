// The emulator's hosted checkout page and test controls, only when PAYMENTS=emulator.
export { serveBuiltIn as GET, serveBuiltIn as POST, serveBuiltIn as DELETE } from '@/emulator'

export const runtime = 'nodejs'
export const dynamic = 'force-dynamic'
