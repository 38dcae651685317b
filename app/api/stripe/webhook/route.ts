import { InvalidSignature } from '@/lib/errors'
import * as failpoints from '@/lib/failpoints'
import { log } from '@/lib/log'
import * as payments from '@/lib/payments'

export const runtime = 'nodejs'
export const dynamic = 'force-dynamic'

// Raw body -> verify -> payments.handle(event). 2xx only after the effect has committed.
export async function POST(request: Request) {
  const payload = await request.text()
  let event
  try {
    event = payments.verify(payload, request.headers.get('stripe-signature'))
  } catch (err) {
    if (err instanceof InvalidSignature) return Response.json({ error: err.message }, { status: 400 })
    throw err
  }
  try {
    const result = await payments.handle(event)
    failpoints.hit('webhook.after_commit')
    return Response.json({ received: true, ...result })
  } catch (err) {
    log.error('webhook: event failed; Stripe will retry', { eventId: event.id, type: event.type, err })
    return Response.json({ error: 'Event could not be applied; it will be retried.' }, { status: 500 })
  }
}
