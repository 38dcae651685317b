import 'server-only'

// Orders: the order's one home. ./order holds its state and transitions (what Stripe's facts
// imply, applied forward only; shipping by the owner); ./intake is where Stripe's facts come
// in (a webhook event, or a session the store asks about); the rest are the order's other
// rooms, imported by path: ./list (the admin's list and export), ./timeline, ./refunds,
// ./shipping, ./notes, ./confirmations and ./events (the stripe_events log and its replay).
// Everything Stripe-side is lib/payments; the arrow points from here to there, never back.

export * from './order'
export { HANDLED_TYPES, applyEvent, syncSession } from './intake'
