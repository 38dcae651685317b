import { sql } from 'drizzle-orm'
import { bigint, check, customType, index, integer, json, pgTable, primaryKey, text, uniqueIndex, type AnyPgColumn } from 'drizzle-orm/pg-core'
import { ORDER_STATUSES, STOCK_REASONS, type ShippingAddress, type VariantOptions } from '../schema'

// The same store as db/schema.ts, for PostgreSQL (docs/decisions/039-postgresql-engine.md).
// Same table and column names, keys and constraints: tests/unit/schema-parity.test.ts proves
// it. Types are chosen so a row copied from SQLite keeps its exact values:
// - times stay integer milliseconds since the epoch (UTC) and money integer minor units, both
//   bigint: SQLite's integers are 64-bit, and milliseconds passed 2^31 in 1970;
// - ids are bigint identities generated "by default", so copied rows keep their ids (a copy
//   must then move each identity's sequence past the largest id it wrote);
// - flags stay the integers 0 and 1 (see `flag`);
// - JSON stays `json`, which keeps the text exactly as written (jsonb would reorder keys and
//   drop whitespace, and a checksum over the copy would no longer match);
// - enums stay text checked by TypeScript only, as on SQLite: a new status is then a release,
//   not an ALTER TYPE both releases of a deploy must agree on.

/**
 * SQLite's `CAST(unixepoch('subsec') * 1000 AS INTEGER)`: the statement's own time, in whole
 * milliseconds (truncated, as CAST does). statement_timestamp(), not now(): now() is the
 * transaction's start, which would date every row of a long transaction to its first moment.
 */
const now = sql`(floor(extract(epoch from statement_timestamp()) * 1000))::bigint`

/** Integer milliseconds since the epoch. */
const ms = (name: string) => bigint(name, { mode: 'number' })
/** Integer minor units (cents). */
const cents = (name: string) => bigint(name, { mode: 'number' })
/** A row id or a reference to one. */
const ref = (name: string) => bigint(name, { mode: 'number' })
/** A rowid-alias id on SQLite: an identity here, by default so a copied row keeps its id. */
const id = () => ref('id').primaryKey().generatedByDefaultAsIdentity()

/**
 * A boolean stored as SQLite stores it, the integer 0 or 1. The domain's raw SQL reads these
 * columns as numbers (`is_featured AS isFeatured` then `=== 1`, `WHERE is_oversold = 1`), so
 * a PostgreSQL boolean would change what those reads return; drizzle's queries still see
 * true and false.
 */
const flag = customType<{ data: boolean; driverData: number }>({
  dataType: () => 'integer',
  toDriver: (value) => (value ? 1 : 0),
  fromDriver: (value) => Number(value) === 1,
})
const FALSE = sql`0`

/** SQLite's blob: node-postgres sends and returns bytea as a Buffer. */
const bytea = customType<{ data: Buffer; driverData: Buffer }>({ dataType: () => 'bytea' })

export const products = pgTable(
  'products',
  {
    id: id(),
    slug: text('slug').notNull().unique(),
    title: text('title').notNull(),
    description: text('description').notNull().default(''),
    status: text('status', { enum: ['active', 'draft', 'archived'] }).notNull().default('active'),
    isFeatured: flag('is_featured').notNull().default(FALSE),
    taxCode: text('tax_code'),
    createdAt: ms('created_at').notNull().default(now),
    updatedAt: ms('updated_at').notNull().default(now),
  },
  (t) => [index('products_status_created_idx').on(t.status, t.createdAt)],
)

export const variants = pgTable(
  'variants',
  {
    id: id(),
    productId: ref('product_id')
      .notNull()
      .references(() => products.id, { onDelete: 'cascade' }),
    sku: text('sku').notNull().unique(),
    title: text('title').notNull(),
    priceCents: cents('price_cents').notNull(),
    currency: text('currency').notNull().default('usd'),
    stock: integer('stock').notNull().default(0),
    options: json('options').$type<VariantOptions>().notNull().default({}),
    imageId: ref('image_id'),
    position: integer('position').notNull().default(0),
    createdAt: ms('created_at').notNull().default(now),
    updatedAt: ms('updated_at').notNull().default(now),
  },
  (t) => [
    index('variants_product_idx').on(t.productId, t.position),
    check('variants_stock_nonnegative', sql`${t.stock} >= 0`),
    check('variants_price_nonnegative', sql`${t.priceCents} >= 0`),
  ],
)

export const productImages = pgTable(
  'product_images',
  {
    id: id(),
    productId: ref('product_id')
      .notNull()
      .references(() => products.id, { onDelete: 'cascade' }),
    path: text('path').notNull(),
    alt: text('alt').notNull().default(''),
    width: integer('width').notNull().default(800),
    height: integer('height').notNull().default(800),
    position: integer('position').notNull().default(0),
  },
  (t) => [index('product_images_product_idx').on(t.productId, t.position)],
)

export const collections = pgTable('collections', {
  id: id(),
  slug: text('slug').notNull().unique(),
  title: text('title').notNull(),
  description: text('description').notNull().default(''),
  isFeatured: flag('is_featured').notNull().default(FALSE),
  position: integer('position').notNull().default(0),
  createdAt: ms('created_at').notNull().default(now),
  updatedAt: ms('updated_at').notNull().default(now),
})

export const productCollections = pgTable(
  'product_collections',
  {
    productId: ref('product_id')
      .notNull()
      .references(() => products.id, { onDelete: 'cascade' }),
    collectionId: ref('collection_id')
      .notNull()
      .references(() => collections.id, { onDelete: 'cascade' }),
    position: integer('position').notNull().default(0),
  },
  (t) => [primaryKey({ columns: [t.productId, t.collectionId] }), index('product_collections_collection_idx').on(t.collectionId)],
)

/**
 * The counterpart of SQLite's FTS5 table `product_search` (db/migrations/0001, a virtual table
 * drizzle's sqlite schema does not declare): one document per active product, kept in step by
 * triggers in the writer's own transaction (db/pg/migrations, the custom migration
 * add_search_triggers), searched through the GIN index with prefix queries (`word:*`).
 */
export const productSearch = pgTable(
  'product_search',
  {
    productId: ref('product_id')
      .primaryKey()
      .references(() => products.id, { onDelete: 'cascade' }),
    document: customType<{ data: string }>({ dataType: () => 'tsvector' })('document').notNull(),
  },
  (t) => [index('product_search_document_idx').using('gin', t.document)],
)

/** Tables of this schema that stand for something drizzle's sqlite schema does not declare. */
export const SEARCH_COUNTERPART = { sqlite: 'product_search (FTS5 virtual table)', pg: 'product_search' } as const

export const carts = pgTable(
  'carts',
  {
    id: text('id').primaryKey(),
    status: text('status', { enum: ['open', 'checking_out', 'converted'] }).notNull().default('open'),
    version: integer('version').notNull().default(0),
    createdAt: ms('created_at').notNull().default(now),
    updatedAt: ms('updated_at').notNull().default(now),
    convertedAt: ms('converted_at'),
  },
  (t) => [index('carts_updated_idx').on(t.updatedAt)],
)

export const cartLines = pgTable(
  'cart_lines',
  {
    id: id(),
    cartId: text('cart_id')
      .notNull()
      .references(() => carts.id, { onDelete: 'cascade' }),
    variantId: ref('variant_id')
      .notNull()
      .references(() => variants.id, { onDelete: 'cascade' }),
    quantity: integer('quantity').notNull(),
    addedAt: ms('added_at').notNull().default(now),
  },
  (t) => [uniqueIndex('cart_lines_cart_variant_uq').on(t.cartId, t.variantId), check('cart_lines_quantity_positive', sql`${t.quantity} > 0`)],
)

export const stockHolds = pgTable(
  'stock_holds',
  {
    id: id(),
    variantId: ref('variant_id')
      .notNull()
      .references(() => variants.id, { onDelete: 'cascade' }),
    cartId: text('cart_id').references(() => carts.id, { onDelete: 'set null' }),
    quantity: integer('quantity').notNull(),
    stripeCheckoutSessionId: text('stripe_checkout_session_id'),
    clientKey: text('client_key'),
    status: text('status', { enum: ['active', 'converted', 'released'] }).notNull().default('active'),
    expiresAt: ms('expires_at').notNull(),
    createdAt: ms('created_at').notNull().default(now),
  },
  (t) => [
    index('stock_holds_variant_active_idx').on(t.variantId, t.status, t.expiresAt),
    index('stock_holds_session_idx').on(t.stripeCheckoutSessionId),
    index('stock_holds_cart_idx').on(t.cartId, t.status),
    index('stock_holds_client_idx').on(t.clientKey, t.variantId, t.status),
    check('stock_holds_quantity_positive', sql`${t.quantity} > 0`),
  ],
)

export const orders = pgTable(
  'orders',
  {
    id: id(),
    stripeCheckoutSessionId: text('stripe_checkout_session_id').notNull().unique(),
    stripePaymentIntentId: text('stripe_payment_intent_id'),
    publicToken: text('public_token').notNull().unique(),
    status: text('status', { enum: ORDER_STATUSES }).notNull(),
    isOversold: flag('is_oversold').notNull().default(FALSE),
    isDisputed: flag('is_disputed').notNull().default(FALSE),
    disputeStatus: text('dispute_status', { enum: ['open', 'won', 'lost'] }),
    totalCents: cents('total_cents').notNull(),
    subtotalCents: cents('subtotal_cents').notNull().default(0),
    shippingCents: cents('shipping_cents').notNull().default(0),
    taxCents: cents('tax_cents').notNull().default(0),
    discountCents: cents('discount_cents').notNull().default(0),
    discountCodes: json('discount_codes').$type<string[]>().notNull().default([]),
    isTaxInclusive: flag('is_tax_inclusive').notNull().default(FALSE),
    refundedCents: cents('refunded_cents').notNull().default(0),
    currency: text('currency').notNull(),
    email: text('email'),
    customerName: text('customer_name'),
    shippingAddress: json('shipping_address').$type<ShippingAddress | null>(),
    shippingRateName: text('shipping_rate_name'),
    paymentMethod: text('payment_method'),
    cartId: text('cart_id'),
    paidAt: ms('paid_at'),
    stockTakenAt: ms('stock_taken_at'),
    fulfilledAt: ms('fulfilled_at'),
    canceledAt: ms('canceled_at'),
    carrier: text('carrier'),
    trackingNumber: text('tracking_number'),
    createdAt: ms('created_at').notNull().default(now),
    updatedAt: ms('updated_at').notNull().default(now),
  },
  (t) => [
    index('orders_created_idx').on(t.createdAt),
    index('orders_status_idx').on(t.status, t.createdAt),
    index('orders_payment_intent_idx').on(t.stripePaymentIntentId),
    index('orders_email_idx').on(sql`lower(${t.email})`, t.createdAt),
    check('orders_total_nonnegative', sql`${t.totalCents} >= 0`),
  ],
)

export const orderLines = pgTable(
  'order_lines',
  {
    id: id(),
    orderId: ref('order_id')
      .notNull()
      .references(() => orders.id, { onDelete: 'cascade' }),
    variantId: ref('variant_id').references(() => variants.id, { onDelete: 'set null' }),
    stripeLineItemId: text('stripe_line_item_id'),
    sku: text('sku'),
    title: text('title').notNull(),
    quantity: integer('quantity').notNull(),
    unitAmountCents: cents('unit_amount_cents').notNull(),
    totalCents: cents('total_cents').notNull(),
    subtotalCents: cents('subtotal_cents'),
    discountCents: cents('discount_cents').notNull().default(0),
    taxCents: cents('tax_cents').notNull().default(0),
    restockedQuantity: integer('restocked_quantity').notNull().default(0),
  },
  (t) => [index('order_lines_order_idx').on(t.orderId), uniqueIndex('order_lines_stripe_line_uq').on(t.orderId, t.stripeLineItemId)],
)

export const productFiles = pgTable('product_files', {
  productId: ref('product_id')
    .primaryKey()
    .references(() => products.id, { onDelete: 'cascade' }),
  storageKey: text('storage_key').notNull().unique(),
  fileName: text('file_name').notNull(),
  contentType: text('content_type').notNull(),
  sizeBytes: bigint('size_bytes', { mode: 'number' }).notNull(),
  updatedAt: ms('updated_at').notNull().default(now),
})

export const downloadGrants = pgTable(
  'download_grants',
  {
    id: id(),
    orderId: ref('order_id')
      .notNull()
      .references(() => orders.id, { onDelete: 'cascade' }),
    orderLineId: ref('order_line_id')
      .notNull()
      .unique()
      .references((): AnyPgColumn => orderLines.id, { onDelete: 'cascade' }),
    productId: ref('product_id').notNull(),
    tokenHash: text('token_hash').notNull().unique(),
    downloadLimit: integer('download_limit').notNull(),
    downloadCount: integer('download_count').notNull().default(0),
    expiresAt: ms('expires_at').notNull(),
    revokedAt: ms('revoked_at'),
    createdAt: ms('created_at').notNull().default(now),
  },
  (t) => [index('download_grants_order_idx').on(t.orderId), check('download_grants_count_within_limit', sql`${t.downloadCount} <= ${t.downloadLimit}`)],
)

export const refunds = pgTable(
  'refunds',
  {
    id: id(),
    stripeRefundId: text('stripe_refund_id').notNull().unique(),
    orderId: ref('order_id')
      .notNull()
      .references(() => orders.id, { onDelete: 'cascade' }),
    amountCents: cents('amount_cents').notNull(),
    formNonce: text('form_nonce'),
    adminUserId: ref('admin_user_id'),
    createdAt: ms('created_at').notNull().default(now),
  },
  (t) => [index('refunds_order_idx').on(t.orderId)],
)

export const stripeEvents = pgTable(
  'stripe_events',
  {
    id: text('id').primaryKey(),
    type: text('type').notNull(),
    objectId: text('object_id'),
    // Stripe's `created`, in seconds: bigint so it outlives 2038
    stripeCreatedAt: bigint('stripe_created_at', { mode: 'number' }),
    receivedAt: ms('received_at').notNull().default(now),
    processedAt: ms('processed_at'),
    attempts: integer('attempts').notNull().default(0),
    error: text('error'),
    outcome: text('outcome', { enum: ['applied', 'ignored', 'foreign'] }),
  },
  (t) => [index('stripe_events_type_idx').on(t.type, t.receivedAt), index('stripe_events_unprocessed_idx').on(t.processedAt)],
)

export const jobs = pgTable(
  'jobs',
  {
    id: id(),
    kind: text('kind').notNull(),
    payload: json('payload').$type<Record<string, unknown>>().notNull().default({}),
    status: text('status', { enum: ['queued', 'running', 'done', 'failed'] }).notNull().default('queued'),
    uniqueKey: text('unique_key').unique(),
    runAt: ms('run_at').notNull().default(now),
    attempts: integer('attempts').notNull().default(0),
    maxAttempts: integer('max_attempts').notNull().default(8),
    lockedAt: ms('locked_at'),
    lockedBy: text('locked_by'),
    heartbeatAt: ms('heartbeat_at'),
    lastError: text('last_error'),
    createdAt: ms('created_at').notNull().default(now),
    finishedAt: ms('finished_at'),
  },
  (t) => [index('jobs_claim_idx').on(t.status, t.runAt)],
)

export const leases = pgTable('leases', {
  name: text('name').primaryKey(),
  holder: text('holder').notNull(),
  acquiredAt: ms('acquired_at').notNull(),
  expiresAt: ms('expires_at').notNull(),
})

export const adminUsers = pgTable('admin_users', {
  id: id(),
  email: text('email').notNull().unique(),
  passwordHash: text('password_hash').notNull(),
  createdAt: ms('created_at').notNull().default(now),
  role: text('role', { enum: ['owner', 'staff'] }).notNull().default('owner'),
  removedAt: ms('removed_at'),
  totpSecret: text('totp_secret'),
  totpEnabledAt: ms('totp_enabled_at'),
  // a 30-second step number (about 5.9e7 today): an integer until the year 4000
  totpLastStep: integer('totp_last_step'),
})

export const adminRecoveryCodes = pgTable(
  'admin_recovery_codes',
  {
    id: id(),
    userId: ref('user_id')
      .notNull()
      .references(() => adminUsers.id, { onDelete: 'cascade' }),
    codeHash: text('code_hash').notNull(),
    usedAt: ms('used_at'),
    createdAt: ms('created_at').notNull().default(now),
  },
  (t) => [index('admin_recovery_codes_user_idx').on(t.userId), uniqueIndex('admin_recovery_codes_hash_unique').on(t.userId, t.codeHash)],
)

export const adminChallenges = pgTable(
  'admin_challenges',
  {
    id: text('id').primaryKey(),
    userId: ref('user_id')
      .notNull()
      .references(() => adminUsers.id, { onDelete: 'cascade' }),
    expiresAt: ms('expires_at').notNull(),
    attempts: integer('attempts').notNull().default(0),
    createdAt: ms('created_at').notNull().default(now),
  },
  (t) => [index('admin_challenges_user_idx').on(t.userId)],
)

export const adminInvites = pgTable(
  'admin_invites',
  {
    id: id(),
    email: text('email').notNull(),
    role: text('role', { enum: ['owner', 'staff'] }).notNull().default('staff'),
    tokenHash: text('token_hash').notNull().unique(),
    invitedBy: ref('invited_by').references(() => adminUsers.id, { onDelete: 'set null' }),
    expiresAt: ms('expires_at').notNull(),
    acceptedAt: ms('accepted_at'),
    revokedAt: ms('revoked_at'),
    createdAt: ms('created_at').notNull().default(now),
  },
  (t) => [index('admin_invites_email_idx').on(t.email)],
)

export const adminSettings = pgTable(
  'admin_settings',
  {
    id: id(),
    staffRefundLimitCents: cents('staff_refund_limit_cents').notNull().default(0),
    requireTwoFactor: flag('require_two_factor').notNull().default(FALSE),
    updatedAt: ms('updated_at').notNull().default(now),
  },
  (t) => [check('admin_settings_one_row', sql`${t.id} = 1`)],
)

export const adminSessions = pgTable(
  'admin_sessions',
  {
    id: text('id').primaryKey(),
    userId: ref('user_id')
      .notNull()
      .references(() => adminUsers.id, { onDelete: 'cascade' }),
    expiresAt: ms('expires_at').notNull(),
    createdAt: ms('created_at').notNull().default(now),
  },
  (t) => [index('admin_sessions_user_idx').on(t.userId)],
)

export const reconcileRuns = pgTable('reconcile_runs', {
  id: id(),
  startedAt: ms('started_at').notNull(),
  finishedAt: ms('finished_at'),
  // Stripe's `created`, in seconds
  eventsCursor: bigint('events_cursor', { mode: 'number' }),
  eventsSeen: integer('events_seen').notNull().default(0),
  sessionsSeen: integer('sessions_seen').notNull().default(0),
  ordersCreated: integer('orders_created').notNull().default(0),
  mismatches: json('mismatches').$type<{ sessionId: string; orderCents: number; stripeCents: number }[]>().notNull().default([]),
  error: text('error'),
  stripeCalls: integer('stripe_calls').notNull().default(0),
  isCapped: flag('is_capped').notNull().default(FALSE),
  isSessionsWalked: flag('is_sessions_walked').notNull().default(FALSE),
})

export const healthChecks = pgTable('health_checks', {
  id: text('id').primaryKey(),
  checkedAt: ms('checked_at').notNull(),
  pid: integer('pid').notNull(),
})

export const rateLimits = pgTable(
  'rate_limits',
  {
    key: text('key').primaryKey(),
    hits: integer('hits').notNull(),
    expiresAt: ms('expires_at').notNull(),
  },
  (t) => [index('rate_limits_expires_idx').on(t.expiresAt)],
)

export const stockLedger = pgTable(
  'stock_ledger',
  {
    id: id(),
    variantId: ref('variant_id')
      .notNull()
      .references(() => variants.id, { onDelete: 'cascade' }),
    delta: integer('delta').notNull(),
    stockAfter: integer('stock_after').notNull(),
    reason: text('reason', { enum: STOCK_REASONS }).notNull(),
    note: text('note').notNull().default(''),
    adminUserId: ref('admin_user_id').references(() => adminUsers.id, { onDelete: 'set null' }),
    orderId: ref('order_id'),
    createdAt: ms('created_at').notNull().default(now),
  },
  (t) => [index('stock_ledger_variant_idx').on(t.variantId, t.createdAt)],
)

export const auditLog = pgTable(
  'audit_log',
  {
    id: id(),
    adminUserId: ref('admin_user_id'),
    adminEmail: text('admin_email').notNull(),
    action: text('action').notNull(),
    subject: text('subject').notNull().default(''),
    before: json('before').$type<unknown>(),
    after: json('after').$type<unknown>(),
    createdAt: ms('created_at').notNull().default(now),
  },
  (t) => [index('audit_log_created_idx').on(t.createdAt)],
)

export const catalogImports = pgTable('catalog_imports', {
  id: id(),
  adminUserId: ref('admin_user_id'),
  filename: text('filename').notNull().default(''),
  body: text('body').notNull(),
  appliedAt: ms('applied_at'),
  result: json('result').$type<unknown>(),
  createdAt: ms('created_at').notNull().default(now),
})

export const adminLoginFailures = pgTable(
  'admin_login_failures',
  {
    id: id(),
    key: text('key').notNull(),
    createdAt: ms('created_at').notNull().default(now),
  },
  (t) => [index('admin_login_failures_key_idx').on(t.key, t.createdAt)],
)

// SQLite's AUTOINCREMENT (ids never reused, which readers of "everything after id N" rely
// on) is what an identity gives anyway.
export const catalogChanges = pgTable('catalog_changes', {
  id: id(),
  productId: ref('product_id'),
  slug: text('slug'),
  isSoldOut: flag('is_sold_out').notNull().default(FALSE),
  soldOutVariants: integer('sold_out_variants').notNull().default(0),
  origin: text('origin').notNull().default(''),
  createdAt: ms('created_at').notNull().default(now),
})

export const accounts = pgTable('accounts', {
  id: id(),
  email: text('email').notNull().unique(),
  stripeCustomerId: text('stripe_customer_id'),
  createdAt: ms('created_at').notNull().default(now),
  lastSignInAt: ms('last_sign_in_at'),
})

export const accountSessions = pgTable(
  'account_sessions',
  {
    id: text('id').primaryKey(),
    accountId: ref('account_id')
      .notNull()
      .references(() => accounts.id, { onDelete: 'cascade' }),
    expiresAt: ms('expires_at').notNull(),
    createdAt: ms('created_at').notNull().default(now),
  },
  (t) => [index('account_sessions_account_idx').on(t.accountId)],
)

export const signInTokens = pgTable(
  'sign_in_tokens',
  {
    id: text('id').primaryKey(),
    email: text('email').notNull(),
    expiresAt: ms('expires_at').notNull(),
    usedAt: ms('used_at'),
    createdAt: ms('created_at').notNull().default(now),
  },
  (t) => [index('sign_in_tokens_email_idx').on(t.email), index('sign_in_tokens_expires_idx').on(t.expiresAt)],
)

export const stockAlerts = pgTable(
  'stock_alerts',
  {
    id: id(),
    variantId: ref('variant_id')
      .notNull()
      .references(() => variants.id, { onDelete: 'cascade' }),
    email: text('email').notNull(),
    createdAt: ms('created_at').notNull().default(now),
    notifiedAt: ms('notified_at'),
    sentAt: ms('sent_at'),
    unsubscribedAt: ms('unsubscribed_at'),
    unsubscribeHash: text('unsubscribe_hash'),
  },
  (t) => [
    index('stock_alerts_waiting_idx').on(t.variantId, t.notifiedAt),
    index('stock_alerts_email_idx').on(t.email),
    uniqueIndex('stock_alerts_unsubscribe_uq').on(t.unsubscribeHash),
    uniqueIndex('stock_alerts_waiting_uq').on(t.variantId, t.email).where(sql`notified_at IS NULL AND unsubscribed_at IS NULL`),
  ],
)

export const mailOptOuts = pgTable(
  'mail_opt_outs',
  {
    email: text('email').notNull(),
    kind: text('kind', { enum: ['stock_alert', 'checkout_reminder'] }).notNull(),
    createdAt: ms('created_at').notNull().default(now),
  },
  (t) => [primaryKey({ columns: [t.email, t.kind] })],
)

export const checkoutReminders = pgTable(
  'checkout_reminders',
  {
    id: id(),
    stripeCheckoutSessionId: text('stripe_checkout_session_id').notNull().unique(),
    cartId: text('cart_id').notNull().unique(),
    email: text('email').notNull(),
    recoveryUrl: text('recovery_url').notNull(),
    createdAt: ms('created_at').notNull().default(now),
    sentAt: ms('sent_at'),
    skippedReason: text('skipped_reason', { enum: ['bought', 'opted_out', 'cart_gone'] }),
    unsubscribeHash: text('unsubscribe_hash').unique(),
  },
  (t) => [index('checkout_reminders_sent_idx').on(t.sentAt)],
)

export const orderNotes = pgTable(
  'order_notes',
  {
    id: id(),
    orderId: ref('order_id')
      .notNull()
      .references(() => orders.id),
    adminUserId: ref('admin_user_id'),
    adminEmail: text('admin_email').notNull(),
    body: text('body').notNull(),
    createdAt: ms('created_at').notNull().default(now),
  },
  (t) => [index('order_notes_order_idx').on(t.orderId, t.createdAt)],
)

export const storedFiles = pgTable('stored_files', {
  key: text('key').primaryKey(),
  contentType: text('content_type').notNull(),
  sizeBytes: bigint('size_bytes', { mode: 'number' }).notNull(),
  sha256: text('sha256').notNull(),
  bytes: bytea('bytes').notNull(),
  createdAt: ms('created_at').notNull().default(now),
})
