import type Stripe from 'stripe'
import type { DeliveryInfo } from './deliveries'
import type { Emulator, ForeignSessionInput } from './emulator'
import { invalid } from './errors'
import { publicSession, type Address, type StoredSession } from './objects'

// The test controls: what a test (or the /emulator/test/* routes, see http.ts) may do that no
// Stripe client can: pay without a browser, dispute, move the clock, switch webhooks, flush
// deliveries. Each checks its arguments like the API does and calls the emulator's own verbs.

/** Test controls, also served at /emulator/test/* (see http.ts). */
export class EmulatorControl {
  constructor(private readonly emulator: Emulator) {}

  /** Pays a session without a browser. Throws ApiError 402 for a declined card. */
  pay(args: {
    session: string
    card?: string
    email?: string
    name?: string
    address?: Partial<Address>
    asyncOutcome?: 'succeeded' | 'failed'
    shipping_rate_index?: number
    /** Entered on the page before paying (the session must allow promotion codes); a refusal is a 400 with the page's message. */
    promotion_code?: string
  }): Stripe.Checkout.Session {
    if (!args || typeof args.session !== 'string') throw invalid('Missing required param: session.', 'session')
    if (args.promotion_code !== undefined) {
      const refusal = this.emulator.applyPromotionCode(args.session, args.promotion_code, args.email ?? null)
      if (refusal) throw invalid(refusal.message, 'promotion_code', refusal.reason === 'expired' ? 'coupon_expired' : 'promotion_code_invalid')
    }
    const existing = this.emulator.get<StoredSession>(args.session, 'checkout.session')
    const country = existing?.shipping_address_collection?.allowed_countries[0] ?? 'US'
    const session = this.emulator.paySession(args.session, {
      card: args.card ?? '4242424242424242',
      email: args.email ?? existing?.customer_email ?? existing?.customer_details?.email ?? 'customer@example.com',
      name: args.name ?? 'Test Customer',
      address: args.address ?? { line1: '1 Test Street', city: 'Springfield', postal_code: '12345', country },
      asyncOutcome: args.asyncOutcome ?? null,
      shippingRateIndex: args.shipping_rate_index ?? null,
    })
    return publicSession(session)
  }

  dispute(args: { charge?: string; payment_intent?: string; amount?: number; reason?: string }): Stripe.Dispute {
    return this.emulator.dispute({ charge: args.charge, paymentIntent: args.payment_intent, amount: args.amount, reason: args.reason })
  }

  /** The card network decides: the dispute is won or lost. */
  closeDispute(args: { dispute: string; outcome: 'won' | 'lost' }): Stripe.Dispute {
    if (!args || typeof args.dispute !== 'string') throw invalid('Missing required param: dispute.', 'dispute')
    if (args.outcome !== 'won' && args.outcome !== 'lost') throw invalid('Invalid outcome: must be "won" or "lost"', 'outcome')
    return this.emulator.closeDispute(args.dispute, args.outcome)
  }

  foreignSession(args: ForeignSessionInput): Stripe.Checkout.Session {
    return publicSession(this.emulator.foreignSession(args))
  }

  setWebhooks(args: { webhooks?: 'on' | 'off'; url?: string | null }): { webhooks: 'on' | 'off'; url: string | null } {
    if (args.webhooks !== undefined) {
      if (args.webhooks !== 'on' && args.webhooks !== 'off') throw invalid('Invalid webhooks: must be "on" or "off"', 'webhooks')
      this.emulator.setWebhooks(args.webhooks === 'on')
    }
    if (args.url !== undefined) {
      if (args.url !== null) {
        try {
          new URL(args.url)
        } catch {
          throw invalid(`Not a valid URL: ${args.url}`, 'url')
        }
      }
      this.emulator.setWebhookUrl(args.url)
    }
    return { webhooks: this.emulator.areWebhooksOn() ? 'on' : 'off', url: this.emulator.webhookUrl() }
  }

  deliveries(args: { event?: string; status?: string } = {}): DeliveryInfo[] {
    return this.emulator.webhooks.list({ eventId: args.event, status: args.status })
  }

  flushWebhooks(args: { force?: boolean } = {}): Promise<number> {
    return this.emulator.webhooks.flush(args)
  }

  advanceClock(args: { seconds: number }): { now: number } {
    if (!Number.isFinite(args.seconds) || args.seconds < 0) throw invalid('Invalid seconds: must be a non-negative number', 'seconds')
    return { now: this.emulator.advanceClock(args.seconds) }
  }

  /** Runs the expiry sweep and any due settlements now. */
  sweep(): { expired: number; settled: number } {
    return { expired: this.emulator.sweepExpired(), settled: this.emulator.runDueTasks() }
  }
}
