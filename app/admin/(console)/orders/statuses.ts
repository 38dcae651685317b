export const ORDER_STATUS_LIST = ['awaiting_payment', 'paid', 'payment_failed', 'fulfilled', 'partially_refunded', 'refunded', 'canceled'] as const
