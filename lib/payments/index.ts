import 'server-only'

// Payments: everything this store does with Stripe. Webhooks are verified and applied here,
// orders are fulfilled from Stripe's data here, and every API call lives in ./stripe, so no
// other module talks to Stripe or imports its SDK.

export { fulfill } from './fulfil'
export { keys } from './keys'
export { HANDLED_TYPES, WEBHOOK_TOLERANCE_SECONDS, handle, verify, type HandleResult, type Outcome } from './webhooks'
export {
  callsMade,
  closeCheckoutSession,
  completedCheckoutSessions,
  countCalls,
  createCheckoutSession,
  createCustomer,
  createPromotionCode,
  createRefund,
  deactivatePromotionCode,
  invalidRequestMessage,
  isIdempotencyConflict,
  listCoupons,
  listPromotionCodes,
  isLiveMode,
  retrieveEvent,
  serveInProcess,
  expireCheckoutSession,
  isUnknownObject,
  listEvents,
  readCheckout,
  type CheckoutSessionCreateParams,
  type CouponFacts,
  type NewPromotionCode,
  type PromotionCodeFacts,
  type Walked,
  type InProcessServer,
  type ListedSession,
  type StripeEvent,
} from './stripe'

