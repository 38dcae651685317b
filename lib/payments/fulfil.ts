import 'server-only'
import { write } from '@/db'
import * as orders from '@/lib/orders'
import * as stripe from './stripe'

/**
 * The one order path, used by the webhook, the success page and reconciliation alike: read
 * the session and its line items from Stripe (network, outside any transaction), then apply
 * them in one immediate transaction keyed by the session id.
 */
export async function fulfill(sessionId: string): Promise<orders.FulfillResult> {
  // An order's lines never change once recorded: only a session without one needs them read.
  const facts = await stripe.readCheckout(sessionId, { withLines: !orders.findBySession(sessionId) })
  return write((tx) => orders.applySession(tx, facts))
}
