import { InvalidSignature } from '@/lib/errors'
import * as failpoints from '@/lib/platform/failpoints'
import { log } from '@/lib/log'
import * as orders from '@/lib/orders'
import * as payments from '@/lib/payments'
import * as guard from '@/server/request-guard'

export const runtime = 'nodejs'
export const dynamic = 'force-dynamic'

// Raw body -> payments.verify (the event in the store's terms) -> orders.applyEvent. 2xx only after the effect has committed.
export async function POST(request: Request) {
  // Nothing is verified before the body is read, so an unsigned sender could make the server
  // hold any amount of memory: refuse a large Content-Length unread, and stop reading a
  // chunked body as soon as it passes the limit. Stripe's events are a few KB.
  const declared = guard.checkDeclaredLength(request.headers)
  if (declared) return Response.json({ error: declared.message }, { status: declared.status })
  let payload: string
  try {
    payload = new TextDecoder().decode(await guard.readLimited(request.body))
  } catch (err) {
    if (err instanceof guard.BodyTooLarge) return Response.json({ error: guard.tooLarge().message }, { status: 413 })
    return Response.json({ error: 'The request body could not be read.' }, { status: 400 })
  }
  let event
  try {
    event = payments.verify(payload, request.headers.get('stripe-signature'))
  } catch (err) {
    if (err instanceof InvalidSignature) return Response.json({ error: err.message }, { status: 400 })
    throw err
  }
  try {
    const result = await orders.applyEvent(event)
    failpoints.hit('webhook.after_commit')
    return Response.json({ received: true, ...result })
  } catch (err) {
    log.error('webhook: event failed; Stripe will retry', { eventId: event.id, type: event.type, err })
    return Response.json({ error: 'Event could not be applied; it will be retried.' }, { status: 500 })
  }
}
