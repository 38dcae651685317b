import { sql } from 'drizzle-orm'
import { blob, check, index, integer, primaryKey, sqliteTable, text, uniqueIndex } from 'drizzle-orm/sqlite-core'

// The whole domain, from the start. Times are integer milliseconds since the epoch (UTC);
// money is integer minor units in columns named *_cents. Ids are rowid aliases, never
// AUTOINCREMENT (it costs a table lookup per insert and buys nothing here).
// Table names are a contract: operational tooling reads `orders` and `stripe_events`.

const now = sql`(CAST(unixepoch('subsec') * 1000 AS INTEGER))`

export const products = sqliteTable(
  'products',
  {
    id: integer('id').primaryKey(),
    slug: text('slug').notNull().unique(),
    title: text('title').notNull(),
    description: text('description').notNull().default(''),
    // active: on sale; draft: hidden; archived: hidden, kept for old orders
    status: text('status', { enum: ['active', 'draft', 'archived'] }).notNull().default('active'),
    isFeatured: integer('is_featured', { mode: 'boolean' }).notNull().default(false),
    // Stripe Tax's product tax code (txcd_…); null: the configured default (STRIPE_TAX_CODE)
    taxCode: text('tax_code'),
    createdAt: integer('created_at').notNull().default(now),
    updatedAt: integer('updated_at').notNull().default(now),
  },
  (t) => [index('products_status_created_idx').on(t.status, t.createdAt)],
)

export type VariantOptions = Record<string, string>

export const variants = sqliteTable(
  'variants',
  {
    id: integer('id').primaryKey(),
    productId: integer('product_id')
      .notNull()
      .references(() => products.id, { onDelete: 'cascade' }),
    sku: text('sku').notNull().unique(),
    title: text('title').notNull(),
    priceCents: integer('price_cents').notNull(),
    currency: text('currency').notNull().default('usd'),
    stock: integer('stock').notNull().default(0),
    // {"Size":"M","Colour":"Navy"}
    options: text('options', { mode: 'json' }).$type<VariantOptions>().notNull().default({}),
    imageId: integer('image_id'),
    position: integer('position').notNull().default(0),
    createdAt: integer('created_at').notNull().default(now),
    updatedAt: integer('updated_at').notNull().default(now),
  },
  (t) => [
    index('variants_product_idx').on(t.productId, t.position),
    check('variants_stock_nonnegative', sql`${t.stock} >= 0`),
    check('variants_price_nonnegative', sql`${t.priceCents} >= 0`),
  ],
)

export const productImages = sqliteTable(
  'product_images',
  {
    id: integer('id').primaryKey(),
    productId: integer('product_id')
      .notNull()
      .references(() => products.id, { onDelete: 'cascade' }),
    // relative to STORAGE_DIR/uploads
    path: text('path').notNull(),
    alt: text('alt').notNull().default(''),
    width: integer('width').notNull().default(800),
    height: integer('height').notNull().default(800),
    position: integer('position').notNull().default(0),
  },
  (t) => [index('product_images_product_idx').on(t.productId, t.position)],
)

export const collections = sqliteTable('collections', {
  id: integer('id').primaryKey(),
  slug: text('slug').notNull().unique(),
  title: text('title').notNull(),
  description: text('description').notNull().default(''),
  isFeatured: integer('is_featured', { mode: 'boolean' }).notNull().default(false),
  position: integer('position').notNull().default(0),
  createdAt: integer('created_at').notNull().default(now),
  updatedAt: integer('updated_at').notNull().default(now),
})

export const productCollections = sqliteTable(
  'product_collections',
  {
    productId: integer('product_id')
      .notNull()
      .references(() => products.id, { onDelete: 'cascade' }),
    collectionId: integer('collection_id')
      .notNull()
      .references(() => collections.id, { onDelete: 'cascade' }),
    position: integer('position').notNull().default(0),
  },
  (t) => [primaryKey({ columns: [t.productId, t.collectionId] }), index('product_collections_collection_idx').on(t.collectionId)],
)

export const carts = sqliteTable(
  'carts',
  {
    // a random 32-byte token, also the httpOnly cookie's value
    id: text('id').primaryKey(),
    status: text('status', { enum: ['open', 'checking_out', 'converted'] }).notNull().default('open'),
    // bumped on every change; part of the checkout idempotency key
    version: integer('version').notNull().default(0),
    createdAt: integer('created_at').notNull().default(now),
    updatedAt: integer('updated_at').notNull().default(now),
    convertedAt: integer('converted_at'),
  },
  (t) => [index('carts_updated_idx').on(t.updatedAt)],
)

export const cartLines = sqliteTable(
  'cart_lines',
  {
    id: integer('id').primaryKey(),
    cartId: text('cart_id')
      .notNull()
      .references(() => carts.id, { onDelete: 'cascade' }),
    variantId: integer('variant_id')
      .notNull()
      .references(() => variants.id, { onDelete: 'cascade' }),
    quantity: integer('quantity').notNull(),
    addedAt: integer('added_at').notNull().default(now),
  },
  (t) => [uniqueIndex('cart_lines_cart_variant_uq').on(t.cartId, t.variantId), check('cart_lines_quantity_positive', sql`${t.quantity} > 0`)],
)

export const stockHolds = sqliteTable(
  'stock_holds',
  {
    id: integer('id').primaryKey(),
    variantId: integer('variant_id')
      .notNull()
      .references(() => variants.id, { onDelete: 'cascade' }),
    cartId: text('cart_id').references(() => carts.id, { onDelete: 'set null' }),
    quantity: integer('quantity').notNull(),
    stripeCheckoutSessionId: text('stripe_checkout_session_id'),
    // who placed it (a hash of the client address; null when unknown or placed before it was
    // kept): one visitor's holds across carts are bounded by it (inventory.placeHolds)
    clientKey: text('client_key'),
    // active: reserves stock; converted: became a stock decrement; released: gave it back
    status: text('status', { enum: ['active', 'converted', 'released'] }).notNull().default('active'),
    expiresAt: integer('expires_at').notNull(),
    createdAt: integer('created_at').notNull().default(now),
  },
  (t) => [
    index('stock_holds_variant_active_idx').on(t.variantId, t.status, t.expiresAt),
    index('stock_holds_session_idx').on(t.stripeCheckoutSessionId),
    index('stock_holds_cart_idx').on(t.cartId, t.status),
    index('stock_holds_client_idx').on(t.clientKey, t.variantId, t.status),
    check('stock_holds_quantity_positive', sql`${t.quantity} > 0`),
  ],
)

export const ORDER_STATUSES = ['awaiting_payment', 'paid', 'payment_failed', 'fulfilled', 'partially_refunded', 'refunded', 'canceled'] as const
export type OrderStatus = (typeof ORDER_STATUSES)[number]

export type ShippingAddress = {
  name: string | null
  line1: string | null
  line2: string | null
  city: string | null
  state: string | null
  postalCode: string | null
  country: string | null
}

export const orders = sqliteTable(
  'orders',
  {
    id: integer('id').primaryKey(),
    // the idempotency key of fulfilment: one Checkout Session, one order
    stripeCheckoutSessionId: text('stripe_checkout_session_id').notNull().unique(),
    stripePaymentIntentId: text('stripe_payment_intent_id'),
    // unguessable, for the shopper's /orders/<token> link
    publicToken: text('public_token').notNull().unique(),
    status: text('status', { enum: ORDER_STATUSES }).notNull(),
    isOversold: integer('is_oversold', { mode: 'boolean' }).notNull().default(false),
    isDisputed: integer('is_disputed', { mode: 'boolean' }).notNull().default(false),
    // the payment's dispute as Stripe last said: null (none), open, won or lost
    disputeStatus: text('dispute_status', { enum: ['open', 'won', 'lost'] }),
    // what Stripe charged (amount_total); refunds never subtract from it
    totalCents: integer('total_cents').notNull(),
    subtotalCents: integer('subtotal_cents').notNull().default(0),
    shippingCents: integer('shipping_cents').notNull().default(0),
    taxCents: integer('tax_cents').notNull().default(0),
    // Stripe's total_details.amount_discount, and the promotion codes the shopper entered
    discountCents: integer('discount_cents').notNull().default(0),
    discountCodes: text('discount_codes', { mode: 'json' }).$type<string[]>().notNull().default([]),
    // the tax was included in the prices (Stripe Tax, inclusive behaviour) rather than added
    isTaxInclusive: integer('is_tax_inclusive', { mode: 'boolean' }).notNull().default(false),
    refundedCents: integer('refunded_cents').notNull().default(0),
    currency: text('currency').notNull(),
    email: text('email'),
    customerName: text('customer_name'),
    shippingAddress: text('shipping_address', { mode: 'json' }).$type<ShippingAddress | null>(),
    shippingRateName: text('shipping_rate_name'),
    // how the shopper paid, in words for receipts: "Visa ending 4242"
    paymentMethod: text('payment_method'),
    cartId: text('cart_id'),
    paidAt: integer('paid_at'),
    // when the order's units left the shelf; set once, so stock is taken at most once
    stockTakenAt: integer('stock_taken_at'),
    fulfilledAt: integer('fulfilled_at'),
    canceledAt: integer('canceled_at'),
    // set when the owner marks the order shipped (admin)
    carrier: text('carrier'),
    trackingNumber: text('tracking_number'),
    createdAt: integer('created_at').notNull().default(now),
    updatedAt: integer('updated_at').notNull().default(now),
  },
  (t) => [
    index('orders_created_idx').on(t.createdAt),
    index('orders_status_idx').on(t.status, t.createdAt),
    index('orders_payment_intent_idx').on(t.stripePaymentIntentId),
    // a shopper's account lists every order placed with its address, whatever its case
    index('orders_email_idx').on(sql`lower(${t.email})`, t.createdAt),
    check('orders_total_nonnegative', sql`${t.totalCents} >= 0`),
  ],
)

export const orderLines = sqliteTable(
  'order_lines',
  {
    id: integer('id').primaryKey(),
    orderId: integer('order_id')
      .notNull()
      .references(() => orders.id, { onDelete: 'cascade' }),
    // null when the variant was deleted or Stripe's line had no variant_id
    variantId: integer('variant_id').references(() => variants.id, { onDelete: 'set null' }),
    stripeLineItemId: text('stripe_line_item_id'),
    sku: text('sku'),
    title: text('title').notNull(),
    quantity: integer('quantity').notNull(),
    unitAmountCents: integer('unit_amount_cents').notNull(),
    totalCents: integer('total_cents').notNull(),
    // Stripe's amount_subtotal (before discount and tax; null on lines recorded before it was
    // kept), amount_discount and amount_tax of the line item
    subtotalCents: integer('subtotal_cents'),
    discountCents: integer('discount_cents').notNull().default(0),
    taxCents: integer('tax_cents').notNull().default(0),
    restockedQuantity: integer('restocked_quantity').notNull().default(0),
  },
  (t) => [index('order_lines_order_idx').on(t.orderId), uniqueIndex('order_lines_stripe_line_uq').on(t.orderId, t.stripeLineItemId)],
)

// A digital product's file (docs/decisions/034-digital-products.md): a product with a row here
// is a download. The bytes live under STORAGE_DIR/downloads/<storage_key>, a random name; the
// name the owner uploaded is only shown back and sent as the download's file name.
export const productFiles = sqliteTable('product_files', {
  productId: integer('product_id')
    .primaryKey()
    .references(() => products.id, { onDelete: 'cascade' }),
  storageKey: text('storage_key').notNull().unique(),
  fileName: text('file_name').notNull(),
  contentType: text('content_type').notNull(),
  sizeBytes: integer('size_bytes').notNull(),
  updatedAt: integer('updated_at').notNull().default(now),
})

// A paid order line's right to download its product's file: one per line (UNIQUE), made in
// the transaction that finds the order paid. The link's token is never stored, only its hash.
export const downloadGrants = sqliteTable(
  'download_grants',
  {
    id: integer('id').primaryKey(),
    orderId: integer('order_id')
      .notNull()
      .references(() => orders.id, { onDelete: 'cascade' }),
    orderLineId: integer('order_line_id')
      .notNull()
      .unique()
      .references(() => orderLines.id, { onDelete: 'cascade' }),
    productId: integer('product_id').notNull(),
    tokenHash: text('token_hash').notNull().unique(),
    downloadLimit: integer('download_limit').notNull(),
    downloadCount: integer('download_count').notNull().default(0),
    expiresAt: integer('expires_at').notNull(),
    revokedAt: integer('revoked_at'),
    createdAt: integer('created_at').notNull().default(now),
  },
  (t) => [index('download_grants_order_idx').on(t.orderId), check('download_grants_count_within_limit', sql`${t.downloadCount} <= ${t.downloadLimit}`)],
)

// Refunds the owner sent from the admin, keyed by Stripe's re_… id: a submit whose refund is
// already here (a double click, a replay of the form) restocks and audits nothing again.
export const refunds = sqliteTable(
  'refunds',
  {
    id: integer('id').primaryKey(),
    stripeRefundId: text('stripe_refund_id').notNull().unique(),
    orderId: integer('order_id')
      .notNull()
      .references(() => orders.id, { onDelete: 'cascade' }),
    amountCents: integer('amount_cents').notNull(),
    // the nonce of the form that asked for it (part of the idempotency key sent to Stripe)
    formNonce: text('form_nonce'),
    adminUserId: integer('admin_user_id'),
    createdAt: integer('created_at').notNull().default(now),
  },
  (t) => [index('refunds_order_idx').on(t.orderId)],
)

export const stripeEvents = sqliteTable(
  'stripe_events',
  {
    // Stripe's evt_… id: a second delivery of the same event finds this row
    id: text('id').primaryKey(),
    type: text('type').notNull(),
    objectId: text('object_id'),
    stripeCreatedAt: integer('stripe_created_at'),
    receivedAt: integer('received_at').notNull().default(now),
    processedAt: integer('processed_at'),
    attempts: integer('attempts').notNull().default(0),
    error: text('error'),
    // applied; ignored (a type the store does not act on); foreign (not this store's payment)
    outcome: text('outcome', { enum: ['applied', 'ignored', 'foreign'] }),
  },
  (t) => [index('stripe_events_type_idx').on(t.type, t.receivedAt), index('stripe_events_unprocessed_idx').on(t.processedAt)],
)

export const jobs = sqliteTable(
  'jobs',
  {
    id: integer('id').primaryKey(),
    kind: text('kind').notNull(),
    payload: text('payload', { mode: 'json' }).$type<Record<string, unknown>>().notNull().default({}),
    status: text('status', { enum: ['queued', 'running', 'done', 'failed'] }).notNull().default('queued'),
    // e.g. "reconcile:2026-11-24T08:05" so a scheduled slot runs once across processes
    uniqueKey: text('unique_key').unique(),
    runAt: integer('run_at').notNull().default(now),
    attempts: integer('attempts').notNull().default(0),
    maxAttempts: integer('max_attempts').notNull().default(8),
    lockedAt: integer('locked_at'),
    lockedBy: text('locked_by'),
    // renewed every few seconds while the handler runs; a running job is reclaimed only when
    // this stops moving. Null on rows claimed by a release that predates heartbeats.
    heartbeatAt: integer('heartbeat_at'),
    lastError: text('last_error'),
    createdAt: integer('created_at').notNull().default(now),
    finishedAt: integer('finished_at'),
  },
  (t) => [index('jobs_claim_idx').on(t.status, t.runAt)],
)

// One row per named piece of work that must run in one process at a time (reconcile, the
// cleanups, backups). The holder renews expires_at while it works; once it stops renewing
// (it died, or hung), anyone may take the row over.
export const leases = sqliteTable('leases', {
  name: text('name').primaryKey(),
  holder: text('holder').notNull(),
  acquiredAt: integer('acquired_at').notNull(),
  expiresAt: integer('expires_at').notNull(),
})

export const adminUsers = sqliteTable('admin_users', {
  id: integer('id').primaryKey(),
  email: text('email').notNull().unique(),
  // scrypt: "scrypt$N$r$p$salt$hash"
  passwordHash: text('password_hash').notNull(),
  createdAt: integer('created_at').notNull().default(now),
  // owner: everything; staff: orders, shipping, stock and products (lib/staff.ts). Admins
  // created before roles existed are owners.
  role: text('role', { enum: ['owner', 'staff'] }).notNull().default('owner'),
  // set when the owner removes this person: no sign-in, no session, kept for the audit log
  removedAt: integer('removed_at'),
  // TOTP (lib/two-factor.ts): the base32 secret, set when enrolment starts; in force from
  // totp_enabled_at; totp_last_step is the 30-second step of the last code accepted, so a
  // code works once
  totpSecret: text('totp_secret'),
  totpEnabledAt: integer('totp_enabled_at'),
  totpLastStep: integer('totp_last_step'),
})

// Ten single-use codes for when the phone is lost; only their sha256 is kept.
export const adminRecoveryCodes = sqliteTable(
  'admin_recovery_codes',
  {
    id: integer('id').primaryKey(),
    userId: integer('user_id')
      .notNull()
      .references(() => adminUsers.id, { onDelete: 'cascade' }),
    codeHash: text('code_hash').notNull(),
    usedAt: integer('used_at'),
    createdAt: integer('created_at').notNull().default(now),
  },
  (t) => [index('admin_recovery_codes_user_idx').on(t.userId), uniqueIndex('admin_recovery_codes_hash_unique').on(t.userId, t.codeHash)],
)

// A sign-in waiting for its second factor: the password was right, the code is still due.
// Kept apart from admin_sessions so no release, old or new, can take it for a session.
export const adminChallenges = sqliteTable(
  'admin_challenges',
  {
    // sha256 of the cookie token
    id: text('id').primaryKey(),
    userId: integer('user_id')
      .notNull()
      .references(() => adminUsers.id, { onDelete: 'cascade' }),
    expiresAt: integer('expires_at').notNull(),
    // wrong codes entered against this challenge
    attempts: integer('attempts').notNull().default(0),
    createdAt: integer('created_at').notNull().default(now),
  },
  (t) => [index('admin_challenges_user_idx').on(t.userId)],
)

// An invitation to the admin, sent by email. Only the sha256 of the link's token is kept; a
// link works once (accepted_at set in the same statement that checks it) and until it expires.
export const adminInvites = sqliteTable(
  'admin_invites',
  {
    id: integer('id').primaryKey(),
    email: text('email').notNull(),
    role: text('role', { enum: ['owner', 'staff'] }).notNull().default('staff'),
    tokenHash: text('token_hash').notNull().unique(),
    invitedBy: integer('invited_by').references(() => adminUsers.id, { onDelete: 'set null' }),
    expiresAt: integer('expires_at').notNull(),
    acceptedAt: integer('accepted_at'),
    revokedAt: integer('revoked_at'),
    createdAt: integer('created_at').notNull().default(now),
  },
  (t) => [index('admin_invites_email_idx').on(t.email)],
)

// The owner's rules for staff accounts: one row (id 1), created on first write.
export const adminSettings = sqliteTable(
  'admin_settings',
  {
    id: integer('id').primaryKey(),
    // the largest refund a staff member may send, in the store's currency; 0: none at all
    staffRefundLimitCents: integer('staff_refund_limit_cents').notNull().default(0),
    // every admin must sign in with a second factor; one without is sent to enrol first
    requireTwoFactor: integer('require_two_factor', { mode: 'boolean' }).notNull().default(false),
    updatedAt: integer('updated_at').notNull().default(now),
  },
  (t) => [check('admin_settings_one_row', sql`${t.id} = 1`)],
)

export const adminSessions = sqliteTable(
  'admin_sessions',
  {
    // sha256 of the cookie token; the token itself is never stored
    id: text('id').primaryKey(),
    userId: integer('user_id')
      .notNull()
      .references(() => adminUsers.id, { onDelete: 'cascade' }),
    expiresAt: integer('expires_at').notNull(),
    createdAt: integer('created_at').notNull().default(now),
  },
  (t) => [index('admin_sessions_user_idx').on(t.userId)],
)

export const reconcileRuns = sqliteTable('reconcile_runs', {
  id: integer('id').primaryKey(),
  startedAt: integer('started_at').notNull(),
  finishedAt: integer('finished_at'),
  // created time (seconds) of the newest Stripe event seen; the next run starts before it
  eventsCursor: integer('events_cursor'),
  eventsSeen: integer('events_seen').notNull().default(0),
  sessionsSeen: integer('sessions_seen').notNull().default(0),
  ordersCreated: integer('orders_created').notNull().default(0),
  mismatches: text('mismatches', { mode: 'json' }).$type<{ sessionId: string; orderCents: number; stripeCents: number }[]>().notNull().default([]),
  error: text('error'),
  // Stripe API requests the run made (every page of every list counts)
  stripeCalls: integer('stripe_calls').notNull().default(0),
  // a list hit the run's page cap: the run stopped there and kept the cursor
  isCapped: integer('is_capped', { mode: 'boolean' }).notNull().default(false),
  // the run walked the completed sessions of the last 72 hours (runs in between replay events only)
  isSessionsWalked: integer('is_sessions_walked', { mode: 'boolean' }).notNull().default(false),
})

// /up proves the database is writable by upserting this row in an immediate transaction.
export const healthChecks = sqliteTable('health_checks', {
  id: text('id').primaryKey(),
  checkedAt: integer('checked_at').notNull(),
  pid: integer('pid').notNull(),
})

// Fixed-window counters behind lib/request/rate-limit.ts. In the database rather than in memory so
// the two releases serving during a blue-green deploy share one count. `key` is a hash of
// what is counted (a client address, a cart); rows past expires_at are deleted as new
// hits arrive.
export const rateLimits = sqliteTable(
  'rate_limits',
  {
    key: text('key').primaryKey(),
    hits: integer('hits').notNull(),
    expiresAt: integer('expires_at').notNull(),
  },
  (t) => [index('rate_limits_expires_idx').on(t.expiresAt)],
)

export const STOCK_REASONS = ['adjust', 'sale', 'refund_restock', 'initial', 'import'] as const
export type StockReason = (typeof STOCK_REASONS)[number]

// Every change of variants.stock, written in the same transaction as the change: who (an
// admin, or null for the shop itself), when, why and by how much. Stock is never overwritten
// silently.
export const stockLedger = sqliteTable(
  'stock_ledger',
  {
    id: integer('id').primaryKey(),
    variantId: integer('variant_id')
      .notNull()
      .references(() => variants.id, { onDelete: 'cascade' }),
    delta: integer('delta').notNull(),
    stockAfter: integer('stock_after').notNull(),
    reason: text('reason', { enum: STOCK_REASONS }).notNull(),
    note: text('note').notNull().default(''),
    adminUserId: integer('admin_user_id').references(() => adminUsers.id, { onDelete: 'set null' }),
    orderId: integer('order_id'),
    createdAt: integer('created_at').notNull().default(now),
  },
  (t) => [index('stock_ledger_variant_idx').on(t.variantId, t.createdAt)],
)

// What each admin did, with the state before and after, for the owner to look back on.
export const auditLog = sqliteTable(
  'audit_log',
  {
    id: integer('id').primaryKey(),
    adminUserId: integer('admin_user_id'),
    adminEmail: text('admin_email').notNull(),
    action: text('action').notNull(),
    subject: text('subject').notNull().default(''),
    before: text('before', { mode: 'json' }).$type<unknown>(),
    after: text('after', { mode: 'json' }).$type<unknown>(),
    createdAt: integer('created_at').notNull().default(now),
  },
  (t) => [index('audit_log_created_idx').on(t.createdAt)],
)

// A catalog CSV uploaded at /admin/import, kept between its preview and its apply (a day).
export const catalogImports = sqliteTable('catalog_imports', {
  id: integer('id').primaryKey(),
  adminUserId: integer('admin_user_id'),
  filename: text('filename').notNull().default(''),
  body: text('body').notNull(),
  appliedAt: integer('applied_at'),
  // what the last apply did: counts of products and variants created, changed, unchanged
  result: text('result', { mode: 'json' }).$type<unknown>(),
  createdAt: integer('created_at').notNull().default(now),
})

// Failed admin sign-ins, counted per client address and per email to slow password guessing.
export const adminLoginFailures = sqliteTable(
  'admin_login_failures',
  {
    id: integer('id').primaryKey(),
    key: text('key').notNull(),
    createdAt: integer('created_at').notNull().default(now),
  },
  (t) => [index('admin_login_failures_key_idx').on(t.key, t.createdAt)],
)

// What each committed stock or catalog change touched, written in the same transaction as
// the change, so that another process on this database (the other release of a deploy)
// refreshes only the cached pages that show it (lib/cache.ts polls it). A row with no
// product means "anything may have changed". Rows older than a few minutes are pruned.
export const catalogChanges = sqliteTable('catalog_changes', {
  id: integer('id').primaryKey({ autoIncrement: true }),
  productId: integer('product_id'),
  slug: text('slug'),
  // after the change: the product's sold-out badge, and how many of its variants are gone
  isSoldOut: integer('is_sold_out', { mode: 'boolean' }).notNull().default(false),
  soldOutVariants: integer('sold_out_variants').notNull().default(0),
  // which process wrote it, so a process skips its own (it heard them as they committed)
  origin: text('origin').notNull().default(''),
  createdAt: integer('created_at').notNull().default(now),
})

// Shoppers who signed in with an email link (lib/accounts). There is no password: the link
// proves the address, so every order placed with that address is the account's, guest
// orders from before the account existed included (orders are matched by email, never by a
// column on orders, so deleting an account leaves every order as it was).
export const accounts = sqliteTable('accounts', {
  id: integer('id').primaryKey(),
  // lower-cased and trimmed
  email: text('email').notNull().unique(),
  // the Stripe Customer Checkout prefills from; created once, on the first checkout
  stripeCustomerId: text('stripe_customer_id'),
  createdAt: integer('created_at').notNull().default(now),
  lastSignInAt: integer('last_sign_in_at'),
})

export const accountSessions = sqliteTable(
  'account_sessions',
  {
    // sha256 of the cookie token; the token itself is never stored
    id: text('id').primaryKey(),
    accountId: integer('account_id')
      .notNull()
      .references(() => accounts.id, { onDelete: 'cascade' }),
    expiresAt: integer('expires_at').notNull(),
    createdAt: integer('created_at').notNull().default(now),
  },
  (t) => [index('account_sessions_account_idx').on(t.accountId)],
)

// Sign-in links. Only the sha256 of the link's token is kept; used_at makes a link single-use.
export const signInTokens = sqliteTable(
  'sign_in_tokens',
  {
    id: text('id').primaryKey(),
    email: text('email').notNull(),
    expiresAt: integer('expires_at').notNull(),
    usedAt: integer('used_at'),
    createdAt: integer('created_at').notNull().default(now),
  },
  (t) => [index('sign_in_tokens_email_idx').on(t.email), index('sign_in_tokens_expires_idx').on(t.expiresAt)],
)

// "Email me when it's back": one row per request for a sold-out variant. notified_at is set,
// in the same transaction that queues the email job (keyed by the row), the first time the
// variant can be sold again; sent_at when the email is claimed for sending. A row therefore
// gives one email at most, however often stock comes and goes.
export const stockAlerts = sqliteTable(
  'stock_alerts',
  {
    id: integer('id').primaryKey(),
    variantId: integer('variant_id')
      .notNull()
      .references(() => variants.id, { onDelete: 'cascade' }),
    // lower-cased and trimmed
    email: text('email').notNull(),
    createdAt: integer('created_at').notNull().default(now),
    notifiedAt: integer('notified_at'),
    sentAt: integer('sent_at'),
    unsubscribedAt: integer('unsubscribed_at'),
    // sha256 of the unsubscribe link's token, made when the email is sent
    unsubscribeHash: text('unsubscribe_hash'),
  },
  (t) => [
    index('stock_alerts_waiting_idx').on(t.variantId, t.notifiedAt),
    index('stock_alerts_email_idx').on(t.email),
    uniqueIndex('stock_alerts_unsubscribe_uq').on(t.unsubscribeHash),
    // one waiting request per address and variant
    uniqueIndex('stock_alerts_waiting_uq').on(t.variantId, t.email).where(sql`notified_at IS NULL AND unsubscribed_at IS NULL`),
  ],
)

// Addresses that asked for no more emails of a kind (stock alerts, checkout reminders),
// through the unsubscribe link in one of them. Checked when each email is sent.
export const mailOptOuts = sqliteTable(
  'mail_opt_outs',
  {
    email: text('email').notNull(),
    kind: text('kind', { enum: ['stock_alert', 'checkout_reminder'] }).notNull(),
    createdAt: integer('created_at').notNull().default(now),
  },
  (t) => [primaryKey({ columns: [t.email, t.kind] })],
)

// Abandoned checkouts: a Checkout Session that expired with a recovery URL (Stripe's
// after_expiration[recovery]) and the shopper's consent to promotional email. One row per
// cart at most (UNIQUE cart_id), so a cart gets one reminder however many of its sessions
// expire and however often the expiry is seen; sent_at is set when the email is claimed.
export const checkoutReminders = sqliteTable(
  'checkout_reminders',
  {
    id: integer('id').primaryKey(),
    stripeCheckoutSessionId: text('stripe_checkout_session_id').notNull().unique(),
    cartId: text('cart_id').notNull().unique(),
    email: text('email').notNull(),
    recoveryUrl: text('recovery_url').notNull(),
    createdAt: integer('created_at').notNull().default(now),
    sentAt: integer('sent_at'),
    // why no email went out: the cart was bought, or the address unsubscribed
    skippedReason: text('skipped_reason', { enum: ['bought', 'opted_out', 'cart_gone'] }),
    // sha256 of the unsubscribe link's token, made when the email is sent
    unsubscribeHash: text('unsubscribe_hash').unique(),
  },
  (t) => [index('checkout_reminders_sent_idx').on(t.sentAt)],
)

// The owner's and staff's own notes on an order: never shown to the customer, in no email and
// not in the orders export. The author's email is copied so a removed member's notes still say who.
export const orderNotes = sqliteTable(
  'order_notes',
  {
    id: integer('id').primaryKey(),
    orderId: integer('order_id')
      .notNull()
      .references(() => orders.id),
    adminUserId: integer('admin_user_id'),
    adminEmail: text('admin_email').notNull(),
    body: text('body').notNull(),
    createdAt: integer('created_at').notNull().default(now),
  },
  (t) => [index('order_notes_order_idx').on(t.orderId, t.createdAt)],
)

// Uploaded files' bytes (docs/decisions/049-files-in-the-database.md): product pictures and
// their smaller copies under the path the uploads route serves them by (`products/<hash>.jpg`),
// digital products' files under `downloads/<storage_key>` (never an upload's path, which has
// a picture's extension). Every app server reaches them here; its STORAGE_DIR keeps a copy
// of those it has served. A key's bytes never change (pictures are named by their hash,
// downloads by a random key), so a copy is never stale.
export const storedFiles = sqliteTable('stored_files', {
  key: text('key').primaryKey(),
  contentType: text('content_type').notNull(),
  sizeBytes: integer('size_bytes').notNull(),
  // hex sha256 of the bytes, checked before a copy is written to a server's disk
  sha256: text('sha256').notNull(),
  bytes: blob('bytes', { mode: 'buffer' }).notNull(),
  createdAt: integer('created_at').notNull().default(now),
})
