import 'server-only'

// Payments: the Stripe gateway, and nothing else. Every API call, the credentials, the
// webhook signature check and the translation of Stripe's objects into the store's own facts
// (./facts) live here; no other module talks to Stripe or imports its SDK. It knows nothing
// of the domain: what an event or a session means for an order is lib/orders' business.

export type { CheckoutFacts, DisputeState, EventFacts } from './facts'
export { keys } from './keys'
export {
  checkoutSessionForPaymentIntent,
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
  readCharge,
  retrieveEvent,
  serveInProcess,
  expireCheckoutSession,
  isUnknownObject,
  listEvents,
  readCheckout,
  verify,
  type CouponFacts,
  type NewPromotionCode,
  type PromotionCodeFacts,
  type Walked,
} from './stripe'
