import 'server-only'

// Payments: everything this store does with Stripe. Webhooks are verified and applied here,
// orders are fulfilled from Stripe's data here, and every API call lives in ./stripe, so no
// other module talks to Stripe or imports its SDK.

export { fulfill } from './fulfil'
export { HANDLED_TYPES, WEBHOOK_TOLERANCE_SECONDS, handle, verify, type HandleResult } from './webhooks'
export {
  completedCheckoutSessionIds,
  createCheckoutSession,
  createRefund,
  isLiveMode,
  retrieveEvent,
  expireCheckoutSession,
  isUnknownObject,
  listEvents,
  type CheckoutSessionCreateParams,
  type StripeEvent,
} from './stripe'

