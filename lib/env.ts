import 'server-only'
import net from 'node:net'
import path from 'node:path'
import { z } from 'zod'
import { InvalidDatabaseUrl, parseDatabaseUrl } from '@/db/pg/url'

// The only module that reads process.env. Everything is parsed once, at boot,
// and a bad configuration stops the process with one message that names every bad key.
// `next build` never calls getEnv(), so building needs neither values nor a database.

const flag = z
  .enum(['0', '1', 'true', 'false', ''])
  .optional()
  .transform((v) => v === '1' || v === 'true')

const optionalString = z
  .string()
  .optional()
  .transform((v) => (v === undefined || v.trim() === '' ? undefined : v.trim()))

const optionalUrl = optionalString.pipe(z.url({ protocol: /^https?$/ }).optional())

// "Standard:500:5-7,Express:1500:1-2" -> name, amount in cents, delivery days
const shippingRates = z
  .string()
  .optional()
  .transform((raw, ctx) => {
    const text = raw?.trim() || 'Standard:500:3-5,Express:1500:1-2'
    const rates: { name: string; amountCents: number; minDays: number; maxDays: number }[] = []
    for (const part of text.split(',')) {
      const m = /^\s*([^:]+):(\d+):(\d+)-(\d+)\s*$/.exec(part)
      if (!m) {
        ctx.addIssue({ code: 'custom', message: `"${part.trim()}" is not a Name:cents:min-max rate` })
        return z.NEVER
      }
      rates.push({ name: m[1]!.trim(), amountCents: Number(m[2]), minDays: Number(m[3]), maxDays: Number(m[4]) })
    }
    return rates.slice(0, 5)
  })

// "GB:20,DE:19,US:8.25" -> { GB: 20, DE: 19, US: 8.25 }: the built-in emulator's flat
// automatic-tax rate per country. Unset: the emulator's own default table.
const emulatorTaxRates = z
  .string()
  .optional()
  .transform((raw, ctx) => {
    const text = raw?.trim()
    if (!text) return undefined
    const rates: Record<string, number> = {}
    for (const part of text.split(',')) {
      const m = /^\s*([A-Za-z]{2})\s*:\s*(\d{1,3}(?:\.\d{1,2})?)\s*$/.exec(part)
      if (!m || Number(m[2]) > 100) {
        ctx.addIssue({ code: 'custom', message: `"${part.trim()}" is not a country:percent pair with a percent from 0 to 100` })
        return z.NEVER
      }
      const country = m[1]!.toUpperCase()
      if (country in rates) {
        ctx.addIssue({ code: 'custom', message: `${country} is listed twice` })
        return z.NEVER
      }
      rates[country] = Number(m[2])
    }
    return rates
  })

// "172.16.0.0/12,10.0.0.7" -> the proxies whose X-Forwarded-For entries are believed
// (lib/request/client-address.ts). Each entry is an IPv4 or IPv6 address, or one with a /prefix.
const trustedProxies = z
  .string()
  .optional()
  .transform((raw, ctx) => {
    const entries = (raw ?? '').split(',').map((e) => e.trim()).filter(Boolean)
    for (const entry of entries) {
      const [address = '', prefix, extra] = entry.split('/')
      const family = net.isIP(address)
      const bits = family === 4 ? 32 : 128
      if (!family || extra !== undefined || (prefix !== undefined && (!/^\d{1,3}$/.test(prefix) || Number(prefix) > bits))) {
        ctx.addIssue({ code: 'custom', message: `"${entry}" is not an IP address or an address/prefix` })
        return z.NEVER
      }
    }
    return entries
  })

// A PostgreSQL URL in libpq's form, one host or several (db/pg/url.ts). Set, the store runs
// on PostgreSQL (lib/platform/boot.ts, decision 048); unset, on SQLite in STORAGE_DIR.
const databaseUrl = optionalString.transform((raw, ctx) => {
  if (raw === undefined) return undefined
  try {
    return parseDatabaseUrl(raw)
  } catch (err) {
    if (!(err instanceof InvalidDatabaseUrl)) throw err
    // its message starts with the key's name, which the issue list puts first already
    ctx.addIssue({ code: 'custom', message: err.message.replace(/^DATABASE_URL /, '') })
    return z.NEVER
  }
})

const Schema = z.object({
  NODE_ENV: z.enum(['development', 'production', 'test']).default('development'),
  PORT: z.coerce.number().int().min(1).max(65535).default(3000),
  APP_URL: optionalUrl,
  STORAGE_DIR: z.string().trim().min(1).default('./storage'),
  DATABASE_URL: databaseUrl,
  STRIPE_SECRET_KEY: optionalString.pipe(z.string().regex(/^(sk|rk)_(test|live)_\w+$/).optional()),
  STRIPE_WEBHOOK_SECRET: optionalString.pipe(z.string().regex(/^whsec_\w+$/).optional()),
  STRIPE_API_BASE: optionalUrl,
  PAYMENTS: z.enum(['stripe', 'emulator']).optional(),
  ADMIN_EMAIL: optionalString.pipe(z.email().optional()),
  ADMIN_PASSWORD: optionalString.pipe(z.string().min(12).optional()),
  SEED_DEMO: flag,
  LOG_LEVEL: z.enum(['debug', 'info', 'warn', 'error', 'silent']).default('info'),
  SMTP_URL: optionalString.pipe(z.url({ protocol: /^smtps?$/ }).optional()),
  MAIL_FROM: z.string().trim().min(3).default('Till <orders@till.localhost>'),
  STORE_NAME: z.string().trim().min(1).max(60).default('Till'),
  CURRENCY: z
    .string()
    .trim()
    .regex(/^[a-zA-Z]{3}$/)
    .default('usd')
    .transform((c) => c.toLowerCase()),
  SHIPPING_COUNTRIES: z
    .string()
    .trim()
    .default('US,CA,GB,DE,FR,NL,AU')
    .transform((s) => s.split(',').map((c) => c.trim().toUpperCase()))
    .pipe(z.array(z.string().regex(/^[A-Z]{2}$/)).min(1)),
  SHIPPING_RATES: shippingRates,
  PAYMENTS_EMULATOR_TAX_RATES: emulatorTaxRates,
  JOBS: z.enum(['on', 'off']).default('on'),
  // Stripe Tax (docs/decisions/021-discounts-and-tax-at-checkout.md): off unless asked for, so
  // a shop never charges tax it has not registered for in Stripe.
  STRIPE_TAX: z.enum(['on', 'off']).default('off'),
  STRIPE_TAX_CODE: z
    .string()
    .trim()
    .regex(/^txcd_\d{8}$/)
    .default('txcd_99999999'),
  STRIPE_TAX_BEHAVIOR: z.enum(['exclusive', 'inclusive']).default('exclusive'),
  // Online backups into STORAGE_DIR/backups: how often, and how many to keep.
  BACKUP_INTERVAL_MINUTES: z.coerce.number().int().min(5).max(24 * 60).default(60),
  BACKUP_KEEP_HOURLY: z.coerce.number().int().min(1).max(24 * 31).default(48),
  BACKUP_KEEP_DAILY: z.coerce.number().int().min(0).max(3650).default(14),
  // The kernel's mount table, read at boot to refuse network filesystems; tests feed a fixture.
  MOUNTS_FILE: z.string().trim().min(1).default('/proc/mounts'),
  // On SIGTERM/SIGINT: how long the running job and in-flight requests get to finish. Keep it
  // below the deploy's stop_timeout, after which the container is killed.
  SHUTDOWN_TIMEOUT_SECONDS: z.coerce.number().int().min(1).max(600).default(25),
  // Next's standalone server reads this name too; the front server passes it the checked value.
  KEEP_ALIVE_TIMEOUT: z.coerce.number().int().min(1000).max(600_000).default(65_000),
  // Abuse limits (lib/request/rate-limit.ts, lib/cart.ts): counts per RATE_LIMIT_WINDOW_SECONDS.
  CHECKOUT_LIMIT_PER_ADDRESS: z.coerce.number().int().min(1).max(100_000).default(30),
  CHECKOUT_LIMIT_PER_CART: z.coerce.number().int().min(1).max(100_000).default(10),
  SESSION_LOOKUP_LIMIT_PER_ADDRESS: z.coerce.number().int().min(1).max(100_000).default(20),
  RATE_LIMIT_WINDOW_SECONDS: z.coerce.number().int().min(1).max(86_400).default(600),
  // Sign-in links asked for (lib/accounts.ts): per client address per RATE_LIMIT_WINDOW_SECONDS,
  // and links mailed to one address per 15 minutes (the life of a link).
  SIGN_IN_LIMIT_PER_ADDRESS: z.coerce.number().int().min(1).max(100_000).default(10),
  SIGN_IN_LIMIT_PER_EMAIL: z.coerce.number().int().min(1).max(100).default(3),
  // Abandoned checkouts (lib/checkout-reminders.ts): sessions get Stripe's recovery URL and
  // ask for promotional consent (Stripe offers that box to US merchants); off: neither.
  CHECKOUT_REMINDERS: z.enum(['on', 'off']).default('on'),
  // How long after a checkout expires its reminder goes out (a shopper back within it is not reminded).
  CHECKOUT_REMINDER_DELAY_MINUTES: z.coerce.number().int().min(0).max(7 * 24 * 60).default(60),
  CART_MAX_UNITS_PER_ITEM: z.coerce.number().int().min(1).max(9_999).default(99),
  // A digital product's link (lib/downloads.ts): valid this many days after payment, for this
  // many downloads.
  DOWNLOAD_EXPIRY_DAYS: z.coerce.number().int().min(1).max(3_650).default(7),
  DOWNLOAD_LIMIT: z.coerce.number().int().min(1).max(1_000).default(5),
  // One visitor (a client address, or a cart) holds at most this share of a variant's stock
  // at once, across all their checkouts (lib/inventory.ts placeHolds). 100: no bound, the
  // default for development and tests; a live shop sets 25 to 50 (docs/decisions/030).
  HOLD_MAX_SHARE_PERCENT: z.coerce.number().int().min(1).max(100).default(100),
  // The proxies in front of the app (lib/request/client-address.ts); empty: none, the socket peer is the client.
  TRUSTED_PROXIES: trustedProxies,
  // A token that shows /up's details to a request from outside the host (lib/platform/health.ts).
  HEALTH_TOKEN: optionalString.pipe(z.string().min(16, 'must be at least 16 characters').optional()),
  // The response cache (server/response-cache.ts): how long a page whose stock changed may
  // still be sent while one request renders it again (never a page whose stock sold out), and
  // how long any page is kept at most. 0 stale seconds: a changed page is never sent again.
  RESPONSE_CACHE_STALE_SECONDS: z.coerce.number().int().min(0).max(60).default(5),
  RESPONSE_CACHE_TTL_SECONDS: z.coerce.number().int().min(1).max(3_600).default(60),
  // Chaos tests only: comma-separated failpoint names (lib/platform/failpoints.ts).
  FAILPOINTS: z
    .string()
    .optional()
    .transform((s) => (s ? s.split(',').map((f) => f.trim()).filter(Boolean) : [])),
  NEXT_RUNTIME: z.string().optional(),
  NEXT_PHASE: z.string().optional(),
})

// What a valid value looks like, for every key: a message that only said what is wrong
// ("Invalid URL") left the operator guessing what is right.
export const VALID_VALUES: Record<keyof z.infer<typeof Schema>, string> = {
  NODE_ENV: 'one of development, production, test, e.g. NODE_ENV=production',
  BACKUP_INTERVAL_MINUTES: 'minutes between backups, 5 to 1440, e.g. BACKUP_INTERVAL_MINUTES=60',
  BACKUP_KEEP_HOURLY: 'how many hourly backups to keep, 1 to 744, e.g. BACKUP_KEEP_HOURLY=48',
  BACKUP_KEEP_DAILY: 'how many daily backups to keep, 0 to 3650, e.g. BACKUP_KEEP_DAILY=14',
  MOUNTS_FILE: 'the path of the kernel mount table, e.g. MOUNTS_FILE=/proc/mounts',
  SHUTDOWN_TIMEOUT_SECONDS: 'seconds from 1 to 600, below the deploy stop_timeout, e.g. SHUTDOWN_TIMEOUT_SECONDS=25',
  KEEP_ALIVE_TIMEOUT: 'milliseconds from 1000 to 600000, longer than the idle time of the proxy in front, e.g. KEEP_ALIVE_TIMEOUT=65000',
  CHECKOUT_LIMIT_PER_ADDRESS: 'a whole number of checkout starts per window, e.g. CHECKOUT_LIMIT_PER_ADDRESS=30',
  CHECKOUT_LIMIT_PER_CART: 'a whole number of checkout starts per window, e.g. CHECKOUT_LIMIT_PER_CART=10',
  SESSION_LOOKUP_LIMIT_PER_ADDRESS: 'a whole number of look-ups per window, e.g. SESSION_LOOKUP_LIMIT_PER_ADDRESS=20',
  RATE_LIMIT_WINDOW_SECONDS: 'seconds from 1 to 86400, e.g. RATE_LIMIT_WINDOW_SECONDS=600',
  SIGN_IN_LIMIT_PER_ADDRESS: 'a whole number of sign-in link requests per window, e.g. SIGN_IN_LIMIT_PER_ADDRESS=10',
  SIGN_IN_LIMIT_PER_EMAIL: 'a whole number from 1 to 100 of sign-in links mailed to one address per 15 minutes, e.g. SIGN_IN_LIMIT_PER_EMAIL=3',
  CHECKOUT_REMINDERS: 'on or off, e.g. CHECKOUT_REMINDERS=off where promotional consent cannot be collected',
  CHECKOUT_REMINDER_DELAY_MINUTES: 'minutes from 0 to 10080, e.g. CHECKOUT_REMINDER_DELAY_MINUTES=60',
  CART_MAX_UNITS_PER_ITEM: 'a whole number from 1 to 9999, e.g. CART_MAX_UNITS_PER_ITEM=99',
  DOWNLOAD_EXPIRY_DAYS: 'days from 1 to 3650 a download link stays valid after payment, e.g. DOWNLOAD_EXPIRY_DAYS=7',
  DOWNLOAD_LIMIT: 'how many times one link may be downloaded, 1 to 1000, e.g. DOWNLOAD_LIMIT=5',
  HOLD_MAX_SHARE_PERCENT: 'a whole percent from 1 to 100 (100: no bound), e.g. HOLD_MAX_SHARE_PERCENT=50',
  TRUSTED_PROXIES: 'comma-separated addresses or address/prefix ranges of the proxies in front of the app, e.g. TRUSTED_PROXIES=172.16.0.0/12',
  HEALTH_TOKEN: 'at least 16 random characters, e.g. HEALTH_TOKEN=Zq3…',
  RESPONSE_CACHE_STALE_SECONDS: 'seconds from 0 to 60, e.g. RESPONSE_CACHE_STALE_SECONDS=5',
  RESPONSE_CACHE_TTL_SECONDS: 'seconds from 1 to 3600, e.g. RESPONSE_CACHE_TTL_SECONDS=60',
  PORT: 'a port number from 1 to 65535, e.g. PORT=3000',
  APP_URL: 'the public address of the shop with http(s) and no path, e.g. APP_URL=https://shop.example.com',
  STORAGE_DIR: 'a folder for the database and uploads, e.g. STORAGE_DIR=/var/lib/till',
  DATABASE_URL: 'a postgres:// URL, one host or several with target_session_attrs=read-write, e.g. DATABASE_URL=postgres://till:secret@db1:5432,db2:5432/till?target_session_attrs=read-write',
  STRIPE_SECRET_KEY: 'a Stripe secret or restricted key, e.g. STRIPE_SECRET_KEY=sk_live_51Hx… (or sk_test_…)',
  STRIPE_WEBHOOK_SECRET: "the webhook endpoint's signing secret, e.g. STRIPE_WEBHOOK_SECRET=whsec_3a9…",
  STRIPE_API_BASE: 'the http(s) address of a Stripe-compatible server, e.g. STRIPE_API_BASE=http://127.0.0.1:12111',
  PAYMENTS: 'stripe or emulator, e.g. PAYMENTS=stripe',
  ADMIN_EMAIL: 'an email address, e.g. ADMIN_EMAIL=owner@example.com',
  ADMIN_PASSWORD: 'at least 12 characters, e.g. ADMIN_PASSWORD=correct-horse-battery',
  SEED_DEMO: '1, 0, true or false, e.g. SEED_DEMO=1',
  LOG_LEVEL: 'one of debug, info, warn, error, silent, e.g. LOG_LEVEL=info',
  SMTP_URL: 'an smtp:// or smtps:// URL, e.g. SMTP_URL=smtps://user:password@smtp.example.com:465',
  MAIL_FROM: 'a sender, e.g. MAIL_FROM="Till <orders@shop.example.com>"',
  STORE_NAME: '1 to 60 characters, e.g. STORE_NAME="Till Outdoor"',
  CURRENCY: 'a 3-letter ISO 4217 code, e.g. CURRENCY=usd',
  SHIPPING_COUNTRIES: 'comma-separated 2-letter country codes, e.g. SHIPPING_COUNTRIES=US,CA,GB',
  SHIPPING_RATES: 'comma-separated Name:cents:min-max days, e.g. SHIPPING_RATES=Standard:500:3-5,Express:1500:1-2',
  PAYMENTS_EMULATOR_TAX_RATES: 'comma-separated country:percent pairs, the emulator automatic tax rates, e.g. PAYMENTS_EMULATOR_TAX_RATES=GB:20,DE:19,US:0',
  JOBS: 'on or off, e.g. JOBS=on',
  STRIPE_TAX: 'on or off, e.g. STRIPE_TAX=on',
  STRIPE_TAX_CODE: "a Stripe tax code, used for products without their own, e.g. STRIPE_TAX_CODE=txcd_99999999 (general tangible goods)",
  STRIPE_TAX_BEHAVIOR: 'exclusive (tax added at checkout) or inclusive (prices include tax), e.g. STRIPE_TAX_BEHAVIOR=exclusive',
  FAILPOINTS: 'comma-separated failpoint names (chaos tests only), e.g. FAILPOINTS=webhook.after_commit',
  NEXT_RUNTIME: 'set by Next.js itself; leave it unset',
  NEXT_PHASE: 'set by Next.js itself; leave it unset',
}

// Values never repeated back in a message: a log is no place for a key or a password.
const SECRET_KEYS = new Set(['STRIPE_SECRET_KEY', 'STRIPE_WEBHOOK_SECRET', 'ADMIN_PASSWORD', 'SMTP_URL', 'DATABASE_URL'])

/** "KEY: what is wrong. Use …": what is wrong in plain words, then what is right, once each. */
function describeIssue(key: string, problem: string): string {
  const valid = (VALID_VALUES as Record<string, string | undefined>)[key]
  return valid ? `${key}: ${problem}. Use ${valid}.` : `${key}: ${problem}.`
}

/**
 * What is wrong with one value, without the validator's own wording ("Invalid input:
 * expected number, received NaN"): the value as given, or a transform's own specific words.
 */
function problemWith(key: string, issue: z.core.$ZodIssue, source: Record<string, string | undefined>): string {
  if (issue.code === 'custom') return issue.message
  const value = source[key]
  if (value === undefined || value.trim() === '') return 'it is empty'
  if (SECRET_KEYS.has(key)) return 'the value given is not valid'
  const shown = value.length > 40 ? `${value.slice(0, 40)}…` : value
  return `"${shown}" is not valid`
}

export type Env = ReturnType<typeof finish>

function finish(raw: z.infer<typeof Schema>, issues: string[]) {
  const isProduction = raw.NODE_ENV === 'production'
  // Outside production a missing key means "use the emulator"; in production the emulator
  // must be asked for, so a forgotten key can never silently take fake payments.
  const payments = raw.PAYMENTS ?? (!raw.STRIPE_SECRET_KEY && !isProduction ? 'emulator' : 'stripe')
  if (payments === 'stripe') {
    // Said as the reason it applies: payments are real unless PAYMENTS=emulator, and outside
    // development (the built server, `npm start`, always runs as production) that is the default.
    const why = raw.PAYMENTS === 'stripe' ? 'PAYMENTS=stripe' : 'real payments (the built server takes them unless PAYMENTS=emulator)'
    if (!raw.STRIPE_SECRET_KEY) issues.push(describeIssue('STRIPE_SECRET_KEY', `required with ${why}; for simulated payments set PAYMENTS=emulator`))
    if (!raw.STRIPE_WEBHOOK_SECRET) issues.push(describeIssue('STRIPE_WEBHOOK_SECRET', `required with ${why}`))
    const where = raw.PAYMENTS === 'stripe' ? `${why} on the built server` : why
    if (isProduction && !raw.APP_URL) issues.push(describeIssue('APP_URL', `required with ${where}: Stripe sends shoppers back to this address`))
  }
  // The first admin comes from the two together, or from neither (npm run admin:create).
  if (raw.ADMIN_EMAIL && !raw.ADMIN_PASSWORD) issues.push(describeIssue('ADMIN_PASSWORD', 'missing while ADMIN_EMAIL is set; set both to create the first admin at boot, or neither and run npm run admin:create'))
  if (raw.ADMIN_PASSWORD && !raw.ADMIN_EMAIL) issues.push(describeIssue('ADMIN_EMAIL', 'missing while ADMIN_PASSWORD is set; set both to create the first admin at boot, or neither and run npm run admin:create'))
  const appUrl = (raw.APP_URL ?? `http://localhost:${raw.PORT}`).replace(/\/+$/, '')
  return {
    nodeEnv: raw.NODE_ENV,
    isProduction,
    port: raw.PORT,
    appUrl,
    storageDir: path.resolve(/*turbopackIgnore: true*/ raw.STORAGE_DIR),
    // undefined: the store runs on SQLite in storageDir; set: on this PostgreSQL
    databaseUrl: raw.DATABASE_URL,
    payments,
    // Empty with the emulator and no keys given: lib/payments/keys.ts makes random ones for
    // the storage folder.
    stripeSecretKey: raw.STRIPE_SECRET_KEY ?? '',
    stripeWebhookSecret: raw.STRIPE_WEBHOOK_SECRET ?? '',
    // In emulator mode with no explicit base, the app serves the Stripe API itself.
    stripeApiBase: raw.STRIPE_API_BASE ?? (payments === 'emulator' ? `http://127.0.0.1:${raw.PORT}` : undefined),
    // STRIPE_API_BASE names a separate Stripe-compatible server (tests); else the app serves it
    isStripeApiExternal: raw.STRIPE_API_BASE !== undefined,
    adminEmail: raw.ADMIN_EMAIL,
    adminPassword: raw.ADMIN_PASSWORD,
    seedDemo: raw.SEED_DEMO,
    logLevel: raw.LOG_LEVEL,
    smtpUrl: raw.SMTP_URL,
    mailFrom: raw.MAIL_FROM,
    storeName: raw.STORE_NAME,
    currency: raw.CURRENCY,
    shippingCountries: raw.SHIPPING_COUNTRIES,
    shippingRates: raw.SHIPPING_RATES,
    // Undefined: the emulator's default table (see README).
    emulatorTaxRates: raw.PAYMENTS_EMULATOR_TAX_RATES,
    areJobsEnabled: raw.JOBS === 'on',
    isStripeTaxEnabled: raw.STRIPE_TAX === 'on',
    stripeTaxCode: raw.STRIPE_TAX_CODE,
    stripeTaxBehavior: raw.STRIPE_TAX_BEHAVIOR,
    backupIntervalMinutes: raw.BACKUP_INTERVAL_MINUTES,
    backupKeepHourly: raw.BACKUP_KEEP_HOURLY,
    backupKeepDaily: raw.BACKUP_KEEP_DAILY,
    mountsFile: raw.MOUNTS_FILE,
    shutdownTimeoutMs: raw.SHUTDOWN_TIMEOUT_SECONDS * 1000,
    keepAliveTimeoutMs: raw.KEEP_ALIVE_TIMEOUT,
    checkoutLimitPerAddress: raw.CHECKOUT_LIMIT_PER_ADDRESS,
    checkoutLimitPerCart: raw.CHECKOUT_LIMIT_PER_CART,
    sessionLookupLimitPerAddress: raw.SESSION_LOOKUP_LIMIT_PER_ADDRESS,
    rateLimitWindowMs: raw.RATE_LIMIT_WINDOW_SECONDS * 1000,
    signInLimitPerAddress: raw.SIGN_IN_LIMIT_PER_ADDRESS,
    signInLimitPerEmail: raw.SIGN_IN_LIMIT_PER_EMAIL,
    cartMaxUnitsPerItem: raw.CART_MAX_UNITS_PER_ITEM,
    downloadExpiryMs: raw.DOWNLOAD_EXPIRY_DAYS * 24 * 60 * 60 * 1000,
    downloadLimit: raw.DOWNLOAD_LIMIT,
    holdMaxSharePercent: raw.HOLD_MAX_SHARE_PERCENT,
    trustedProxies: raw.TRUSTED_PROXIES,
    healthToken: raw.HEALTH_TOKEN,
    responseCacheStaleMs: raw.RESPONSE_CACHE_STALE_SECONDS * 1000,
    responseCacheTtlMs: raw.RESPONSE_CACHE_TTL_SECONDS * 1000,
    areCheckoutRemindersEnabled: raw.CHECKOUT_REMINDERS === 'on',
    checkoutReminderDelayMs: raw.CHECKOUT_REMINDER_DELAY_MINUTES * 60_000,
    failpoints: raw.FAILPOINTS,
  }
}

export class ConfigError extends Error {
  constructor(readonly issues: string[]) {
    super(`Invalid configuration:\n${issues.map((i) => `  - ${i}`).join('\n')}`)
    this.name = 'ConfigError'
  }
}

export function parseEnv(source: Record<string, string | undefined>): Env {
  const result = Schema.safeParse(source)
  const issues: string[] = []
  if (!result.success) {
    // one message per key, however many checks its value failed
    const seen = new Set<string>()
    for (const issue of result.error.issues) {
      const key = String(issue.path[0] ?? '(root)')
      if (seen.has(key)) continue
      seen.add(key)
      issues.push(describeIssue(key, problemWith(key, issue, source)))
    }
    throw new ConfigError(issues)
  }
  const env = finish(result.data, issues)
  if (issues.length > 0) throw new ConfigError(issues)
  return env
}

const globalForEnv = globalThis as unknown as { tillEnv?: Env }

/** The validated configuration; parsed once per process. */
export function getEnv(): Env {
  globalForEnv.tillEnv ??= parseEnv(process.env)
  return globalForEnv.tillEnv
}

/** True while `next build` collects pages: nothing may touch the database then. */
export function isBuildPhase(): boolean {
  return process.env.NEXT_PHASE === 'phase-production-build'
}

/** Tests change the environment between cases; the next getEnv() parses it again. */
export function resetEnv(): void {
  globalForEnv.tillEnv = undefined
}
