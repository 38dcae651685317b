import 'server-only'
import crypto from 'node:crypto'
import { and, count, eq, gt, isNull, lt, or } from 'drizzle-orm'
import { cookies } from 'next/headers'
import { get, read, run, transaction, type Steps, type Tables, type Writer } from '@/db/tx'
import { getEnv } from './env'
import { InvalidInput } from './errors'
import { formatAddress } from './addresses'
import * as jobs from './jobs'
import { log } from './log'
import * as optOuts from './mail-opt-outs'
import * as orders from './orders'
import * as stockAlerts from './stock-alerts'
import * as rateLimit from '@/lib/request/rate-limit'

// Shopper accounts without passwords. A shopper types an email and gets a single-use link,
// valid 15 minutes; following it proves the address, creates the account on first use and
// opens a session. Only sha256 hashes of link and session tokens are stored, so a copy of the
// database signs nobody in. The link's token is made by the job that mails it (never in the
// request, never in the job's payload), so no readable token is written anywhere.
//
// The answer to "send me a link" is the same whether or not an account exists: there is no
// difference between a known and an unknown address, since any address may become one.
//
// Links and sessions are rows every app server reads and writes through db/tx.ts: a link is
// used up by one conditional update, so two clicks reaching two servers at once sign in once.

const COOKIE = 'till_account'
const LINK_TTL_MS = 15 * 60 * 1000
/** A session lives this long after its last use (sliding expiry)… */
export const IDLE_MS = 30 * 24 * 3600 * 1000
/** …and never longer than this after sign-in. */
export const ABSOLUTE_MS = 180 * 24 * 3600 * 1000
export const MAIL_JOB = 'mail.sign_in_link'

export type Account = { id: number; email: string; stripeCustomerId: string | null; sessionId: string }

const sha256 = (token: string) => crypto.createHash('sha256').update(token).digest('hex')
const newToken = () => crypto.randomBytes(32).toString('base64url')
const TOKEN = /^[A-Za-z0-9_-]{43}$/

function normalizeEmail(email: string): string {
  return email.trim().toLowerCase()
}

/** The address as typed, checked; InvalidInput with a plain message otherwise. */
export function parseEmail(raw: unknown): string {
  const email = typeof raw === 'string' ? normalizeEmail(raw) : ''
  if (email === '') throw new InvalidInput('Enter your email address.')
  if (email.length > 254 || !/^[^@\s<>"]+@[^@\s<>"]+\.[^@\s<>"]+$/.test(email)) throw new InvalidInput('Enter a valid email address, like name@example.com.')
  return email
}

/**
 * A shopper asks for a sign-in link. Throws InvalidInput for a bad address and RateLimited
 * when this client address asked too often; otherwise queues the email (unless this address
 * had its share of links in the last 15 minutes) and returns the same nothing either way.
 */
export async function requestLink(rawEmail: unknown, clientAddress: string | null, now = Date.now()): Promise<void> {
  const email = parseEmail(rawEmail)
  await rateLimit.takeSignInRequest(clientAddress, now)
  if (!(await rateLimit.mayMailSignInLink(email, LINK_TTL_MS, now))) {
    log.info('accounts: sign-in link not mailed, enough were sent to this address lately')
    return
  }
  await transaction((tx, t) => jobs.enqueueing(tx, t, MAIL_JOB, { email, requestedAt: now }, { maxAttempts: 4 }))
}

/**
 * Makes a sign-in link for `email` (the mail job calls it just before sending). Returns the
 * readable token for the email; only its hash is kept. Null when the request is older than
 * a link's life: a link mailed that late would be useless.
 */
export async function issueLinkToken(email: string, requestedAt: number, now = Date.now()): Promise<string | null> {
  if (now - requestedAt > LINK_TTL_MS) return null
  const token = newToken()
  await transaction(function* (tx, t) {
    yield* run(tx.insert(t.signInTokens).values({ id: sha256(token), email: normalizeEmail(email), expiresAt: now + LINK_TTL_MS, createdAt: now }))
    yield* run(tx.delete(t.signInTokens).where(lt(t.signInTokens.expiresAt, now - 24 * 3600 * 1000)))
  })
  return token
}

export function linkUrl(token: string): string {
  return `${getEnv().appUrl}/account/sign-in/confirm?token=${token}`
}

/** The address a link is for while it can still be used, for the confirm page; else null. */
export async function linkEmail(token: unknown, now = Date.now()): Promise<string | null> {
  if (typeof token !== 'string' || !TOKEN.test(token)) return null
  const row = await read(function* (db, t) {
    return yield* get(
      db
        .select({ email: t.signInTokens.email })
        .from(t.signInTokens)
        .where(and(eq(t.signInTokens.id, sha256(token)), isNull(t.signInTokens.usedAt), gt(t.signInTokens.expiresAt, now))),
    )
  })
  return row?.email ?? null
}

export class LinkNotValid extends Error {
  constructor() {
    super('That sign-in link has expired or was already used. Ask for a new one below.')
    this.name = 'LinkNotValid'
  }
}

/**
 * Follows a sign-in link: uses it up (a conditional update, so two clicks at once sign in
 * once), creates the account on first use, and opens a new session. `previousToken` is the
 * session cookie the browser came with, if any: it is ended, so a session id planted before
 * sign-in is never the one that is signed in (rotation). Every other link to the address
 * dies with this one. Returns the new session's cookie token.
 */
export async function signInWithLink(token: unknown, previousToken: string | undefined, now = Date.now()): Promise<{ token: string; account: { id: number; email: string } }> {
  if (typeof token !== 'string' || !TOKEN.test(token)) throw new LinkNotValid()
  const sessionToken = newToken()
  return transaction(function* (tx, t) {
    // On PostgreSQL a second click waits here for the first's row lock, then finds used_at set
    const used = yield* get(
      tx
        .update(t.signInTokens)
        .set({ usedAt: now })
        .where(and(eq(t.signInTokens.id, sha256(token)), isNull(t.signInTokens.usedAt), gt(t.signInTokens.expiresAt, now)))
        .returning({ email: t.signInTokens.email }),
    )
    if (!used) throw new LinkNotValid()
    yield* run(tx.update(t.signInTokens).set({ usedAt: now }).where(and(eq(t.signInTokens.email, used.email), isNull(t.signInTokens.usedAt))))
    yield* run(tx.insert(t.accounts).values({ email: used.email, createdAt: now }).onConflictDoNothing({ target: t.accounts.email }))
    const account = (yield* get(tx.update(t.accounts).set({ lastSignInAt: now }).where(eq(t.accounts.email, used.email)).returning({ id: t.accounts.id, email: t.accounts.email })))!
    if (previousToken) yield* run(tx.delete(t.accountSessions).where(eq(t.accountSessions.id, sha256(previousToken))))
    yield* run(tx.insert(t.accountSessions).values({ id: sha256(sessionToken), accountId: account.id, expiresAt: now + IDLE_MS, createdAt: now }))
    yield* run(tx.delete(t.accountSessions).where(and(eq(t.accountSessions.accountId, account.id), lt(t.accountSessions.expiresAt, now))))
    return { token: sessionToken, account }
  })
}

/** The account a session cookie belongs to, sliding the session's expiry; null when not valid. */
export async function sessionFor(token: string | undefined, now = Date.now()): Promise<Account | null> {
  if (!token || !TOKEN.test(token)) return null
  const id = sha256(token)
  const row = await read(function* (db, t) {
    return yield* get(
      db
        .select({ accountId: t.accountSessions.accountId, expiresAt: t.accountSessions.expiresAt, createdAt: t.accountSessions.createdAt, email: t.accounts.email, stripeCustomerId: t.accounts.stripeCustomerId })
        .from(t.accountSessions)
        .innerJoin(t.accounts, eq(t.accounts.id, t.accountSessions.accountId))
        .where(eq(t.accountSessions.id, id)),
    )
  })
  if (!row || row.expiresAt <= now || row.createdAt <= now - ABSOLUTE_MS) return null
  // Slide, but write at most once an hour per session; never backwards, whichever server's request lands last.
  if (row.expiresAt < now + IDLE_MS - 3600_000) {
    await transaction(function* (tx, t) {
      yield* run(tx.update(t.accountSessions).set({ expiresAt: now + IDLE_MS }).where(and(eq(t.accountSessions.id, id), lt(t.accountSessions.expiresAt, now + IDLE_MS))))
    })
  }
  return { id: row.accountId, email: row.email, stripeCustomerId: row.stripeCustomerId, sessionId: id }
}

/** Signs this browser out. */
export async function endSession(token: string | undefined): Promise<void> {
  if (!token || !TOKEN.test(token)) return
  await transaction(function* (tx, t) {
    yield* run(tx.delete(t.accountSessions).where(eq(t.accountSessions.id, sha256(token))))
  })
}

/** Signs the account out on every device, this one included. */
export function endAllSessions(accountId: number): Promise<number> {
  return transaction(function* (tx, t) {
    return (yield* run(tx.delete(t.accountSessions).where(eq(t.accountSessions.accountId, accountId)))).changes
  })
}

function sessionCount(accountId: number, now = Date.now()): Promise<number> {
  return read(function* (db, t) {
    const row = yield* get(db.select({ n: count() }).from(t.accountSessions).where(and(eq(t.accountSessions.accountId, accountId), gt(t.accountSessions.expiresAt, now))))
    return Number(row!.n)
  })
}

/** Deletes sessions and links past their time (the nightly cleanup), as a step of the caller's transaction. */
export function* purgingExpired(tx: Writer, t: Tables, now: number): Steps<number> {
  const sessions = (yield* run(tx.delete(t.accountSessions).where(or(lt(t.accountSessions.expiresAt, now), lt(t.accountSessions.createdAt, now - ABSOLUTE_MS))))).changes
  const links = (yield* run(tx.delete(t.signInTokens).where(lt(t.signInTokens.expiresAt, now)))).changes
  return sessions + links
}

export type Overview = { orders: orders.OrderView[]; addresses: NonNullable<orders.OrderView['shippingAddress']>[] }

/** What /account shows: every order placed with the address, and the addresses shipped to. */
export async function overview(account: Pick<Account, 'email'>): Promise<Overview> {
  const list = await orders.listForEmail(account.email)
  const seen = new Set<string>()
  const addresses: Overview['addresses'] = []
  for (const order of list) {
    const address = order.shippingAddress
    if (!address) continue
    const key = formatAddress(address).join('\n').toLowerCase()
    if (key === '' || seen.has(key)) continue
    seen.add(key)
    addresses.push(address)
  }
  return { orders: list, addresses }
}

/** One of the account's orders (placed with its address), or null. */
export async function orderOf(account: Pick<Account, 'email'>, orderId: number): Promise<orders.OrderView | null> {
  const order = await orders.findById(orderId)
  return order && order.email?.trim().toLowerCase() === account.email ? order : null
}

/** Everything the shop keeps about the shopper, as they may download it. */
export async function exportData(account: Account, now = Date.now()) {
  const row = await findById(account.id)
  const activeSessions = await sessionCount(account.id, now)
  const { orders: list, addresses } = await overview(account)
  return {
    exportedAt: new Date(now).toISOString(),
    account: { email: account.email, createdAt: row ? new Date(row.createdAt).toISOString() : null, lastSignInAt: row?.lastSignInAt ? new Date(row.lastSignInAt).toISOString() : null, hasStripeCustomer: !!row?.stripeCustomerId, activeSessions },
    addresses,
    stockAlerts: (await stockAlerts.forEmail(account.email)).map((a) => ({ variantId: a.variantId, requestedAt: new Date(a.createdAt).toISOString(), sentAt: a.sentAt ? new Date(a.sentAt).toISOString() : null, isWithdrawn: a.unsubscribedAt !== null })),
    unsubscribedFrom: await optOuts.forEmail(account.email),
    orders: list.map((o) => ({
      number: o.id,
      placedAt: new Date(o.createdAt).toISOString(),
      status: o.status,
      currency: o.currency,
      totalCents: o.totalCents,
      subtotalCents: o.subtotalCents,
      shippingCents: o.shippingCents,
      taxCents: o.taxCents,
      discountCents: o.discountCents,
      refundedCents: o.refundedCents,
      email: o.email,
      name: o.customerName,
      shippingAddress: o.shippingAddress,
      paymentMethod: o.paymentMethod,
      carrier: o.carrier,
      trackingNumber: o.trackingNumber,
      lines: o.lines.map((l) => ({ title: l.title, sku: l.sku, quantity: l.quantity, unitAmountCents: l.unitAmountCents, totalCents: l.totalCents })),
    })),
  }
}

/**
 * Deletes the account: its sessions (every device is signed out), its links, and the row.
 * Orders stay, for the shop's books: they never pointed at the account, so nothing about
 * them changes.
 */
export function deleteAccount(accountId: number): Promise<boolean> {
  return transaction(function* (tx, t) {
    const row = yield* get(tx.delete(t.accounts).where(eq(t.accounts.id, accountId)).returning({ email: t.accounts.email }))
    if (!row) return false
    yield* run(tx.delete(t.accountSessions).where(eq(t.accountSessions.accountId, accountId)))
    yield* run(tx.delete(t.signInTokens).where(eq(t.signInTokens.email, row.email)))
    return true
  })
}

function findById(id: number) {
  return read(function* (db, t) {
    return (yield* get(db.select().from(t.accounts).where(eq(t.accounts.id, id)))) ?? null
  })
}

/** Keeps the Stripe Customer made for this account; the first one stored wins. */
export function setStripeCustomer(accountId: number, customerId: string): Promise<string> {
  return transaction(function* (tx, t) {
    yield* run(tx.update(t.accounts).set({ stripeCustomerId: customerId }).where(and(eq(t.accounts.id, accountId), isNull(t.accounts.stripeCustomerId))))
    return (yield* get(tx.select({ id: t.accounts.stripeCustomerId }).from(t.accounts).where(eq(t.accounts.id, accountId))))?.id ?? customerId
  })
}

// ---------------------------------------------------------------------------------------
// The cookie. Path / so checkout and the product pages' forms see it; HttpOnly, SameSite=Lax,
// Secure whenever the shop is served over https.

function cookieOptions() {
  return {
    httpOnly: true,
    secure: getEnv().appUrl.startsWith('https:'),
    sameSite: 'lax' as const,
    path: '/',
    maxAge: Math.floor(ABSOLUTE_MS / 1000),
  }
}

export async function cookieToken(): Promise<string | undefined> {
  return (await cookies()).get(COOKIE)?.value
}

/** The signed-in shopper, or null. Reading it makes a page dynamic: never on catalog pages. */
export async function current(): Promise<Account | null> {
  return sessionFor(await cookieToken())
}

/** Server actions only: sets the session cookie after sign-in. */
export async function setCookie(token: string): Promise<void> {
  ;(await cookies()).set(COOKIE, token, cookieOptions())
}

/** Server actions only: forgets the session cookie. */
export async function clearCookie(): Promise<void> {
  ;(await cookies()).set(COOKIE, '', { ...cookieOptions(), maxAge: 0 })
}
