import { getEnv } from '@/lib/env'
import { getEmulator } from '@/lib/payments/emulator'

export const runtime = 'nodejs'
export const dynamic = 'force-dynamic'

// The emulator's hosted checkout page and test controls, only when PAYMENTS=emulator.
async function serve(request: Request): Promise<Response> {
  if (getEnv().payments !== 'emulator') return new Response('Not found', { status: 404 })
  return getEmulator().handle(request)
}

export async function GET(request: Request): Promise<Response> {
  return serve(request)
}

export async function POST(request: Request): Promise<Response> {
  return serve(request)
}

export async function DELETE(request: Request): Promise<Response> {
  return serve(request)
}
